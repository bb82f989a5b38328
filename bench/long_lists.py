"""The refusal of an over-long list against the parse of its JSON (issue 14's leftover).

Run from the repository root::

    .venv/bin/python bench/long_lists.py [--rounds N]

One frame just under 4 MiB: a ``purchase-upload`` of as many valid items as fit (about
31k; the bound is 500), as an authenticated POS may send. In the same run, the best of N
rounds (default 5) of the CPU time of: ``orjson.loads`` of the payload (the least any
reader pays), the connections' decoding of it (refused: lengths checked before
structuring), and the same decoding with the planted codec that structures every item
before the length is checked (``tests/planted/structure_first.py``, the code before).
Items built per refusal are counted too. Ratios are against the parse.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from protocol import WIRE_VERSION, Item
from protocol._wire import _decode
from protocol.lowlevel import MAX_FRAME_BYTES, WireError, decode_payload
from tests.planted.structure_first import structure_body_first

ITEM = {
    "sku": "SKIN-FW-001",
    "name": "Hydra Gentle Face Wash 150ml",
    "category": "face-wash",
    "brand": "Hydra",
    "colour": "white",
    "quantity": 1,
    "price": 6.5,
}


def hostile_payload() -> tuple[bytes, int]:
    per_item = len(json.dumps(ITEM, separators=(",", ":"))) + 1
    count = (MAX_FRAME_BYTES - 1000) // per_item
    body = {
        "receipt_id": "R1",
        "merchant_id": "shop-01",
        "pos_id": "pos-1",
        "phone_id": "+8613800000001",
        "items": [ITEM] * count,
        "purchased_at": 1.0,
    }
    envelope = {"v": WIRE_VERSION, "id": 2, "to": "cloud", "type": "purchase-upload"}
    return json.dumps({**envelope, "body": body}, separators=(",", ":")).encode(), count


def best_cpu(call: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def refuse(payload: bytes) -> None:
    try:
        decode_payload(payload)
    except WireError:
        return
    raise AssertionError("the hostile upload was accepted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    payload, count = hostile_payload()
    built = [0]
    original = Item.__dict__["__init__"]

    def counting(self: Item, *args: Any, **kwargs: Any) -> None:
        built[0] += 1
        original(self, *args, **kwargs)

    with mock.patch.object(Item, "__init__", counting):  # count the Items decoding builds
        parse = best_cpu(lambda: orjson.loads(payload), rounds)
        built[0] = 0
        checked = best_cpu(lambda: refuse(payload), rounds)
        checked_built = built[0] // rounds
        with mock.patch.object(_decode, "_structure_body", structure_body_first):  # planted
            built[0] = 0
            structuring = best_cpu(lambda: refuse(payload), rounds)
            structuring_built = built[0] // rounds
    print(f"payload {len(payload):,} bytes, {count:,} valid items (bound 500)")
    print(f"CPU time, best of {rounds} (on a shared machine: compare the ratios)")
    print(f"  orjson.loads alone          {parse * 1e3:7.1f} ms   1.00x")
    print(
        f"  refused, lengths first      {checked * 1e3:7.1f} ms  {checked / parse:5.2f}x"
        f"   items built {checked_built:,}"
    )
    print(
        f"  refused, structuring first  {structuring * 1e3:7.1f} ms  {structuring / parse:5.2f}x"
        f"   items built {structuring_built:,}  (planted: the code before)"
    )


if __name__ == "__main__":
    main()
