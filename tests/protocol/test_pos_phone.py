"""Unit tests of the POS machine (protocol._machines._pos) and the phone machine (its _phone)."""

from __future__ import annotations

import pytest

from protocol import (
    CLOUD,
    AskDue,
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    Checkout,
    CheckoutDue,
    Delivery,
    Effects,
    ErrorCode,
    ErrorReply,
    LocalProtocolError,
    Note,
    NoticeAck,
    Offer,
    PhoneMachine,
    PhoneNote,
    PosMachine,
    PosNote,
    PromotionAck,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    PushReason,
    Reason,
    ReceiptNotice,
    RetryPolicy,
    Send,
    Subscribe,
    SubscribeAck,
    Timer,
    UploadAck,
    builtin_catalog,
    phone_address,
)
from protocol.lowlevel import (
    Resend,
)
from tests.builders import ALICE, BOB, MERCHANT, POS, catalog_items, receipt

CATALOG = builtin_catalog()
RETRY = RetryPolicy()


def _checkout(at: float, receipt_id: str, phone_id: str = ALICE, buyer: str = ALICE) -> Checkout:
    return Checkout(
        at=at,
        receipt_id=receipt_id,
        phone_id=phone_id,
        buyer=phone_address(buyer),
        items=catalog_items("SKIN-FW-001", "FOOD-PA-001"),
    )


SCHEDULE = (
    _checkout(10.0, "r-1"),
    _checkout(25.0, "r-2", phone_id=BOB, buyer=ALICE),  # the POS was given Bob's id
    _checkout(25.0, "r-3", phone_id=BOB, buyer=BOB),
)
PROMOTIONS = PromotionUpdate(MERCHANT, ("FOOD-BR-001",), (Offer("FOOD-PA-002", "-20%", 1.0),))


def _upload_key(receipt_id: str) -> object:
    """The POS's outbox key of an upload (private): read it off the timer it arms."""
    pos = PosMachine(MERCHANT, "pos-x", ())
    (timer,) = pos.ring_up(_checkout(0.0, receipt_id), 0.0).timers
    assert isinstance(timer.key, Resend)
    return timer.key.key


def _pos(
    checkouts: tuple[Checkout, ...] = SCHEDULE, promotions: PromotionUpdate | None = None
) -> PosMachine:
    return PosMachine(MERCHANT, "pos-1", checkouts, promotions=promotions)


def _product(sku: str = "SKIN-LO-001") -> AssociatedProduct:
    return AssociatedProduct(
        sku=sku,
        name="Hydra Moisturising Lotion 200ml",
        category="lotion",
        brand="Hydra",
        colour="",
        price=8.49,
        reason=Reason.COMPLEMENT,
        score=1.15,
    )


# --------------------------------------------------------------------------- POS


def test_pos_start_sends_promotions_and_arms_the_first_checkout() -> None:
    effects = _pos(promotions=PROMOTIONS).start(0.0)
    assert effects == Effects(
        sends=(Send(CLOUD, PROMOTIONS),),
        timers=(Timer(RETRY.first_delay, Resend("promotions")), Timer(10.0, CheckoutDue(0))),
    )


def test_pos_start_without_promotions_or_checkouts() -> None:
    assert _pos().start(0.0) == Effects(timers=(Timer(10.0, CheckoutDue(0)),))
    assert _pos(checkouts=()).start(0.0) == Effects()
    assert _pos(checkouts=(), promotions=PROMOTIONS).start(0.0).sends == (Send(CLOUD, PROMOTIONS),)


def test_pos_resends_promotions_until_acknowledged() -> None:
    pos = _pos(checkouts=(), promotions=PROMOTIONS)
    (timer,) = pos.start(0.0).timers
    again = pos.timer_fired(timer.key, timer.at)
    assert again.sends == (Send(CLOUD, PROMOTIONS),)
    (timer,) = again.timers
    assert timer.at == RETRY.first_delay * (1 + RETRY.factor)  # backoff
    assert pos.handle(PromotionAck(MERCHANT), CLOUD, 3.0) == Effects(cancels=(timer.key,))
    assert pos.timer_fired(timer.key, timer.at) == Effects()  # a stale timer does nothing
    assert pos.unacknowledged == 0


def test_checkout_times_count_from_the_start() -> None:
    pos = _pos()
    assert pos.start(100.0).timers == (Timer(110.0, CheckoutDue(0)),)
    effects = pos.timer_fired(CheckoutDue(0), 110.0)
    assert effects.timers[-1] == Timer(125.0, CheckoutDue(1))
    (send,) = effects.sends
    assert isinstance(send.message, PurchaseUpload)
    assert send.message.purchased_at == 110.0
    # the receipt notice carries the time the purchase was rung up
    notice = pos.handle(UploadAck("r-1", "shop-a"), CLOUD, 111.0)
    assert notice.sends == (Send(phone_address(ALICE), ReceiptNotice("r-1", MERCHANT, 110.0)),)


