"""The messages of the protocol: frozen, slotted attrs classes that validate themselves.

Every exchange of CN103177372A has a class here. A message that cannot be valid is never
built: construction raises :class:`~protocol.InvalidMessage` naming the field and the rule.

=========================  ===============  =========================================
message                    from -> to       patent
=========================  ===============  =========================================
``Subscribe``              phone -> cloud   "establish an association", subscribe
``SubscribeAck``           cloud -> phone   the cloud now serves this phone
``PurchaseUpload``         POS -> cloud     step 501/601: goods bound to a phone id
``UploadAck``              cloud -> POS     step 502/602: the binding is stored
``ReceiptNotice``          POS -> phone     the checkout hands the buyer the receipt id
``AssociationRequest``     phone -> cloud   step 503, sending unit 701
``AssociationResponse``    cloud -> phone   step 508/509, receiving unit 702
``AssociationPush``        cloud -> phone   step 603/605 (timeout) and unit 8022 (dual-send)
``PushAck``                phone -> cloud   the push arrived (the cloud stops re-sending)
``NoticeAck``              phone -> POS     the receipt notice arrived
``PromotionUpdate``        merchant -> cloud  popular items and special offers
``PromotionAck``           cloud -> merchant  the promotions are stored
``ErrorReply``             cloud -> any     a typed refusal
=========================  ===============  =========================================
"""

from __future__ import annotations

import enum
from typing import NamedTuple

import attrs

from ._ids import phone_id_validator, token_validator
from ._validators import (
    finite_number,
    instance_of,
    non_empty_tuple_of,
    positive_int_up_to,
    text,
    tuple_of,
)

__all__ = [
    "MAX_ENTRIES",
    "MAX_ITEMS_PER_PURCHASE",
    "MAX_PRICE",
    "MAX_PRODUCTS_PER_DELIVERY",
    "MAX_QUANTITY",
    "MAX_REQUEST_ID",
    "MAX_TEXT_LENGTH",
    "MAX_TIME",
    "AssociatedProduct",
    "AssociationPush",
    "AssociationRequest",
    "AssociationResponse",
    "ErrorCode",
    "ErrorReply",
    "Item",
    "Message",
    "NoticeAck",
    "Offer",
    "PromotionAck",
    "PromotionUpdate",
    "PurchaseUpload",
    "PushAck",
    "PushReason",
    "Reason",
    "ReceiptKey",
    "ReceiptNotice",
    "Subscribe",
    "SubscribeAck",
    "UploadAck",
]

MAX_TEXT_LENGTH = 200
"""The longest name, brand, category, colour or offer text a message accepts (an error's
detail: twice this); ``protocol.lowlevel.MAX_TEXT_LENGTH``."""
MAX_ITEMS_PER_PURCHASE = 500
MAX_PRODUCTS_PER_DELIVERY = 100
_MAX_PROMOTED = 100
MAX_ENTRIES = "max_entries"
"""The key of a list field's metadata holding its bound (its validator's too, a test
checks): the codec checks a peer's list against it before structuring one entry (issue 14:
refused by the validator alone, a 4 MiB upload of 31k items built every item first)."""
# Upper bounds on numbers (issue 14: 1e30, 2**64 and 1e308 were stored). Generous for any
# real till, small enough that sums and SQLite's integers never overflow.
MAX_QUANTITY = 1_000_000  # pieces of one line of a purchase
MAX_PRICE = 1e9  # one piece's price, in the merchant's currency unit
MAX_TIME = 4_102_444_800.0  # seconds: 2100-01-01T00:00:00Z as Unix time (virtual time too)
MAX_REQUEST_ID = 2**53 - 1  # the largest integer every JSON reader keeps exact

_price = finite_number(maximum=MAX_PRICE)
# one object per rule, shared by the goods fields of Item, AssociatedProduct and Offer:
# the trusted answer constructor (_trusted.py) copies a line's fields unchecked
# because these are the same checks (tests/protocol/test_trusted_answer.py)
_text = text(MAX_TEXT_LENGTH)
_text_or_empty = text(MAX_TEXT_LENGTH, allow_empty=True)
_time = finite_number(maximum=MAX_TIME)
_request_id = positive_int_up_to(MAX_REQUEST_ID)


class Reason(enum.StrEnum):
    """Why an associated product was chosen (step 506: pairing, plus merchants' items)."""

    COMPLEMENT = "complement"  # a complement rule: face wash -> lotion, top -> trousers
    CO_PURCHASE = "co-purchase"  # learned from what others bought together
    HABIT = "habit"  # learned from this user's habits (step 507)
    POPULAR = "popular"  # a merchant's currently popular item
    OFFER = "offer"  # a merchant's special offer

    @property
    def is_promotion(self) -> bool:
        return self in (Reason.POPULAR, Reason.OFFER)


class PushReason(enum.StrEnum):
    """Why the cloud sent associated products unasked."""

    TIMEOUT = "timeout"  # step 603: no request within push_timeout
    DUAL_SEND = "dual-send"  # unit 8022: identifiers differ, both devices get the products


