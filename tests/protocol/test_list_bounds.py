"""Every list of a message body is refused by its length before any entry is built.

Issue 14's leftover: a 4 MiB upload of valid items (31k of them) took 270 ms to refuse
because every item was structured (twice: the generated function, then the converter)
before the message's validator saw the length. The work is counted here as entries
built, not as time: with the check, none; with the planted codec that structures first
(``tests/planted/structure_first.py``), every one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from protocol import (
    AssociatedProduct,
    InvalidMessage,
    Item,
    Offer,
    RemoteProtocolError,
    decode_message,
    encode_message,
)
from protocol._core._messages import MAX_ENTRIES
from protocol._wire import _codec, _decode
from protocol._wire._lengths import list_bounds
from protocol.lowlevel import InvalidBody, decode_payload
from tests.planted.structure_first import structure_body_first
from tests.protocol.test_wire_format_doc import _examples

# (wire type, list field, the class of its entries or None for text)
LISTS = [
    ("purchase-upload", "items", Item),
    ("association-response", "products", AssociatedProduct),
    ("association-push", "products", AssociatedProduct),
    ("promotion-update", "popular", None),
    ("promotion-update", "offers", Offer),
]


def test_every_list_of_every_message_is_bounded_and_listed_here() -> None:
    assert {(name, key) for name, key, _ in LISTS} == {
        (name, key) for name, bounds in _codec._LIST_BOUNDS.items() for key, _ in bounds
    }


def _example(name: str) -> dict[str, Any]:
    (example,) = [e for e in _examples() if e["type"] == name and "id" not in e]
    return copy.deepcopy(example)


def _with_entries(name: str, key: str, count: int) -> dict[str, Any]:
    """The document's example of ``name`` with ``count`` copies of its first ``key`` entry."""
    example = _example(name)
    example["body"][key] = [example["body"][key][0]] * count
    return example


def _bound(name: str, key: str) -> int:
    return dict(_codec._LIST_BOUNDS[name])[key]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[type, int]]:
    """Entry class -> how many instances were built (every path calls its __init__)."""
    counts = {cls: 0 for _, _, cls in LISTS if cls is not None}
    for cls in counts:
        original = cls.__dict__["__init__"]

        def counting(
            self: Any, *args: Any, _cls: type = cls, _init: Any = original, **kw: Any
        ) -> None:
            counts[_cls] += 1
            _init(self, *args, **kw)

        monkeypatch.setattr(cls, "__init__", counting)
    yield counts


@pytest.mark.parametrize(("name", "key", "entry"), LISTS)
def test_a_list_at_its_bound_is_read(name: str, key: str, entry: type | None) -> None:
    at_bound = _with_entries(name, key, _bound(name, key))
    assert encode_message(decode_message(at_bound)) == at_bound


@pytest.mark.parametrize(("name", "key", "entry"), LISTS)
def test_a_list_past_its_bound_is_refused_before_an_entry_is_built(
    name: str, key: str, entry: type | None, built: dict[type, int]
) -> None:
    most = _bound(name, key)
    cls = _codec.MESSAGE_TYPES[name].__name__
    hostile = _with_entries(name, key, 20 * most)
    words = f"{name}: {cls}.{key}: {20 * most} entries, at most {most}"
    with pytest.raises(RemoteProtocolError) as caught:
        decode_message(hostile)
    assert str(caught.value) == words  # as the message's validator says it
    payload = json.dumps({**hostile, "id": 2, "to": "cloud"}).encode()
    with pytest.raises(InvalidBody) as frame_refusal:
        decode_payload(payload)
    assert frame_refusal.value.detail == words
    assert sum(built.values()) == 0


def test_planted_a_codec_that_structures_first_builds_every_entry(
    monkeypatch: pytest.MonkeyPatch, built: dict[type, int]
) -> None:
    monkeypatch.setattr(_codec, "_structure_body", structure_body_first)
    monkeypatch.setattr(_decode, "_structure_body", structure_body_first)
    hostile = _with_entries("purchase-upload", "items", 20 * _bound("purchase-upload", "items"))
    with pytest.raises(RemoteProtocolError, match="entries, at most"):
        decode_message(hostile)
    assert built[Item] >= 20 * _bound("purchase-upload", "items")  # the work the check saves


def test_the_validators_enforce_the_same_bounds() -> None:
    for name, key, _ in LISTS:
        message = decode_message(_with_entries(name, key, 1))
        entries = getattr(message, key) * (_bound(name, key) + 1)
        with pytest.raises(InvalidMessage, match=f"{key}: {len(entries)} entries"):
            attrs.evolve(message, **{key: entries})


@attrs.frozen
class _Unbounded:
    skus: tuple[str, ...] = attrs.field()


@attrs.frozen
class _Entry:
    tags: tuple[str, ...] = attrs.field(metadata={MAX_ENTRIES: 3})


@attrs.frozen
class _Nested:
    entries: tuple[_Entry, ...] = attrs.field(metadata={MAX_ENTRIES: 3})


def test_a_list_without_a_bound_or_inside_an_entry_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="a list without MAX_ENTRIES"):
        list_bounds(_Unbounded)
    with pytest.raises(TypeError, match="a list inside a nested class"):
        list_bounds(_Nested)
    assert list_bounds(_Entry) == (("tags", 3),)
