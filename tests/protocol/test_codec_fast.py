"""The generated fast codec (protocol/_wire/_fast.py) against the strict cattrs converter.

The codec structures a body with the generated function first and falls back to the
converter on any doubt; it unstructures with the generated function. The rule checked
here: the outcome is always the converter's. Valid messages round-trip to equal objects;
mutated bodies (a key dropped or added, a value replaced by any JSON value, nested ones
included) are accepted as the same object or refused with the same exception and message,
through :func:`~protocol.decode_message` and through the frame decoder; unstructuring
gives the converter's output exactly (same types, same key order).
"""

from __future__ import annotations

import copy
import enum
import functools
import json
import math
from collections.abc import Callable
from typing import Any, Final

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import (
    MESSAGE_TYPES,
    WIRE_VERSION,
    AssociatedProduct,
    ErrorCode,
    InvalidMessage,
    Item,
    Message,
    Offer,
    PromotionUpdate,
    PurchaseUpload,
    PushReason,
    Reason,
    RemoteProtocolError,
    UploadAck,
    decode_message,
    encode_message,
    message_type,
)
from protocol._core import _ids, _validators
from protocol._core._structuring import strict_converter
from protocol._wire import _codec, _decode, _envelope, _fast, _hello
from protocol.lowlevel import (
    Hello,
    HelloAck,
    InvalidBody,
    WireError,
    encode_envelope,
)
from tests.strategies import associated_products, items, message_types, offers, positive_ints

PHONE = "+8613800000001"
NESTED: Final = (Item, AssociatedProduct, Offer)
CONTROL: Final = {"hello": Hello, "hello-ack": HelloAck}

# --------------------------------------------------------------------------- references


def _reference_decode(name: str, body: dict[str, Any]) -> Message:
    """The body decoding of decode_message before the fast path: the converter alone."""
    try:
        message: Message = _codec._converter.structure(body, MESSAGE_TYPES[name])
    except Exception as exc:
        raise RemoteProtocolError(f"{name}: {_codec._describe(exc)}") from exc
    return message


def _reference_wire_body(name: str, body: dict[str, Any], frame_id: int) -> object:
    """The body decoding of the frame decoder before the fast path."""
    if name in MESSAGE_TYPES:
        try:
            return _reference_decode(name, body)
        except RemoteProtocolError as exc:
            raise InvalidBody(
                str(exc),
                frame_id=frame_id,
                receipt_id=_decode._token_or_none(body.get("receipt_id")),
                request_id=_decode._request_id_or_none(body.get("request_id")),
            ) from None
    try:
        control: object = _envelope._converter.structure(body, CONTROL[name])
    except Exception as exc:
        raise InvalidBody(f"{name}: {_envelope._describe(exc)}", frame_id=frame_id) from None
    return control


Outcome = tuple[str, object, str]


def _outcome(call: Callable[[], object]) -> Outcome:
    """What ``call`` gives: the value and its repr (so 1 != 1.0 and 0.0 != -0.0), or the
    exception's type and message (and a wire error's code and ids)."""
    try:
        value = call()
    except Exception as exc:
        detail = str(exc)
        if isinstance(exc, WireError):
            detail += repr((exc.code, exc.frame_id, exc.receipt_id, exc.request_id, exc.fatal))
        return ("refused", type(exc), detail)
    return ("accepted", value, repr(value))