class ErrorCode(enum.StrEnum):
    """The reasons the cloud refuses a message."""

    UNKNOWN_RECEIPT = "unknown-receipt"  # the request names no stored binding
    NOT_SUBSCRIBED = "not-subscribed"  # the cloud serves only subscribed phones
    IDENTIFIER_MISMATCH = "identifier-mismatch"  # step 505 said no, policy is `reject`
    CONFLICTING_UPLOAD = "conflicting-upload"  # a receipt id re-uploaded with other content
    UNEXPECTED_MESSAGE = "unexpected-message"  # this party never accepts that message type
    INVALID_MESSAGE = "invalid-message"  # the message failed validation
    # Refusals of the framing on a byte stream (protocol/_wire/_refusals.py, docs/wire-format.md):
    UNSUPPORTED_VERSION = "unsupported-version"  # the peer speaks another wire version
    FRAME_TOO_LARGE = "frame-too-large"  # a length prefix above MAX_FRAME_BYTES
    MALFORMED_FRAME = "malformed-frame"  # not a UTF-8 JSON envelope, or a broken rule of one
    HELLO_REQUIRED = "hello-required"  # a connection's first frame was not a hello
    UNAUTHORIZED = "unauthorized"  # the hello's credential does not prove its address
    TIMEOUT = "timeout"  # no hello, or no complete frame, within the server's time limit
    FORGED_IDENTIFIER = "forged-identifier"  # names another party than the authenticated sender
    OVERLOADED = "overloaded"  # the server has no room: too many connections (per peer or in all)


# --------------------------------------------------------------------------- receipts


class ReceiptKey(NamedTuple):
    """What names a receipt: a receipt id is unique within its merchant only.

    Each merchant numbers its own receipts, so two merchants may use the same id; every
    message that names a receipt carries its ``merchant_id`` too, and the cloud, the
    phone and the trace tools key receipts by both (issue 14: one namespace for every
    merchant let one merchant's upload refuse, and reveal, another's receipt ids).
    ``str()`` gives ``MERCHANT/RECEIPT``, unambiguous since ids never contain ``/``.
    """

    merchant_id: str
    receipt_id: str

    def __str__(self) -> str:
        return f"{self.merchant_id}/{self.receipt_id}"


# --------------------------------------------------------------------------- goods


class _AboutAReceipt:
    """A message about one receipt: :attr:`receipt` is its key, (merchant, receipt id), as
    receipt ids are a namespace per merchant."""

    __slots__ = ()
    receipt_id: str
    merchant_id: str

    @property
    def receipt(self) -> ReceiptKey:
        return ReceiptKey(self.merchant_id, self.receipt_id)


@attrs.frozen
class Item:
    """One line of a purchase: the goods information the POS binds and uploads."""

    sku: str = attrs.field(validator=token_validator)
    name: str = attrs.field(validator=_text)
    category: str = attrs.field(validator=_text)
    brand: str = attrs.field(validator=_text)
    colour: str = attrs.field(validator=_text_or_empty)
    quantity: int = attrs.field(validator=positive_int_up_to(MAX_QUANTITY))
    price: float = attrs.field(validator=_price)


@attrs.frozen
class AssociatedProduct:
    """A product that goes with the purchase, and why it was chosen."""

    sku: str = attrs.field(validator=token_validator)
    name: str = attrs.field(validator=_text)
    category: str = attrs.field(validator=_text)
    brand: str = attrs.field(validator=_text)
    colour: str = attrs.field(validator=_text_or_empty)
    price: float = attrs.field(validator=_price)
    reason: Reason = attrs.field(validator=instance_of(Reason))
    score: float = attrs.field(validator=finite_number(minimum=float("-inf")))
    offer: str | None = attrs.field(default=None)

    @offer.validator
    def _check_offer(self, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None:
            _text(self, attribute, value)


@attrs.frozen
class Offer:
    """A merchant's special offer on one product."""

    sku: str = attrs.field(validator=token_validator)
    description: str = attrs.field(validator=_text)
    price: float = attrs.field(validator=_price)


# --------------------------------------------------------------------------- messages


@attrs.frozen
class Subscribe:
    """Phone -> cloud: subscribe to the associated-products service (at first payment)."""

    phone_id: str = attrs.field(validator=phone_id_validator)


@attrs.frozen
class SubscribeAck:
    """Cloud -> phone: the subscription is stored; the cloud now serves this phone.

    ``device_token`` is the phone's proof of its identifier for later connections (a
    cloud that authenticates phones issues it, see ``docs/security.md``); ``None`` where
    the transport does not authenticate (simulations).
    """

    phone_id: str = attrs.field(validator=phone_id_validator)
    device_token: str | None = attrs.field(default=None)

    @device_token.validator
    def _check_token(self, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None:
            text(MAX_TEXT_LENGTH)(self, attribute, value)


@attrs.frozen
class PurchaseUpload(_AboutAReceipt):
    """POS -> cloud (step 501/601): the purchase bound one-to-one to a phone identifier."""

    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)
    pos_id: str = attrs.field(validator=token_validator)
    phone_id: str = attrs.field(validator=phone_id_validator)
    items: tuple[Item, ...] = attrs.field(
        validator=non_empty_tuple_of(Item, max_length=MAX_ITEMS_PER_PURCHASE),
        metadata={MAX_ENTRIES: MAX_ITEMS_PER_PURCHASE},
    )
    purchased_at: float = attrs.field(validator=_time)


@attrs.frozen
class UploadAck(_AboutAReceipt):
    """Cloud -> POS (step 502/602): the binding of ``receipt_id`` is stored."""

    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)


