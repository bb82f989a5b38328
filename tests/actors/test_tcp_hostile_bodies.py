"""Issue 14's leftovers on the TCP server, each performed by a small hostile client on
127.0.0.1:

* a peer of wire version 2 (bodies without ``merchant_id``) is refused once, at its
  hello, in one line naming both versions, and nothing it sends after is read;
* an authenticated POS's upload of 4 MiB of valid items (31k, the bound is 500) is refused
  without building one item, and the connection goes on being served; against the
  planted codec that structures first (``tests/planted/structure_first.py``), every item
  is built (the work counted, not timed: the machine is shared).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from protocol import (
    MAX_ITEMS_PER_PURCHASE,
    WIRE_VERSION,
    ErrorCode,
    ErrorReply,
    Item,
    UploadAck,
    encode_message,
)
from protocol._wire import _codec, _decode
from protocol.lowlevel import MAX_FRAME_BYTES
from tests.actors.test_tcp import Raw, cloud_server, codes, subscribed, to_cloud
from tests.builders import MERCHANT, POS, catalog_items, purchase
from tests.planted.structure_first import structure_body_first


def _frame(envelope: dict[str, Any]) -> bytes:
    payload = json.dumps(envelope, separators=(",", ":")).encode()
    return struct.pack(">I", len(payload)) + payload


# --------------------------------------------------------------------------- version 2


async def test_a_version_2_peer_is_refused_once_at_its_hello() -> None:
    hello = {"version": 2, "address": "phone:+8613800000001", "credential": ""}
    request = {"request_id": 1, "receipt_id": "R1", "phone_id": "+8613800000001"}
    old_peer = _frame({"v": 2, "id": 1, "type": "hello", "body": hello}) + b"".join(
        _frame({"v": 2, "id": n, "to": "cloud", "type": "association-request", "body": request})
        for n in range(2, 12)
    )
    with trio.fail_after(10):
        async with cloud_server() as (server, _):
            raw = await Raw.connect(server.port)
            await raw.send(old_peer)
            frames = await raw.until_closed()
            assert codes(frames) == [ErrorCode.UNSUPPORTED_VERSION]  # one, not one a message
            (refusal,) = frames
            assert isinstance(refusal.message, ErrorReply) and refusal.refers_to == 1
            assert refusal.message.detail == (
                f"unsupported wire version: the peer speaks 2, this side speaks {WIRE_VERSION}"
            )
            assert "\n" not in refusal.message.detail
            await subscribed(server.port)  # and the server goes on serving


# --------------------------------------------------------------------------- long lists


@pytest.fixture
def items_built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many Items the server built (every structuring path calls Item.__init__)."""
    count = [0]
    original = Item.__init__

    def counting(self: Item, *args: Any, **kwargs: Any) -> None:
        count[0] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(Item, "__init__", counting)
    yield count


def _hostile_upload() -> tuple[bytes, int]:
    """A frame just under 4 MiB: an upload of as many valid items as fit; and their count."""
    body = encode_message(purchase(*catalog_items("SKIN-FW-001"), receipt_id="R-huge"))["body"]
    item = body["items"][0]
    per_item = len(json.dumps(item, separators=(",", ":"))) + 1
    count = (MAX_FRAME_BYTES - 1000) // per_item
    body["items"] = [item] * count
    frame = _frame(
        {"v": WIRE_VERSION, "id": 2, "to": "cloud", "type": "purchase-upload", "body": body}
    )
    assert len(frame) - 4 <= MAX_FRAME_BYTES
    return frame, count


async def _upload_hostile_then_good(
    items_built: list[int],
) -> tuple[ErrorReply, int, int, UploadAck | None]:
    """A POS sends the hostile upload, then a good one: (the refusal, the hostile items,
    the Items the server built until it refused, the good one's acknowledgement)."""
    frame, count = _hostile_upload()
    good = to_cloud(purchase(*catalog_items("SKIN-FW-001"), receipt_id="R1"), 3)
    with trio.fail_after(20):
        async with cloud_server() as (server, _):
            pos = await Raw.connect(server.port, hello=POS)
            before = items_built[0]
            await pos.send(frame)
            refusal = (await pos.frame()).message
            built = items_built[0] - before
            assert isinstance(refusal, ErrorReply)
            await pos.send(good)
            ack = (await pos.frame()).message
            return refusal, count, built, ack if isinstance(ack, UploadAck) else None


async def test_an_upload_of_4_mib_of_items_is_refused_without_building_one(
    items_built: list[int],
) -> None:
    refusal, count, built, ack = await _upload_hostile_then_good(items_built)
    assert count > 60 * MAX_ITEMS_PER_PURCHASE
    assert refusal.code is ErrorCode.INVALID_MESSAGE
    assert f"{count} entries, at most {MAX_ITEMS_PER_PURCHASE}" in refusal.detail
    assert ack == UploadAck("R1", MERCHANT)  # the connection is still served
    assert built == 0


async def test_planted_a_codec_that_structures_first_builds_every_item(
    items_built: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_codec, "_structure_body", structure_body_first)
    monkeypatch.setattr(_decode, "_structure_body", structure_body_first)
    refusal, count, built, _ = await _upload_hostile_then_good(items_built)
    assert refusal.code is ErrorCode.INVALID_MESSAGE  # the same answer, at a price:
    assert built > count