def _same_structure(a: object, b: object) -> bool:
    """Equal, with the same types all the way down (list is not tuple, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(_same_structure(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        assert isinstance(b, list | tuple)
        return len(a) == len(b) and all(_same_structure(x, y) for x, y in zip(a, b, strict=True))
    return repr(a) == repr(b)


# --------------------------------------------------------------------------- strategies


WireMessage = Message | Hello | HelloAck


def wire_message_types() -> dict[type[Any], st.SearchStrategy[WireMessage]]:
    """Each class a frame carries with the strategy that draws it."""
    addresses = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:+@-]{0,30}", fullmatch=True)
    return {
        **message_types(),
        Hello: st.builds(
            Hello, version=positive_ints(), address=addresses, credential=st.text(max_size=40)
        ),
        HelloAck: st.builds(HelloAck, version=positive_ints(), address=addresses),
    }


WIRE_CLASSES: Final = list(wire_message_types())


def _type_name(message: WireMessage) -> str:
    if isinstance(message, Hello | HelloAck):
        return _hello._CONTROL_NAMES[type(message)]
    return message_type(message)


def _body_of(message: object) -> dict[str, Any]:
    converter = _envelope._converter if isinstance(message, Hello | HelloAck) else _codec._converter
    body: dict[str, Any] = converter.unstructure(message)
    return body


FIELD_NAMES: Final = sorted(
    {
        field.name
        for cls in (*MESSAGE_TYPES.values(), *NESTED, Hello, HelloAck)
        for field in attrs.fields(cls)
    }
)
ENUM_VALUES: Final = sorted({m.value for e in (Reason, PushReason, ErrorCode) for m in e})

_SPECIAL_NUMBERS: Final[list[int | float]] = [
    0,
    1,
    -1,
    2**53,
    2**63,
    10**400,  # no float holds it
    -(10**400),
    0.0,
    -0.0,
    0.5,
    -0.01,
    1e308,
    -1e308,
    5e-324,
    math.inf,
    -math.inf,
    math.nan,
]
_SPECIAL_TEXTS: Final = [
    "",
    " ",
    "x" * 65,
    "y" * 201,
    "z" * 401,
    "a b",
    ".r1",
    "SKU/1",
    "r-1",
    PHONE,
    "8613800000001",
    "+0613800000001",
    "+12345678",
    "pos:shop-01:pos-1",
    "\u00e9\u4e2d",
    *ENUM_VALUES,
    *FIELD_NAMES,
]


def json_scalars() -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.sampled_from(_SPECIAL_NUMBERS),
        st.text(max_size=30),
        st.sampled_from(_SPECIAL_TEXTS),
    )


def nested_bodies() -> st.SearchStrategy[object]:
    """Valid bodies of the nested classes (an item where a product belongs, ...)."""
    return st.one_of(items(), associated_products(), offers()).map(_codec._converter.unstructure)


def json_values() -> st.SearchStrategy[object]:
    return st.recursive(
        json_scalars() | nested_bodies(),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(
                st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=3
            ),
        ),
        max_leaves=6,
    )


Path = tuple[str | int, ...]


def _paths(node: object, path: Path = ()) -> list[Path]:
    """The path of ``node`` and of everything inside it."""
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*path, index))
    return out


def _at(node: Any, path: Path) -> Any:
    for step in path:
        node = node[step]
    return node


def _mutate(data: st.DataObject, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with 1 to 3 mutations anywhere in it: a key dropped or added, an entry
    dropped or added, a value replaced by any JSON value."""
    body = copy.deepcopy(body)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(_paths(body)), label="path")
        target = _at(body, path)
        container = _at(body, path[:-1]) if path else None
        ops = ["replace"] if path else []
        if path:
            ops.append("drop")
        if isinstance(target, dict | list):
            ops.append("add")
        op = data.draw(st.sampled_from(ops), label="op")
        if op == "replace":
            assert container is not None
            container[path[-1]] = data.draw(json_values(), label="value")
        elif op == "drop":
            assert container is not None
            del container[path[-1]]
        elif isinstance(target, dict):
            key = data.draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), label="key")
            target[key] = data.draw(json_values(), label="value")
        else:
            assert isinstance(target, list)
            target.append(data.draw(json_values(), label="value"))
    return body


# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize(
    "cls",
    [*MESSAGE_TYPES.values(), *NESTED, Hello, HelloAck],
    ids=lambda c: c.__name__,
)
def test_every_class_has_generated_functions(cls: type[Any]) -> None:
    """No class of the wire is left to the converter alone (it would only be slower)."""
    assert callable(_fast.structurer(cls))
    assert callable(_fast.unstructurer(cls))


def test_the_codec_uses_the_generated_functions() -> None:
    assert set(_codec._FAST_STRUCTURE) == set(MESSAGE_TYPES)
    assert set(_codec._FAST_UNSTRUCTURE) == set(MESSAGE_TYPES.values())
    assert (
        set(_envelope._CONTROL_STRUCTURE)
        == set(_envelope._CONTROL_UNSTRUCTURE)
        == {Hello, HelloAck}
    )


