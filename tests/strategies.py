"""Hypothesis strategies for valid protocol values, shared by the test suites.

Every strategy here draws values that pass the messages' own validation, so a test can
build arbitrary well-formed traffic: ``messages()`` draws any message of the protocol,
the other functions draw one message type or one of its parts.
"""

from __future__ import annotations

from hypothesis import strategies as st

from protocol import (
    MAX_ITEMS_PER_PURCHASE,
    MAX_PRODUCTS_PER_DELIVERY,
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorCode,
    ErrorReply,
    Item,
    Message,
    NoticeAck,
    Offer,
    PromotionAck,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    PushReason,
    Reason,
    ReceiptNotice,
    Subscribe,
    SubscribeAck,
    UploadAck,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "associated_products",
    "association_pushes",
    "association_requests",
    "association_responses",
    "error_replies",
    "items",
    "message_types",
    "messages",
    "offers",
    "phone_ids",
    "positive_ints",
    "prices",
    "promotion_updates",
    "purchase_uploads",
    "receipt_notices",
    "scores",
    "subscribe_acks",
    "subscribes",
    "texts",
    "timestamps",
    "tokens",
    "upload_acks",
]

MAX_TEXT_LENGTH = 200
"""The longest name, brand, category or offer text a message accepts."""


def phone_ids() -> st.SearchStrategy[str]:
    """Well-formed phone identifiers (E.164: '+', then 8 to 15 digits, no leading zero)."""
    return st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True)


def tokens() -> st.SearchStrategy[str]:
    """Well-formed receipt, merchant, POS and SKU ids."""
    return st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)


def texts(max_size: int = MAX_TEXT_LENGTH, *, allow_empty: bool = False) -> st.SearchStrategy[str]:
    """Free text (any Unicode but surrogates) of at most ``max_size`` characters."""
    return st.text(min_size=0 if allow_empty else 1, max_size=max_size)


def prices() -> st.SearchStrategy[float]:
    """Finite, non-negative amounts (prices, timestamps)."""
    return st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)


def timestamps() -> st.SearchStrategy[float]:
    """Finite, non-negative virtual times."""
    return st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)


def scores() -> st.SearchStrategy[float]:
    """Finite scores of any sign."""
    return st.floats(allow_nan=False, allow_infinity=False)


def positive_ints() -> st.SearchStrategy[int]:
    """Whole numbers > 0 (request ids, quantities)."""
    return st.integers(min_value=1, max_value=2**63)


def items() -> st.SearchStrategy[Item]:
    """One purchase line."""
    return st.builds(
        Item,
        sku=tokens(),
        name=texts(),
        category=texts(),
        brand=texts(),
        colour=texts(allow_empty=True),
        quantity=st.integers(min_value=1, max_value=10_000),
        price=prices(),
    )


def associated_products() -> st.SearchStrategy[AssociatedProduct]:
    """One associated product, with or without an offer text."""
    return st.builds(
        AssociatedProduct,
        sku=tokens(),
        name=texts(),
        category=texts(),
        brand=texts(),
        colour=texts(allow_empty=True),
        price=prices(),
        reason=st.sampled_from(Reason),
        score=scores(),
        offer=st.none() | texts(),
    )


def offers() -> st.SearchStrategy[Offer]:
    """A merchant's special offer."""
    return st.builds(Offer, sku=tokens(), description=texts(), price=prices())


def _product_lists() -> st.SearchStrategy[tuple[AssociatedProduct, ...]]:
    return st.lists(associated_products(), max_size=min(4, MAX_PRODUCTS_PER_DELIVERY)).map(tuple)


def subscribes() -> st.SearchStrategy[Subscribe]:
    return st.builds(Subscribe, phone_id=phone_ids())


def subscribe_acks() -> st.SearchStrategy[SubscribeAck]:
    return st.builds(SubscribeAck, phone_id=phone_ids())


def purchase_uploads(
    *, phone_id: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[PurchaseUpload]:
    """A POS upload (step 501), bound to a phone id drawn from ``phone_id``."""
    return st.builds(
        PurchaseUpload,
        receipt_id=tokens(),
        merchant_id=tokens(),
        pos_id=tokens(),
        phone_id=phone_ids() if phone_id is None else phone_id,
        items=st.lists(items(), min_size=1, max_size=min(4, MAX_ITEMS_PER_PURCHASE)).map(tuple),
        purchased_at=timestamps(),
    )


def upload_acks() -> st.SearchStrategy[UploadAck]:
    return st.builds(UploadAck, receipt_id=tokens())


def receipt_notices() -> st.SearchStrategy[ReceiptNotice]:
    return st.builds(
        ReceiptNotice, receipt_id=tokens(), merchant_id=tokens(), purchased_at=timestamps()
    )


def association_requests() -> st.SearchStrategy[AssociationRequest]:
    return st.builds(
        AssociationRequest, request_id=positive_ints(), receipt_id=tokens(), phone_id=phone_ids()
    )


def association_responses() -> st.SearchStrategy[AssociationResponse]:
    return st.builds(
        AssociationResponse,
        request_id=positive_ints(),
        receipt_id=tokens(),
        products=_product_lists(),
    )


def association_pushes() -> st.SearchStrategy[AssociationPush]:
    return st.builds(
        AssociationPush,
        receipt_id=tokens(),
        phone_id=phone_ids(),
        reason=st.sampled_from(PushReason),
        products=_product_lists(),
    )


def promotion_updates() -> st.SearchStrategy[PromotionUpdate]:
    return st.builds(
        PromotionUpdate,
        merchant_id=tokens(),
        popular=st.lists(tokens(), max_size=4).map(tuple),
        offers=st.lists(offers(), max_size=4).map(tuple),
    )


def error_replies() -> st.SearchStrategy[ErrorReply]:
    return st.builds(
        ErrorReply,
        code=st.sampled_from(ErrorCode),
        detail=texts(2 * MAX_TEXT_LENGTH),
        receipt_id=st.none() | tokens(),
        request_id=st.none() | positive_ints(),
    )


def notice_acks() -> st.SearchStrategy[NoticeAck]:
    return st.builds(NoticeAck, receipt_id=tokens())


def push_acks() -> st.SearchStrategy[PushAck]:
    return st.builds(PushAck, receipt_id=tokens(), phone_id=phone_ids())


def promotion_acks() -> st.SearchStrategy[PromotionAck]:
    return st.builds(PromotionAck, merchant_id=tokens())


def message_types() -> dict[type[Message], st.SearchStrategy[Message]]:
    """Each message class with the strategy that draws it."""
    return {
        Subscribe: subscribes(),
        SubscribeAck: subscribe_acks(),
        PurchaseUpload: purchase_uploads(),
        UploadAck: upload_acks(),
        ReceiptNotice: receipt_notices(),
        NoticeAck: notice_acks(),
        AssociationRequest: association_requests(),
        AssociationResponse: association_responses(),
        AssociationPush: association_pushes(),
        PushAck: push_acks(),
        PromotionUpdate: promotion_updates(),
        PromotionAck: promotion_acks(),
        ErrorReply: error_replies(),
    }


def messages() -> st.SearchStrategy[Message]:
    """Any valid message of the protocol."""
    return st.one_of(*message_types().values())