def test_pos_refuses_promotions_of_another_merchant() -> None:
    with pytest.raises(LocalProtocolError, match="shop-b"):
        _pos(promotions=PromotionUpdate("shop-b", (), ()))


def test_pos_refuses_an_out_of_order_schedule() -> None:
    with pytest.raises(LocalProtocolError, match="time order"):
        _pos(checkouts=(_checkout(10.0, "r-1"), _checkout(9.0, "r-2")))


def test_each_checkout_uploads_and_arms_the_next() -> None:
    pos = _pos()
    pos.start(0.0)
    uploads = []
    key: object = CheckoutDue(0)
    for index, checkout in enumerate(SCHEDULE):
        now = checkout.at + 0.5  # the driver may fire a little late
        assert key == CheckoutDue(index)
        effects = pos.timer_fired(key, now)
        (send,) = effects.sends
        assert send.to == CLOUD
        assert send.message == PurchaseUpload(
            receipt_id=checkout.receipt_id,
            merchant_id=MERCHANT,
            pos_id="pos-1",
            phone_id=checkout.phone_id,
            items=checkout.items,
            purchased_at=now,
        )
        uploads.append(send.message)
        resend = Timer(now + RETRY.first_delay, Resend(_upload_key(checkout.receipt_id)))
        if index + 1 < len(SCHEDULE):
            following = Timer(SCHEDULE[index + 1].at, CheckoutDue(index + 1))
            assert effects.timers == (resend, following)
            key = following.key
        else:
            assert effects.timers == (resend,)
        assert pos.awaiting_ack == index + 1
    assert [u.phone_id for u in uploads] == [ALICE, BOB, BOB]


def test_ring_up_binds_the_given_phone_id() -> None:
    pos = _pos(checkouts=())
    checkout = _checkout(3.0, "r-9", phone_id=BOB, buyer=ALICE)
    (send,) = pos.ring_up(checkout, 4.0).sends
    assert isinstance(send.message, PurchaseUpload)
    assert send.message.phone_id == BOB
    assert send.message.purchased_at == 4.0
    assert pos.awaiting_ack == 1


def test_a_pos_ignores_acknowledgements_of_another_merchants_receipt() -> None:
    """Receipt ids are per merchant: shop-b's r-1 is not this till's r-1."""
    pos = _pos()
    pos.start(0.0)
    pos.timer_fired(CheckoutDue(0), 10.0)
    assert pos.handle(UploadAck("r-1", "shop-b"), CLOUD, 11.0) == Effects()
    assert pos.awaiting_ack == 1  # still re-sending its own r-1
    assert pos.handle(UploadAck("r-1", MERCHANT), CLOUD, 12.0).sends  # its own: noticed
    assert pos.handle(NoticeAck("r-1", "shop-b"), phone_address(ALICE), 13.0) == Effects()
    assert pos.unacknowledged == 1  # the notice of its r-1 is still re-sent


def test_upload_ack_notifies_the_buyer_once() -> None:
    pos = _pos()
    pos.start(0.0)
    pos.timer_fired(CheckoutDue(0), 10.0)
    pos.timer_fired(CheckoutDue(1), 25.0)
    # the ack of r-2 goes to its buyer (Alice), not to the phone id the POS was given
    effects = pos.handle(UploadAck("r-2", "shop-a"), CLOUD, 26.0)
    assert effects.sends == (Send(phone_address(ALICE), ReceiptNotice("r-2", MERCHANT, 25.0)),)
    assert effects.cancels == (Resend(_upload_key("r-2")),)  # the upload is not re-sent
    assert pos.awaiting_ack == 1
    assert pos.handle(UploadAck("r-2", "shop-a"), CLOUD, 27.0) == Effects()
    assert pos.handle(UploadAck("r-never", "shop-a"), CLOUD, 27.0) == Effects()
    notice = pos.handle(UploadAck("r-1", "shop-a"), CLOUD, 28.0)
    assert notice.sends == (Send(phone_address(ALICE), ReceiptNotice("r-1", MERCHANT, 10.0)),)
    assert pos.awaiting_ack == 0