def test_unsupported_fields_leave_the_class_to_the_converter() -> None:
    @attrs.frozen
    class WithDict:
        mapping: dict[str, int]

    @attrs.frozen
    class WithFactory:
        names: tuple[str, ...] = attrs.field(factory=tuple)

    for cls in (WithDict, WithFactory):
        with pytest.raises(_fast.Unsupported):
            _fast.structurer(cls)
        with pytest.raises(_fast.Unsupported):
            _fast.unstructurer(cls)
    assert _fast.generated(_fast.structurer, (WithDict, Item)) == {Item: _fast.structurer(Item)}


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("cls", WIRE_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_valid_messages_round_trip_through_the_fast_path(
    cls: type[Any], data: st.DataObject
) -> None:
    message = data.draw(wire_message_types()[cls])
    unstructured = _fast.unstructurer(cls)(message)
    assert _same_structure(unstructured, _body_of(message))  # the converter's output
    body = json.loads(json.dumps(unstructured))  # as it comes off the wire
    fast = _fast.structurer(cls)(body)
    assert fast == message
    assert repr(fast) == repr(message)
    assert type(fast) is cls
    name = _type_name(message)
    envelope = encode_envelope(message, 3, recipient="cloud")
    assert envelope["type"] == name
    assert _same_structure(envelope["body"], unstructured)
    if isinstance(message, Hello | HelloAck):
        assert repr(_envelope._converter.structure(body, cls)) == repr(fast)
    else:
        assert repr(_reference_decode(name, body)) == repr(fast)
        assert decode_message({"v": WIRE_VERSION, "type": name, "body": body}) == message
        reference = {"v": WIRE_VERSION, "type": name, "body": _body_of(message)}
        assert _same_structure(encode_message(message), reference)
    payload = json.dumps({"v": WIRE_VERSION, "id": 3, "type": name, "body": body}).encode()
    assert _decode._decode(payload)[1] == message


@pytest.mark.parametrize("cls", NESTED, ids=lambda c: c.__name__)
@given(data=st.data())
def test_nested_classes_structure_as_the_converter_does(
    cls: type[Any], data: st.DataObject
) -> None:
    strategy = {Item: items(), AssociatedProduct: associated_products(), Offer: offers()}[cls]
    body = _codec._converter.unstructure(data.draw(strategy))
    if data.draw(st.booleans()):
        body = _mutate(data, body)
    fast = _outcome(lambda: _fast.structurer(cls)(body))
    slow = _outcome(lambda: _codec._converter.structure(body, cls))
    if fast[0] == "accepted":  # the fast path alone never accepts what the converter refuses
        assert fast == slow


def _check_same_outcome(name: str, body: dict[str, Any]) -> None:
    frame_id = 7
    cls = MESSAGE_TYPES.get(name) or CONTROL[name]
    converter = _codec._converter if name in MESSAGE_TYPES else _envelope._converter
    # The generated function alone: when it accepts, the converter accepts the same.
    alone = _outcome(lambda: _fast.structurer(cls)(body))
    if alone[0] == "accepted":
        assert alone == _outcome(lambda: converter.structure(body, cls))
    if name in MESSAGE_TYPES:
        envelope = {"v": WIRE_VERSION, "type": name, "body": body}
        expected = _outcome(lambda: _reference_decode(name, body))
        assert _outcome(lambda: decode_message(envelope)) == expected
    # Through the frame decoder, when JSON can carry the body (no NaN or infinity).
    try:
        payload = json.dumps(
            {"v": WIRE_VERSION, "id": frame_id, "type": name, "body": body}, allow_nan=False
        ).encode()
    except ValueError:
        return
    wire_body = json.loads(payload)["body"]
    expected_wire = _outcome(lambda: _reference_wire_body(name, wire_body, frame_id))
    decoded = _outcome(lambda: _decode._decode(payload)[1])
    assert decoded == expected_wire


@pytest.mark.parametrize("cls", WIRE_CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=40)
@given(data=st.data())
def test_mutated_bodies_have_the_converters_outcome(cls: type[Any], data: st.DataObject) -> None:
    message = data.draw(wire_message_types()[cls])
    _check_same_outcome(_type_name(message), _mutate(data, _body_of(message)))


@pytest.mark.parametrize("name", [*MESSAGE_TYPES, *CONTROL])
@settings(max_examples=15)
@given(data=st.data())
def test_bodies_of_any_json_have_the_converters_outcome(name: str, data: st.DataObject) -> None:
    """A body built from the class's own keys with arbitrary values (or a few missing)."""
    cls = MESSAGE_TYPES.get(name) or CONTROL[name]
    keys = [field.name for field in attrs.fields(cls)]
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True, min_size=len(keys) - 1))
    body = {key: data.draw(json_values(), label=key) for key in chosen}
    _check_same_outcome(name, body)


