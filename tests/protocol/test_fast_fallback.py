"""The generated codec functions (protocol/_wire/_fast.py) do the work, and a fall back to the
converter is counted and, where it should not happen, seen.

With the converters of the codec and the wire replaced by ones that fail, every valid
message of every type must still encode and decode, through the codec and through frames:
the fast path alone. A generated function that raises where the converter succeeds (here
simulated) warns :class:`~protocol._wire._fast.FastPathWarning` and counts; a bad body falls back
to the converter's refusal, counted, with no warning.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import (
    MESSAGE_TYPES,
    WIRE_VERSION,
    Message,
    RemoteProtocolError,
    UploadAck,
    decode_json,
    encode_json,
    message_type,
)
from protocol._wire import _codec, _fast
from protocol._wire import _envelope as _wire_envelope
from protocol.lowlevel import (
    FrameDecoder,
    Hello,
    HelloAck,
    encode_frame,
)
from tests.strategies import message_types

CONTROL = {
    Hello: st.builds(
        Hello, version=st.integers(1, 9), address=st.just("cloud"), credential=st.text()
    ),
    HelloAck: st.builds(HelloAck, version=st.integers(1, 9), address=st.just("pos:shop-1:1")),
}
WIRE: dict[type[Any], st.SearchStrategy[Any]] = {**message_types(), **CONTROL}
_Key = tuple[_fast.Direction, str, _fast.Outcome]


class _NoConverter:
    """Stands in for the converters: any use of the slow path fails the test."""

    def structure(self, body: object, cls: object) -> NoReturn:
        raise AssertionError(f"the converter structured a {cls!r}: the fast path was not taken")

    def unstructure(self, value: object) -> NoReturn:
        raise AssertionError(f"the converter unstructured {value!r}: the fast path was not taken")


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each warning once per process: forget which were given, so this test sees its own."""
    monkeypatch.setattr(_fast, "_warned", set())
    yield


def test_every_message_type_has_a_strategy() -> None:
    assert set(message_types()) == set(MESSAGE_TYPES.values())


@pytest.mark.parametrize("cls", list(WIRE), ids=lambda c: c.__name__)
@given(data=st.data())
def test_the_fast_path_is_taken_for_every_message_type(cls: type[Any], data: st.DataObject) -> None:
    message = data.draw(WIRE[cls])
    before = _fast.fallbacks.copy()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_codec, "_converter", _NoConverter())
        patch.setattr(_wire_envelope, "_converter", _NoConverter())
        if not isinstance(message, Hello | HelloAck):
            assert decode_json(encode_json(message)) == message
        decoder = FrameDecoder()
        decoder.feed(encode_frame(message, 1, sender="cloud", recipient="phone:+8613800000001"))
        assert [frame.message for frame in decoder.frames()] == [message]
    assert _fast.fallbacks == before


def _envelope(message: Message) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(encode_json(message))
    return envelope


@pytest.mark.usefixtures("fresh_warnings")
def test_a_structure_fallback_that_the_converter_accepts_warns_and_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(body: object) -> NoReturn:
        raise NameError("a bug in the generated code")

    monkeypatch.setitem(_codec._FAST_STRUCTURE, "upload-ack", broken)
    key: _Key = ("structure", "UploadAck", "accepted")
    before = _fast.fallbacks[key]
    with pytest.warns(_fast.FastPathWarning, match=r"UploadAck raised NameError\('a bug"):
        assert _codec.decode_message(_envelope(UploadAck("r-1", "shop-a"))) == UploadAck(
            "r-1", "shop-a"
        )
    assert _fast.fallbacks[key] == before + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per class and direction: no second warning
        assert _codec.decode_message(_envelope(UploadAck("r-2", "shop-a"))) == UploadAck(
            "r-2", "shop-a"
        )
    assert _fast.fallbacks[key] == before + 2


@pytest.mark.usefixtures("fresh_warnings")
def test_an_unstructure_fallback_warns_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(message: object) -> NoReturn:
        raise TypeError("a bug in the generated code")

    monkeypatch.setitem(_codec._FAST_UNSTRUCTURE, UploadAck, broken)
    monkeypatch.setitem(_wire_envelope._CONTROL_UNSTRUCTURE, Hello, broken)
    with pytest.warns(_fast.FastPathWarning, match="unstructure function of UploadAck"):
        assert _envelope(UploadAck("r-1", "shop-a"))["body"] == {
            "receipt_id": "r-1",
            "merchant_id": "shop-a",
        }
    hello = Hello(WIRE_VERSION, "cloud", "secret")
    with pytest.warns(_fast.FastPathWarning, match="unstructure function of Hello"):
        encode_frame(hello, 1)
    upload_ack: _Key = ("unstructure", "UploadAck", "accepted")
    hello_key: _Key = ("unstructure", "Hello", "accepted")
    assert _fast.fallbacks[upload_ack] >= 1 and _fast.fallbacks[hello_key] >= 1


def test_a_bad_body_falls_back_to_the_refusal_counted_without_warning() -> None:
    key: _Key = ("structure", "UploadAck", "refused")
    before = _fast.fallbacks[key]
    envelope = {"v": WIRE_VERSION, "type": message_type(UploadAck("r-1", "shop-a")), "body": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RemoteProtocolError, match="upload-ack"):
            _codec.decode_message(envelope)
    assert _fast.fallbacks[key] == before + 1