@attrs.frozen
class ReceiptNotice(_AboutAReceipt):
    """POS -> buyer's phone: the receipt id of the purchase just paid, to ask about."""

    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)
    purchased_at: float = attrs.field(validator=_time)


@attrs.frozen
class NoticeAck(_AboutAReceipt):
    """Phone -> POS: the receipt notice of ``receipt_id`` arrived (the POS stops re-sending)."""

    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)


@attrs.frozen
class AssociationRequest(_AboutAReceipt):
    """Phone -> cloud (step 503): ask for the associated products of a receipt.

    ``phone_id`` is the requester's identifier that the cloud determines (step 504) and
    judges against the POS's (step 505). ``request_id`` pairs the reply with the request.
    """

    request_id: int = attrs.field(validator=_request_id)
    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)
    phone_id: str = attrs.field(validator=phone_id_validator)


@attrs.frozen
class AssociationResponse(_AboutAReceipt):
    """Cloud -> requesting phone (step 508): the associated products of the receipt."""

    request_id: int = attrs.field(validator=_request_id)
    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)
    products: tuple[AssociatedProduct, ...] = attrs.field(
        validator=tuple_of(AssociatedProduct, max_length=MAX_PRODUCTS_PER_DELIVERY),
        metadata={MAX_ENTRIES: MAX_PRODUCTS_PER_DELIVERY},
    )


@attrs.frozen
class AssociationPush(_AboutAReceipt):
    """Cloud -> phone, unasked: after a timeout (step 603) or as the dual-send (unit 8022)."""

    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)
    phone_id: str = attrs.field(validator=phone_id_validator)
    reason: PushReason = attrs.field(validator=instance_of(PushReason))
    products: tuple[AssociatedProduct, ...] = attrs.field(
        validator=tuple_of(AssociatedProduct, max_length=MAX_PRODUCTS_PER_DELIVERY),
        metadata={MAX_ENTRIES: MAX_PRODUCTS_PER_DELIVERY},
    )


@attrs.frozen
class PushAck(_AboutAReceipt):
    """Phone -> cloud: the push of ``receipt_id`` arrived (the cloud stops re-sending it)."""

    receipt_id: str = attrs.field(validator=token_validator)
    merchant_id: str = attrs.field(validator=token_validator)
    phone_id: str = attrs.field(validator=phone_id_validator)


@attrs.frozen
class PromotionUpdate:
    """Merchant -> cloud: the items popular now and the special offers, sent with products."""

    merchant_id: str = attrs.field(validator=token_validator)
    popular: tuple[str, ...] = attrs.field(
        validator=tuple_of(str, max_length=_MAX_PROMOTED), metadata={MAX_ENTRIES: _MAX_PROMOTED}
    )
    offers: tuple[Offer, ...] = attrs.field(
        validator=tuple_of(Offer, max_length=_MAX_PROMOTED), metadata={MAX_ENTRIES: _MAX_PROMOTED}
    )

    @popular.validator
    def _check_popular(self, attribute: attrs.Attribute[tuple[str, ...]], value: object) -> None:
        assert isinstance(value, tuple)
        for sku in value:
            token_validator(self, attribute, sku)


@attrs.frozen
class PromotionAck:
    """Cloud -> merchant's POS: the promotions of ``merchant_id`` are stored."""

    merchant_id: str = attrs.field(validator=token_validator)


@attrs.frozen
class ErrorReply:
    """Cloud -> sender: a typed refusal of the message named by the ids it carries
    (``merchant_id``: the merchant of ``receipt_id``, whose ids are per merchant)."""

    code: ErrorCode = attrs.field(validator=instance_of(ErrorCode))
    detail: str = attrs.field(validator=text(MAX_TEXT_LENGTH * 2))
    receipt_id: str | None = attrs.field(default=None)
    request_id: int | None = attrs.field(default=None)
    merchant_id: str | None = attrs.field(default=None)

    @merchant_id.validator
    def _check_merchant(self, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None:
            token_validator(self, attribute, value)

    @receipt_id.validator
    def _check_receipt(self, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None:
            token_validator(self, attribute, value)

    @request_id.validator
    def _check_request(self, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None:
            _request_id(self, attribute, value)


Message = (
    Subscribe
    | SubscribeAck
    | PurchaseUpload
    | UploadAck
    | ReceiptNotice
    | NoticeAck
    | AssociationRequest
    | AssociationResponse
    | AssociationPush
    | PushAck
    | PromotionUpdate
    | PromotionAck
    | ErrorReply
)
"""Any message of the protocol."""