def _upload_body(**changes: Any) -> dict[str, Any]:
    upload = PurchaseUpload(
        "r-1", "shop-a", "pos-1", PHONE, (Item("SKU-1", "n", "c", "b", "", 1, 6.49),), 10.0
    )
    body = _codec._converter.unstructure(upload)
    assert isinstance(body, dict)
    body.update(changes)
    return body


def _item_body(**changes: Any) -> dict[str, Any]:
    return {**_upload_body()["items"][0], **changes}


def _any_keys(body: dict[Any, Any]) -> dict[str, Any]:
    """``body``, whose keys are not all text on purpose (decode_message takes any dict)."""
    return body


class _Text(str):
    """A str subclass: a JSON decoder never makes one, the converter refuses it."""


EDGE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("int price becomes a float", "purchase-upload", _upload_body(items=[_item_body(price=6)])),
    ("negative zero time", "purchase-upload", _upload_body(purchased_at=-0.0)),
    ("negative zero price", "purchase-upload", _upload_body(items=[_item_body(price=-0.0)])),
    ("huge int time", "purchase-upload", _upload_body(purchased_at=10**400)),
    ("largest float time", "purchase-upload", _upload_body(purchased_at=1.7976931348623157e308)),
    ("bool time", "purchase-upload", _upload_body(purchased_at=True)),
    ("nan time", "purchase-upload", _upload_body(purchased_at=math.nan)),
    ("bool quantity", "purchase-upload", _upload_body(items=[_item_body(quantity=True)])),
    ("float quantity", "purchase-upload", _upload_body(items=[_item_body(quantity=1.0)])),
    ("items a tuple", "purchase-upload", _upload_body(items=(_item_body(),))),
    ("items a dict", "purchase-upload", _upload_body(items={"0": _item_body()})),
    ("items text", "purchase-upload", _upload_body(items="abc")),
    ("item a list", "purchase-upload", _upload_body(items=[list(_item_body().values())])),
    ("item extra key", "purchase-upload", _upload_body(items=[_item_body(size="L")])),
    ("str subclass", "upload-ack", {"receipt_id": _Text("r-1")}),
    ("empty body", "upload-ack", {}),
    ("non-str key", "upload-ack", _any_keys({"receipt_id": "r-1", 1: 2})),
    ("null optional", "subscribe-ack", {"phone_id": PHONE, "device_token": None}),
    ("absent optional", "subscribe-ack", {"phone_id": PHONE}),
    ("empty optional", "subscribe-ack", {"phone_id": PHONE, "device_token": ""}),
    ("enum by value", "error-reply", {"code": "timeout", "detail": "d"}),
    ("enum of another kind", "error-reply", {"code": PushReason.TIMEOUT, "detail": "d"}),
    ("unknown enum value", "error-reply", {"code": "bored", "detail": "d"}),
    ("unhashable enum value", "error-reply", {"code": ["timeout"], "detail": "d"}),
    ("bool request id", "error-reply", {"code": "timeout", "detail": "d", "request_id": False}),
    ("popular not text", "promotion-update", {"merchant_id": "m", "popular": [1], "offers": []}),
    ("popular a tuple", "promotion-update", {"merchant_id": "m", "popular": ("a",), "offers": []}),
    ("popular bad sku", "promotion-update", {"merchant_id": "m", "popular": ["a b"], "offers": []}),
    ("hello without credential", "hello", {"version": 3, "address": "cloud"}),
    ("hello bad address", "hello", {"version": 3, "address": "no spaces"}),
    ("hello-ack extra", "hello-ack", {"version": 3, "address": "cloud", "credential": ""}),
]


