"""Message validation (protocol._core._messages) and the wire codec (protocol._wire._codec)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import (
    MAX_ITEMS_PER_PURCHASE,
    MAX_PRODUCTS_PER_DELIVERY,
    MESSAGE_TYPES,
    WIRE_VERSION,
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorCode,
    ErrorReply,
    InvalidMessage,
    Item,
    LocalProtocolError,
    Message,
    NoticeAck,
    Offer,
    PromotionAck,
    PromotionUpdate,
    ProtocolError,
    PurchaseUpload,
    PushAck,
    PushReason,
    Reason,
    ReceiptNotice,
    RemoteProtocolError,
    Subscribe,
    SubscribeAck,
    UploadAck,
    decode_json,
    decode_message,
    encode_json,
    encode_message,
    message_type,
)
from tests.strategies import MAX_TEXT_LENGTH, message_types, messages

PHONE = "+8613800000001"


def ill_typed(value: object) -> Any:
    """``value`` passed where another type is declared, on purpose: validation must refuse it."""
    return value


def _item(**changes: Any) -> Item:
    fields: dict[str, Any] = {
        "sku": "SKIN-FW-001",
        "name": "Gentle Face Wash 150ml",
        "category": "face-wash",
        "brand": "Hydra",
        "colour": "",
        "quantity": 1,
        "price": 6.49,
    }
    fields.update(changes)
    return Item(**fields)


def _upload(**changes: Any) -> PurchaseUpload:
    fields: dict[str, Any] = {
        "receipt_id": "r-1",
        "merchant_id": "shop-a",
        "pos_id": "pos-1",
        "phone_id": PHONE,
        "items": (_item(),),
        "purchased_at": 10.0,
    }
    fields.update(changes)
    return PurchaseUpload(**fields)


def _product(**changes: Any) -> AssociatedProduct:
    fields: dict[str, Any] = {
        "sku": "SKIN-LO-001",
        "name": "Hydra Moisturising Lotion 200ml",
        "category": "lotion",
        "brand": "Hydra",
        "colour": "",
        "price": 8.49,
        "reason": Reason.COMPLEMENT,
        "score": 1.15,
    }
    fields.update(changes)
    return AssociatedProduct(**fields)


# --------------------------------------------------------------------------- validation

INVALID: list[tuple[str, Callable[[], object], str]] = [
    ("empty items", lambda: _upload(items=()), "items"),
    ("items as a list", lambda: _upload(items=[_item()]), "items"),
    ("items not Item", lambda: _upload(items=({"sku": "x"},)), "items"),
    (
        "too many items",
        lambda: _upload(items=(_item(),) * (MAX_ITEMS_PER_PURCHASE + 1)),
        "items",
    ),
    ("phone id without +", lambda: Subscribe("8613800000001"), "phone_id"),
    ("phone id leading zero", lambda: Subscribe("+0613800000001"), "phone_id"),
    ("phone id too short", lambda: SubscribeAck("+1234567"), "phone_id"),
    ("phone id too long", lambda: Subscribe("+1234567890123456"), "phone_id"),
    ("phone id with letters", lambda: _upload(phone_id="+86138000000AB"), "phone_id"),
    ("phone id not text", lambda: Subscribe(ill_typed(8613800000001)), "phone_id"),
    ("zero quantity", lambda: _item(quantity=0), "quantity"),
    ("negative quantity", lambda: _item(quantity=-3), "quantity"),
    ("fractional quantity", lambda: _item(quantity=1.5), "quantity"),
    ("boolean quantity", lambda: _item(quantity=True), "quantity"),
    ("negative price", lambda: _item(price=-0.01), "price"),
    ("NaN price", lambda: _item(price=math.nan), "price"),
    ("infinite price", lambda: Offer("SKU-1", "2 for 1", math.inf), "price"),
    ("price as text", lambda: _item(price="6.49"), "price"),
    ("NaN purchase time", lambda: _upload(purchased_at=math.nan), "purchased_at"),
    ("NaN score", lambda: _product(score=math.nan), "score"),
    ("too long name", lambda: _item(name="x" * (MAX_TEXT_LENGTH + 1)), "name"),
    ("empty brand", lambda: _item(brand=""), "brand"),
    ("too long offer", lambda: _product(offer="y" * (MAX_TEXT_LENGTH + 1)), "offer"),
    ("too long detail", lambda: ErrorReply(ErrorCode.NOT_SUBSCRIBED, "d" * 401), "detail"),
    ("receipt id with space", lambda: UploadAck("r 1", "shop-a"), "receipt_id"),
    ("receipt id empty", lambda: AssociationRequest(1, "", "shop-a", PHONE), "receipt_id"),
    ("receipt id leading dot", lambda: ReceiptNotice(".r1", "shop-a", 0.0), "receipt_id"),
    ("receipt id too long", lambda: UploadAck("r" * 65, "shop-a"), "receipt_id"),
    ("bad sku", lambda: _item(sku="SKU/1"), "sku"),
    ("bad merchant id", lambda: _upload(merchant_id="shop a"), "merchant_id"),
    (
        "bad error receipt id",
        lambda: ErrorReply(ErrorCode.NOT_SUBSCRIBED, "d", "r 1"),
        "receipt_id",
    ),
    ("zero request id", lambda: AssociationRequest(0, "r-1", "shop-a", PHONE), "request_id"),
    (
        "bad error request id",
        lambda: ErrorReply(ErrorCode.NOT_SUBSCRIBED, "d", None, -1),
        "request_id",
    ),
    ("reason as text", lambda: _product(reason="complement"), "reason"),
    (
        "push reason as text",
        lambda: AssociationPush("r-1", "shop-a", PHONE, ill_typed("timeout"), ()),
        "reason",
    ),
    ("error code as text", lambda: ErrorReply(ill_typed("not-subscribed"), "d"), "code"),
    (
        "too many products",
        lambda: AssociationResponse(
            1, "r-1", "shop-a", (_product(),) * (MAX_PRODUCTS_PER_DELIVERY + 1)
        ),
        "products",
    ),
    (
        "products not products",
        lambda: AssociationResponse(1, "r-1", "shop-a", ill_typed((_item(),))),
        "products",
    ),
    ("bad popular sku", lambda: PromotionUpdate("shop-a", ("ok", "not ok"), ()), "popular"),
    (
        "offers not offers",
        lambda: PromotionUpdate("shop-a", (), ill_typed(("SKU-1",))),
        "offers",
    ),
]


@pytest.mark.parametrize(
    ("build", "field"), [(b, f) for _, b, f in INVALID], ids=[i for i, _, _ in INVALID]
)
def test_invalid_messages_are_never_built(build: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        build()
    assert f".{field}:" in str(caught.value)
    assert isinstance(caught.value, LocalProtocolError)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ProtocolError)
    assert not isinstance(caught.value, RemoteProtocolError)


def test_limits_are_inclusive() -> None:
    assert len(_item(name="x" * MAX_TEXT_LENGTH).name) == MAX_TEXT_LENGTH
    assert _item(colour="").colour == ""
    assert _item(price=0.0).price == 0.0
    assert Subscribe("+12345678").phone_id == "+12345678"  # 8 digits
    assert Subscribe("+123456789012345").phone_id == "+123456789012345"  # 15 digits
    assert UploadAck("r" * 64, "shop-a").receipt_id == "r" * 64
    assert UploadAck("0.a_b:c-d", "shop-a").receipt_id == "0.a_b:c-d"
    assert _product(score=-2.5).score == -2.5
    full = AssociationResponse(1, "r-1", "shop-a", (_product(),) * MAX_PRODUCTS_PER_DELIVERY)
    assert len(full.products) == MAX_PRODUCTS_PER_DELIVERY
    assert len(_upload(items=(_item(),) * MAX_ITEMS_PER_PURCHASE).items) == MAX_ITEMS_PER_PURCHASE


@given(messages())
def test_messages_are_frozen_and_slotted(message: Message) -> None:
    cls = type(message)
    assert "__slots__" in vars(cls)
    assert not hasattr(message, "__dict__")
    first = attrs.fields(cls)[0].name
    before = getattr(message, first)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(message, first, before)
    with pytest.raises((AttributeError, TypeError)):
        undeclared = "not_a_field"
        setattr(message, undeclared, 1)  # slotted: no attribute beyond the declared fields
    assert getattr(message, first) == before
    assert hash(message) == hash(attrs.evolve(message))


# --------------------------------------------------------------------------- codec


def test_every_message_class_has_a_wire_name() -> None:
    assert set(MESSAGE_TYPES.values()) == set(message_types())
    assert {
        "subscribe": Subscribe,
        "subscribe-ack": SubscribeAck,
        "purchase-upload": PurchaseUpload,
        "upload-ack": UploadAck,
        "receipt-notice": ReceiptNotice,
        "notice-ack": NoticeAck,
        "association-request": AssociationRequest,
        "association-response": AssociationResponse,
        "association-push": AssociationPush,
        "push-ack": PushAck,
        "promotion-update": PromotionUpdate,
        "promotion-ack": PromotionAck,
        "error-reply": ErrorReply,
    } == MESSAGE_TYPES


def test_encoding_of_an_upload() -> None:
    encoded = encode_message(_upload())
    assert json.loads(json.dumps(encoded)) == {
        "v": WIRE_VERSION,
        "type": "purchase-upload",
        "body": {
            "receipt_id": "r-1",
            "merchant_id": "shop-a",
            "pos_id": "pos-1",
            "phone_id": PHONE,
            "items": [
                {
                    "sku": "SKIN-FW-001",
                    "name": "Gentle Face Wash 150ml",
                    "category": "face-wash",
                    "brand": "Hydra",
                    "colour": "",
                    "quantity": 1,
                    "price": 6.49,
                }
            ],
            "purchased_at": 10.0,
        },
    }


def test_enums_travel_as_their_values() -> None:
    push = AssociationPush(
        "r-1", "shop-a", PHONE, PushReason.DUAL_SEND, (_product(reason=Reason.OFFER),)
    )
    data = json.loads(encode_json(push))
    assert data["body"]["reason"] == "dual-send"
    assert data["body"]["products"][0]["reason"] == "offer"
    error = json.loads(encode_json(ErrorReply(ErrorCode.IDENTIFIER_MISMATCH, "no")))
    assert error["body"]["code"] == "identifier-mismatch"


@pytest.mark.parametrize("cls", list(message_types()), ids=lambda c: c.__name__)
@given(data=st.data())
def test_round_trip_of_every_message_type(cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(message_types()[cls])
    encoded = encode_message(message)
    assert encoded["v"] == WIRE_VERSION
    assert encoded["type"] == message_type(message)
    assert MESSAGE_TYPES[encoded["type"]] is cls
    assert decode_message(encoded) == message
    raw = encode_json(message)
    assert isinstance(raw, bytes)
    decoded = decode_json(raw)
    assert decoded == message
    assert type(decoded) is cls
    assert decode_json(raw.decode()) == message


@given(messages())
def test_json_decoding_needs_no_python_objects(message: Message) -> None:
    """What goes over the wire is plain JSON: re-parsed text decodes to the same message."""
    plain = json.loads(json.dumps(encode_message(message)))
    assert decode_message(plain) == message


def _valid_request() -> dict[str, Any]:
    return encode_message(AssociationRequest(7, "r-1", "shop-a", PHONE))


def _with_body(**changes: Any) -> dict[str, Any]:
    data = _valid_request()
    data["body"] = {**data["body"], **changes}
    return data


BAD_WIRE: list[tuple[str, object]] = [
    ("not a dict", [1, "association-request", {}]),
    ("no version", {k: v for k, v in _valid_request().items() if k != "v"}),
    ("wrong version", {**_valid_request(), "v": WIRE_VERSION + 1}),
    ("version as text", {**_valid_request(), "v": str(WIRE_VERSION)}),
    ("unknown type", {**_valid_request(), "type": "association-demand"}),
    ("type not text", {**_valid_request(), "type": 5}),
    ("class name as type", {**_valid_request(), "type": "AssociationRequest"}),
    ("no body", {k: v for k, v in _valid_request().items() if k != "body"}),
    ("body a list", {**_valid_request(), "body": [7, "r-1", PHONE]}),
    ("body a string", {**_valid_request(), "body": "{}"}),
    ("extra key", _with_body(priority="high")),
    ("missing key", {**_valid_request(), "body": {"request_id": 7, "receipt_id": "r-1"}}),
    ("malformed phone id", _with_body(phone_id="8613800000001")),
    ("malformed receipt id", _with_body(receipt_id="r 1")),
    ("zero request id", _with_body(request_id=0)),
    ("null field", _with_body(phone_id=None)),
    (
        "unknown push reason",
        {
            "v": WIRE_VERSION,
            "type": "association-push",
            "body": {"receipt_id": "r-1", "phone_id": PHONE, "reason": "bored", "products": []},
        },
    ),
    (
        "empty items",
        {**encode_message(_upload()), "body": {**encode_message(_upload())["body"], "items": []}},
    ),
    (
        "negative quantity",
        json.loads(encode_json(_upload()).replace(b'"quantity":1', b'"quantity":-1')),
    ),
]


@pytest.mark.parametrize("data", [d for _, d in BAD_WIRE], ids=[i for i, _ in BAD_WIRE])
def test_decoding_refuses_invalid_data(data: object) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        decode_message(data)
    assert not isinstance(caught.value, LocalProtocolError)


_NOTICE = encode_message(ReceiptNotice("r-1", "shop-a", 12.5))
_PROMOTIONS = encode_message(PromotionUpdate("shop-a", ("SKU-1",), ()))

# JSON values of the wrong type: the codec must refuse them, never convert them (cattrs'
# default structuring would call int()/float()/str()/tuple() on them).
COERCED: list[tuple[str, object]] = [
    ("float request id truncated", _with_body(request_id=7.9)),
    ("text request id", _with_body(request_id="7")),
    ("boolean request id", _with_body(request_id=True)),
    ("number as receipt id", _with_body(receipt_id=123)),
    ("text timestamp", {**_NOTICE, "body": {**_NOTICE["body"], "purchased_at": "12.5"}}),
    ("boolean timestamp", {**_NOTICE, "body": {**_NOTICE["body"], "purchased_at": True}}),
    ("text as a list of SKUs", {**_PROMOTIONS, "body": {**_PROMOTIONS["body"], "popular": "abc"}}),
    ("boolean version", {**_valid_request(), "v": True}),
]


@pytest.mark.parametrize("data", [d for _, d in COERCED], ids=[i for i, _ in COERCED])
def test_decoding_does_not_coerce_json_types(data: dict[str, Any]) -> None:
    with pytest.raises(RemoteProtocolError, match=r"expected|version"):
        decode_message(data)


def test_decoding_errors_say_what_is_wrong() -> None:
    with pytest.raises(RemoteProtocolError, match="version 1"):
        decode_message({**_valid_request(), "v": 1})  # the version before acknowledgements
    with pytest.raises(RemoteProtocolError, match="association-demand"):
        decode_message({**_valid_request(), "type": "association-demand"})
    with pytest.raises(RemoteProtocolError, match="body"):
        decode_message({**_valid_request(), "body": []})
    with pytest.raises(RemoteProtocolError, match="priority"):
        decode_message(_with_body(priority="high"))


@pytest.mark.parametrize(
    "raw",
    [b"", b"{not json", b'{"v": 1, "type": ', b"\xff\xfe\x00", "nul\x00", b"[1, 2, 3]", b"null"],
)
def test_decode_json_refuses_what_is_not_a_json_message(raw: bytes | str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_json(raw)


def test_decode_json_of_a_valid_message() -> None:
    raw = b'{"v":3,"type":"subscribe","body":{"phone_id":"+8613800000001"}}'
    assert decode_json(raw) == Subscribe(PHONE)
    assert encode_json(Subscribe(PHONE)) == raw