def test_error_reply_becomes_a_note() -> None:
    pos = _pos()
    pos.start(0.0)
    pos.timer_fired(CheckoutDue(0), 10.0)
    refusal = ErrorReply(ErrorCode.CONFLICTING_UPLOAD, "bound elsewhere", receipt_id="r-1")
    effects = pos.handle(refusal, CLOUD, 11.0)
    assert effects.sends == ()
    (note,) = effects.notes
    assert note.kind == PosNote.UPLOAD_REFUSED
    assert note.receipt_id == "r-1"
    assert "conflicting-upload" in note.detail
    assert "bound elsewhere" in note.detail
    assert pos.awaiting_ack == 0
    # a late ack of the refused upload notifies nobody
    assert pos.handle(UploadAck("r-1", "shop-a"), CLOUD, 12.0) == Effects()


def test_error_reply_without_receipt_is_noted() -> None:
    pos = _pos()
    effects = pos.handle(ErrorReply(ErrorCode.UNEXPECTED_MESSAGE, "?"), CLOUD, 1.0)
    assert [n.kind for n in effects.notes] == [PosNote.UPLOAD_REFUSED]
    assert effects.notes[0].receipt_id is None


def test_pos_ignores_other_messages_and_refuses_unknown_timers() -> None:
    pos = _pos()
    assert pos.handle(SubscribeAck(ALICE), CLOUD, 0.0) == Effects()
    assert pos.handle(AssociationResponse(1, "r-1", "shop-a", ()), CLOUD, 0.0) == Effects()
    with pytest.raises(LocalProtocolError):
        pos.timer_fired(AskDue("r-1", "shop-a"), 0.0)


# --------------------------------------------------------------------------- phone


def _notice(receipt_id: str = "r-1", purchased_at: float = 0.0) -> ReceiptNotice:
    return ReceiptNotice(receipt_id, MERCHANT, purchased_at)


def test_first_notice_subscribes_and_arms_the_ask_timer() -> None:
    phone = PhoneMachine(
        ALICE, ask_plan={receipt("r-1"): 30.0, receipt("r-2"): None}, default_ask_delay=5.0
    )
    assert phone.start(0.0) == Effects()
    first = phone.handle(_notice("r-1", 100.0), POS, 100.0)
    assert first == Effects(
        sends=(Send(POS, NoticeAck("r-1", "shop-a")), Send(CLOUD, Subscribe(ALICE))),
        timers=(
            Timer(100.0 + RETRY.first_delay, Resend("subscription")),
            Timer(130.0, AskDue("r-1", "shop-a")),
        ),
    )
    # later notices do not subscribe again; None in the plan means "never asks"
    assert phone.handle(_notice("r-2", 110.0), POS, 110.0) == Effects(
        sends=(Send(POS, NoticeAck("r-2", "shop-a")),)
    )
    # receipts not in the plan use the default delay
    assert phone.handle(_notice("r-3", 120.0), POS, 120.0) == Effects(
        sends=(Send(POS, NoticeAck("r-3", "shop-a")),),
        timers=(Timer(125.0, AskDue("r-3", "shop-a")),),
    )
    # a repeated notice is acknowledged again and changes nothing
    assert phone.handle(_notice("r-3", 120.0), POS, 121.0) == Effects(
        sends=(Send(POS, NoticeAck("r-3", "shop-a")),)
    )


def test_asks_count_from_the_purchase_and_a_late_notice_asks_at_once() -> None:
    phone = PhoneMachine(ALICE, subscribes=False, default_ask_delay=30.0)
    # the notice took 10 s to arrive: the user still asks 30 s after paying
    on_time = phone.handle(_notice("r-1", purchased_at=100.0), POS, 110.0)
    assert on_time.timers == (Timer(130.0, AskDue("r-1", "shop-a")),)
    # a notice that arrives after the user would have asked (re-sent over a lossy
    # network) makes the phone ask at once
    late = phone.handle(_notice("r-2", purchased_at=100.0), POS, 400.0)
    assert late.timers == (Timer(400.0, AskDue("r-2", "shop-a")),)


def test_default_ask_delay_none_never_asks() -> None:
    phone = PhoneMachine(ALICE, default_ask_delay=None)
    effects = phone.handle(_notice(), POS, 1.0)
    assert effects.sends == (Send(POS, NoticeAck("r-1", "shop-a")), Send(CLOUD, Subscribe(ALICE)))
    assert [t.key for t in effects.timers] == [Resend("subscription")]