@pytest.mark.parametrize(
    ("name", "body"), [(n, b) for _, n, b in EDGE_CASES], ids=[i for i, _, _ in EDGE_CASES]
)
def test_edge_cases_have_the_converters_outcome(name: str, body: dict[str, Any]) -> None:
    _check_same_outcome(name, body)


def test_a_dict_subclass_body_is_left_to_the_converter(monkeypatch: pytest.MonkeyPatch) -> None:
    class Body(dict[str, Any]):
        pass

    body = Body(receipt_id="r-1", merchant_id="shop-a")
    with pytest.raises(_fast.Refused):
        _fast.structurer(MESSAGE_TYPES["upload-ack"])(body)
    monkeypatch.setattr(_fast, "_warned", set())  # warned once per process: see this one
    # Accepted by the converter alone: legitimate (no JSON decoder makes one), yet seen.
    with pytest.warns(_fast.FastPathWarning, match="UploadAck raised Refused"):
        decoded = decode_message({"v": WIRE_VERSION, "type": "upload-ack", "body": body})
    assert decoded == _reference_decode("upload-ack", body)


# --------------------------------------------------------------------------- no validators
# The message classes validate their fields, which hides a lax generated check (a NaN
# accepted as a float would still be refused by the class). These classes have no
# validators: whatever the generated function accepts must be the converter's result.


class _Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class _Inner:
    n: int
    x: float


@attrs.frozen
class _Everything:
    s: str
    i: int
    b: bool
    f: float
    c: _Colour
    inner: _Inner
    strs: tuple[str, ...]
    floats: tuple[float, ...]
    colours: tuple[_Colour, ...]
    inners: tuple[_Inner, ...]
    maybe_text: str | None = None
    maybe_colour: _Colour | None = None
    maybe_inner: _Inner | None = None
    maybe_float: float | None = None
    named: str = "default"


def _inners() -> st.SearchStrategy[_Inner]:
    return st.builds(_Inner, n=st.integers(), x=st.floats(allow_nan=False, allow_infinity=False))


def _everythings() -> st.SearchStrategy[_Everything]:
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return st.builds(
        _Everything,
        s=st.text(max_size=5),
        i=st.integers(),
        b=st.booleans(),
        f=finite,
        c=st.sampled_from(_Colour),
        inner=_inners(),
        strs=st.lists(st.text(max_size=3), max_size=3).map(tuple),
        floats=st.lists(finite, max_size=3).map(tuple),
        colours=st.lists(st.sampled_from(_Colour), max_size=3).map(tuple),
        inners=st.lists(_inners(), max_size=2).map(tuple),
        maybe_text=st.none() | st.text(max_size=3),
        maybe_colour=st.none() | st.sampled_from(_Colour),
        maybe_inner=st.none() | _inners(),
        maybe_float=st.none() | finite,
        named=st.text(max_size=3),
    )


_plain_converter = strict_converter()


@settings(max_examples=150)
@given(data=st.data())
def test_generated_functions_without_validators_behind_them(data: st.DataObject) -> None:
    value = data.draw(_everythings())
    unstructured = _fast.unstructurer(_Everything)(value)
    assert _same_structure(unstructured, _plain_converter.unstructure(value))
    assert _fast.structurer(_Everything)(unstructured) == value
    body = dict(unstructured)
    for key in data.draw(st.lists(st.sampled_from(sorted(body)), unique=True), label="defaults"):
        if key in ("maybe_text", "maybe_colour", "maybe_inner", "maybe_float", "named"):
            del body[key]  # the default, then
    if data.draw(st.booleans(), label="mutate"):
        body = _mutate(data, body)
    fast = _outcome(lambda: _fast.structurer(_Everything)(body))
    if fast[0] == "accepted":
        assert fast == _outcome(lambda: _plain_converter.structure(body, _Everything))