def test_ask_before_subscribe_ack_is_queued_and_sent_on_ack() -> None:
    phone = PhoneMachine(ALICE)
    phone.handle(_notice("r-1"), "pos:shop-a:pos-1", 0.0)
    assert not phone.subscribed
    assert phone.timer_fired(AskDue("r-1", "shop-a"), 0.0) == Effects()
    assert phone.ask(receipt("r-2"), 1.0) == Effects()
    effects = phone.handle(SubscribeAck(ALICE), CLOUD, 2.0)
    assert phone.subscribed
    assert effects == Effects(
        sends=(
            Send(CLOUD, AssociationRequest(1, "r-1", "shop-a", ALICE)),
            Send(CLOUD, AssociationRequest(2, "r-2", "shop-a", ALICE)),
        ),
        timers=(Timer(4.0, Resend(1)), Timer(4.0, Resend(2))),
        cancels=(Resend("subscription"),),
    )
    # once subscribed, asks go out at once
    assert phone.ask(receipt("r-3"), 3.0).sends == (
        Send(CLOUD, AssociationRequest(3, "r-3", "shop-a", ALICE)),
    )
    # a repeated ack sends nothing new
    assert phone.handle(SubscribeAck(ALICE), CLOUD, 4.0) == Effects()


def test_request_ids_increase() -> None:
    phone = PhoneMachine(ALICE, subscribes=False)
    ids = []
    for n in range(5):
        (send,) = phone.ask(receipt(f"r-{n % 2}"), float(n)).sends
        assert isinstance(send.message, AssociationRequest)
        assert send.message.phone_id == ALICE
        ids.append(send.message.request_id)
    assert ids == [1, 2, 3, 4, 5]


def test_ask_timer_sends_the_request() -> None:
    phone = PhoneMachine(ALICE)
    phone.handle(_notice("r-1"), "pos:shop-a:pos-1", 0.0)
    phone.handle(SubscribeAck(ALICE), CLOUD, 1.0)
    assert phone.timer_fired(AskDue("r-1", "shop-a"), 2.0) == Effects(
        sends=(Send(CLOUD, AssociationRequest(1, "r-1", "shop-a", ALICE)),),
        timers=(Timer(4.0, Resend(1)),),
    )


def test_responses_and_pushes_are_recorded() -> None:
    phone = PhoneMachine(ALICE, subscribes=False)
    products = (_product(),)
    phone.ask(receipt("r-1"), 4.0)
    assert phone.handle(AssociationResponse(1, "r-1", "shop-a", products), CLOUD, 5.0) == Effects(
        notes=(Note(PhoneNote.SHOWN, "r-1", ALICE, "response", "shop-a"),), cancels=(Resend(1),)
    )
    assert phone.unanswered == 0
    pushed = phone.handle(
        AssociationPush("r-2", "shop-a", ALICE, PushReason.TIMEOUT, products), CLOUD, 6.0
    )
    assert pushed.sends == (
        Send(CLOUD, PushAck("r-2", "shop-a", ALICE)),
    )  # every push is acknowledged
    phone.handle(AssociationPush("r-3", "shop-a", ALICE, PushReason.DUAL_SEND, ()), CLOUD, 7.0)
    assert phone.deliveries == [
        Delivery("r-1", "response", products, 5.0, "shop-a"),
        Delivery("r-2", "timeout", products, 6.0, "shop-a"),
        Delivery("r-3", "dual-send", (), 7.0, "shop-a"),
    ]
    assert phone.refusals == []


def test_errors_are_recorded_as_refusals() -> None:
    phone = PhoneMachine(ALICE, subscribes=False)
    phone.ask(receipt("r-1"), 0.5)
    refusal = ErrorReply(ErrorCode.NOT_SUBSCRIBED, "no", receipt_id="r-1", request_id=1)
    assert phone.handle(refusal, CLOUD, 1.0) == Effects(cancels=(Resend(1),))
    assert phone.handle(refusal, CLOUD, 1.5) == Effects()  # the refusal repeated
    assert phone.refusals == [refusal]
    assert phone.deliveries == []
    assert phone.unanswered == 0


def test_phone_that_does_not_subscribe_never_subscribes() -> None:
    phone = PhoneMachine(BOB, subscribes=False, default_ask_delay=0.0)
    for n in range(3):
        effects = phone.handle(_notice(f"r-{n}"), POS, float(n))
        assert effects == Effects(
            sends=(Send(POS, NoticeAck(f"r-{n}", "shop-a")),),
            timers=(Timer(float(n), AskDue(f"r-{n}", "shop-a")),),
        )
    (send,) = phone.timer_fired(AskDue("r-0", "shop-a"), 3.0).sends
    assert send.message == AssociationRequest(1, "r-0", "shop-a", BOB)
    assert not phone.subscribed


def test_phone_ignores_other_messages_and_refuses_unknown_timers() -> None:
    phone = PhoneMachine(ALICE)
    assert phone.handle(UploadAck("r-1", "shop-a"), CLOUD, 0.0) == Effects()
    assert phone.handle(Subscribe(BOB), CLOUD, 0.0) == Effects()
    with pytest.raises(LocalProtocolError):
        phone.timer_fired(CheckoutDue(0), 0.0)