EVERYTHING: Final = _plain_converter.unstructure(
    _Everything("s", 1, True, 1.5, _Colour.RED, _Inner(1, 2.0), ("a",), (1.0,), (), ())
)


@pytest.mark.parametrize(
    "changes",
    [
        {"f": math.nan},
        {"f": math.inf},
        {"f": 10**400},
        {"f": True},
        {"f": 2},
        {"i": True},
        {"i": 1.0},
        {"b": 1},
        {"s": _Text("s")},
        {"c": "green"},
        {"c": ["red"]},
        {"strs": "abc"},
        {"strs": ("a", "b")},
        {"strs": {"a": 1}},
        {"floats": [1, 2.5, -0.0]},
        {"floats": [math.nan]},
        {"colours": ["red", "blue"]},
        {"colours": "red"},
        {"inners": [{"n": 1, "x": 1}]},
        {"inners": [{"n": 1}]},
        {"inner": {"n": 1, "x": 1.0, "y": 2}},
        {"inner": None},
        {"maybe_colour": "blue"},
        {"maybe_colour": "green"},
        {"maybe_inner": {"n": 1, "x": 3}},
        {"maybe_float": 1},
        {"maybe_float": math.inf},
        {"maybe_text": 1},
        {"named": None},
        {"extra": 1},
    ],
    ids=repr,
)
def test_each_json_type_rule_without_validators(changes: dict[str, Any]) -> None:
    body = {**EVERYTHING, **changes}
    fast = _outcome(lambda: _fast.structurer(_Everything)(body))
    slow = _outcome(lambda: _plain_converter.structure(body, _Everything))
    assert fast[0] == slow[0]  # here the generated checks are as strict as the converter
    if fast[0] == "accepted":
        assert fast == slow


def test_defaults_without_validators() -> None:
    body = {k: v for k, v in EVERYTHING.items() if not k.startswith("maybe_") and k != "named"}
    assert _fast.structurer(_Everything)(body) == _plain_converter.structure(body, _Everything)
    assert _fast.structurer(_Everything)(body).named == "default"
    with pytest.raises(KeyError):
        _fast.structurer(_Everything)({k: v for k, v in body.items() if k != "s"})


# --------------------------------------------------------------------------- unstructure


@pytest.mark.parametrize("cls", NESTED, ids=lambda c: c.__name__)
@given(data=st.data())
def test_nested_classes_unstructure_as_the_converter_does(
    cls: type[Any], data: st.DataObject
) -> None:
    strategy = {Item: items(), AssociatedProduct: associated_products(), Offer: offers()}[cls]
    value = data.draw(strategy)
    assert _same_structure(_fast.unstructurer(cls)(value), _codec._converter.unstructure(value))


def test_unstructuring_errors_are_the_converters() -> None:
    """An instance built around its validators fails exactly as the converter does."""
    broken = PromotionUpdate("m", (), ())
    object.__setattr__(broken, "offers", None)  # what no validated message can hold
    with pytest.raises(TypeError) as fast:
        encode_message(broken)
    with pytest.raises(TypeError) as slow:
        _codec._converter.unstructure(broken)
    assert str(fast.value) == str(slow.value)


# --------------------------------------------------------------------------- validators


def test_known_ids_skip_the_pattern_but_not_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_ids, "_known_tokens", set())
    monkeypatch.setattr(_ids, "_known_phone_ids", set())
    monkeypatch.setattr(_ids, "_MAX_KNOWN", 3)
    assert _ids.is_token("r-1")
    assert _ids.is_token("r-1")
    assert _ids._known_tokens == {"r-1"}
    assert not _ids.is_token("r 1")
    assert not _ids.is_token(1)
    assert _ids.is_token(_Text("r-2"))  # well-formed, but a subclass is never remembered
    assert _ids._known_tokens == {"r-1"}
    for token in ("a", "b", "c"):
        assert _ids.is_token(token)
    assert len(_ids._known_tokens) <= 3  # bounded: emptied when full
    assert _ids.is_phone_id(PHONE)
    assert _ids._known_phone_ids == {PHONE}
    assert not _ids.is_phone_id("+0613800000001")
    with pytest.raises(InvalidMessage, match=r"UploadAck\.receipt_id: malformed id 'r 1'"):
        UploadAck("r 1", "shop-a")


def _old_text(max_length: int, allow_empty: bool, value: Any) -> str | None:
    """The message of the text validator before its fast path (None: valid)."""
    if not isinstance(value, str):
        return f"expected text, got {value!r}"
    if not value and not allow_empty:
        return "must not be empty"
    if len(value) > max_length:
        return f"{len(value)} characters, at most {max_length}"
    return None


def _old_number(minimum: float, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {value!r}"
    if not math.isfinite(value) or value < minimum:
        return f"must be a finite number >= {minimum}, got {value!r}"
    return None


def _old_positive(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return f"must be a whole number > 0, got {value!r}"
    return None


def _old_instance_of(types: tuple[type, ...], value: Any) -> str | None:
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        return f"expected {' or '.join(t.__name__ for t in types)}, got {value!r}"
    return None


def _old_tuple_of(item_type: type, max_length: int, value: Any) -> str | None:
    if not isinstance(value, tuple):
        return f"expected a tuple, got {value!r}"
    if len(value) > max_length:
        return f"{len(value)} entries, at most {max_length}"
    for entry in value:
        if not isinstance(entry, item_type):
            return f"expected {item_type.__name__} entries, got {entry!r}"
    return None


@attrs.frozen
class _Owner:
    field: object


_FIELD: Final = attrs.fields(_Owner).field


def _run(check: Callable[[], str | None]) -> tuple[object, str | None]:
    """What a validator (or its old version) says: its exception's type and message,
    with the owner's prefix cut, or (None, None) when the value is valid."""
    try:
        message = check()
    except Exception as exc:
        return type(exc), str(exc).removeprefix("_Owner.field: ")
    return (None, None) if message is None else (InvalidMessage, message)


def _new(validator: _validators.Validator, value: Any) -> Callable[[], str | None]:
    def check() -> None:
        validator(_Owner(None), _FIELD, value)

    return check


_VALIDATOR_EDGES: Final[list[object]] = [
    *_SPECIAL_NUMBERS,
    *_SPECIAL_TEXTS,
    None,
    True,
    False,
    Reason.OFFER,
    ErrorCode.TIMEOUT,
    _Text("x"),
    _Text(""),
    (),
    ("a",),
    ("a", "b"),
    (1, 2),
    (1, 2, 3),
    (True,),
    (_Text("a"),),
    (Reason.OFFER,),
    ("a", 1),
    [1],
    "abc",
    "abcd",
]


@pytest.mark.parametrize("value", _VALIDATOR_EDGES, ids=repr)
def test_validators_at_the_edges_accept_and_refuse_as_before(value: Any) -> None:
    _check_validators(value)


@given(
    st.one_of(
        json_scalars(),
        st.sampled_from([True, False, Reason.OFFER, ErrorCode.TIMEOUT, _Text("x")]),
        st.lists(json_scalars(), max_size=3).map(tuple),
    )
)
def test_validators_accept_and_refuse_as_before(value: Any) -> None:
    _check_validators(value)


def _check_validators(value: Any) -> None:
    """Each validator's verdict on ``value`` is that of its version before the fast path."""
    for max_length, allow_empty in ((3, False), (200, True)):
        assert _run(_new(_validators.text(max_length, allow_empty=allow_empty), value)) == _run(
            functools.partial(_old_text, max_length, allow_empty, value)
        )
    for minimum in (0.0, float("-inf")):
        assert _run(_new(_validators.finite_number(minimum=minimum), value)) == _run(
            functools.partial(_old_number, minimum, value)
        )
    assert _run(_new(_validators.positive_int, value)) == _run(lambda: _old_positive(value))
    for item_type, max_length in ((str, 1), (int, 2)):
        assert _run(_new(_validators.tuple_of(item_type, max_length=max_length), value)) == _run(
            functools.partial(_old_tuple_of, item_type, max_length, value)
        )
    for types in ((Reason,), (int,), (int, bool), (str, float)):
        assert _run(_new(_validators.instance_of(*types), value)) == _run(
            functools.partial(_old_instance_of, types, value)
        )
