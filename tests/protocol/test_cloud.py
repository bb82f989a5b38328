"""Unit tests of the cloud machine (protocol._machines._cloud), driven by hand without trio."""

from __future__ import annotations

from typing import Any

import pytest

from protocol import (
    CLOUD,
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    Binding,
    CloudConfig,
    CloudMachine,
    CloudNote,
    Effects,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    LocalProtocolError,
    Message,
    MismatchPolicy,
    Offer,
    PendingPush,
    PromotionAck,
    Promotions,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    PushDue,
    PushReason,
    Reason,
    ReceiptNotice,
    RetryPolicy,
    RuleRecommender,
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
from tests.builders import ALICE, BOB, CAROL, MERCHANT, POS, catalog_upload, receipt

CATALOG = builtin_catalog()
TIMEOUT = 60.0


def ill_typed(value: object) -> Any:
    """``value`` passed where another type is declared, on purpose: validation must refuse it."""
    return value


def _expected_products(
    upload: PurchaseUpload, promotions: Promotions | None = None
) -> tuple[AssociatedProduct, ...]:
    """What step 506 should answer: the recommender's products for the purchase."""
    return RuleRecommender().associate(upload, promotions, CloudConfig().max_products)


class Cloud:
    """A cloud machine with an in-memory store, and helpers to talk to it."""

    def __init__(
        self,
        policy: MismatchPolicy = MismatchPolicy.DUAL_SEND,
        store: InMemoryStore | None = None,
    ) -> None:
        self.store = InMemoryStore() if store is None else store
        self.config = CloudConfig(push_timeout=TIMEOUT, mismatch_policy=policy)
        self.machine = CloudMachine(
            store=self.store, recommender=RuleRecommender(), config=self.config
        )

    def send(self, message: Message, sender: str, now: float) -> Effects:
        return self.machine.handle(message, sender, now)

    def subscribe(self, phone_id: str, now: float = 0.0) -> Effects:
        return self.send(Subscribe(phone_id), phone_address(phone_id), now)

    def upload(self, upload: PurchaseUpload, now: float = 0.0) -> Effects:
        return self.send(upload, POS, now)

    def ask(self, phone_id: str, receipt_id: str, now: float, request_id: int = 1) -> Effects:
        request = AssociationRequest(request_id, receipt_id, "shop-a", phone_id)
        return self.send(request, phone_address(phone_id), now)

    def fire(self, receipt_id: str, now: float) -> Effects:
        return self.machine.timer_fired(PushDue(receipt_id, "shop-a"), now)


def _only_send(effects: Effects) -> Send:
    assert len(effects.sends) == 1, effects
    return effects.sends[0]


def _note_kinds(effects: Effects) -> list[str]:
    return [note.kind for note in effects.notes]


# --------------------------------------------------------------------------- subscription


def test_subscribe_is_acknowledged_and_stored() -> None:
    cloud = Cloud()
    assert not cloud.store.is_subscribed(ALICE)
    effects = cloud.subscribe(ALICE, now=3.0)
    assert effects == Effects(sends=(Send(phone_address(ALICE), SubscribeAck(ALICE)),))
    assert cloud.store.is_subscribed(ALICE)
    assert not cloud.store.is_subscribed(BOB)
    # subscribing again is acknowledged again and changes nothing
    assert cloud.subscribe(ALICE, now=9.0) == effects
    assert cloud.store.is_subscribed(ALICE)


# --------------------------------------------------------------------------- step 502/602


def test_upload_is_stored_acknowledged_and_arms_the_push_timer() -> None:
    cloud = Cloud()
    upload = catalog_upload()
    effects = cloud.upload(upload, now=5.0)
    assert effects.sends == (Send(POS, UploadAck("r-1", "shop-a")),)
    assert effects.timers == (Timer(5.0 + TIMEOUT, PushDue("r-1", "shop-a")),)
    assert effects.notes == ()
    assert cloud.store.binding(receipt("r-1")) == Binding(upload, stored_at=5.0)
    assert cloud.store.pending_push(receipt("r-1")) == PendingPush(
        receipt("r-1"), ALICE, 5.0 + TIMEOUT
    )


def test_upload_of_an_unsubscribed_phone_is_still_stored() -> None:
    cloud = Cloud()
    effects = cloud.upload(catalog_upload(phone_id=CAROL), now=1.0)
    assert effects.sends == (Send(POS, UploadAck("r-1", "shop-a")),)
    assert cloud.store.binding(receipt("r-1")) is not None


def test_duplicate_identical_upload_is_reacked_without_a_new_timer() -> None:
    cloud = Cloud()
    upload = catalog_upload()
    cloud.upload(upload, now=5.0)
    again = cloud.upload(upload, now=20.0)
    assert again == Effects(sends=(Send(POS, UploadAck("r-1", "shop-a")),))
    assert cloud.store.binding(receipt("r-1")) == Binding(upload, stored_at=5.0)
    assert cloud.store.pending_push(receipt("r-1")) == PendingPush(
        receipt("r-1"), ALICE, 5.0 + TIMEOUT
    )


@pytest.mark.parametrize(
    "conflicting",
    [
        catalog_upload(phone_id=BOB),
        catalog_upload(skus=("SKIN-FW-002",)),
        catalog_upload(skus=("SKIN-FW-001",) * 2),
    ],
    ids=["other phone", "other goods", "more goods"],
)
def test_conflicting_upload_is_refused(conflicting: PurchaseUpload) -> None:
    cloud = Cloud()
    original = catalog_upload()
    cloud.upload(original, now=5.0)
    effects = cloud.upload(conflicting, now=6.0)
    reply = _only_send(effects)
    assert reply.to == POS
    assert isinstance(reply.message, ErrorReply)
    assert reply.message.code is ErrorCode.CONFLICTING_UPLOAD
    assert reply.message.receipt_id == "r-1"
    assert effects.timers == ()
    assert cloud.store.binding(receipt("r-1")) == Binding(original, stored_at=5.0)


# --------------------------------------------------------------------------- steps 503-508


def test_request_for_an_unknown_receipt_is_refused() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    effects = cloud.ask(ALICE, "r-404", now=1.0, request_id=7)
    reply = _only_send(effects)
    assert reply.to == phone_address(ALICE)
    assert isinstance(reply.message, ErrorReply)
    assert reply.message.code is ErrorCode.UNKNOWN_RECEIPT
    assert reply.message.request_id == 7
    assert reply.message.receipt_id == "r-404"


def test_request_from_an_unsubscribed_phone_is_refused() -> None:
    cloud = Cloud()
    cloud.upload(catalog_upload(phone_id=ALICE), now=0.0)
    effects = cloud.ask(ALICE, "r-1", now=1.0, request_id=3)
    reply = _only_send(effects)
    assert reply.to == phone_address(ALICE)
    assert isinstance(reply.message, ErrorReply)
    assert reply.message.code is ErrorCode.NOT_SUBSCRIBED
    assert (reply.message.request_id, reply.message.receipt_id) == (3, "r-1")
    # the refusal delivered nothing, so the push period still runs
    assert cloud.store.pending_push(receipt("r-1")) is not None


def test_matching_request_is_answered_and_the_push_never_follows() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    upload = catalog_upload()
    cloud.upload(upload, now=0.0)
    effects = cloud.ask(ALICE, "r-1", now=10.0, request_id=4)
    assert effects.notes == ()
    reply = _only_send(effects)
    assert reply == Send(
        phone_address(ALICE), AssociationResponse(4, "r-1", "shop-a", _expected_products(upload))
    )
    assert isinstance(reply.message, AssociationResponse)
    assert [p.category for p in reply.message.products[:2]] == ["lotion", "cream"]
    assert effects.cancels == (PushDue("r-1", "shop-a"),)  # the driver may drop the push timer
    assert cloud.store.pending_push(receipt("r-1")) is None
    assert cloud.fire("r-1", now=TIMEOUT) == Effects()
    assert cloud.fire("r-1", now=10 * TIMEOUT) == Effects()


def test_response_goes_back_to_the_sender_address() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    cloud.upload(catalog_upload())
    reply = _only_send(cloud.ask(ALICE, "r-1", now=1.0))
    assert reply.to == phone_address(ALICE)
    assert isinstance(reply.message, AssociationResponse)


def test_the_requester_is_the_sender_never_the_phone_id_field() -> None:
    """Step 504 reads the authenticated sender: a request naming another phone is forged."""
    cloud = Cloud()
    cloud.subscribe(ALICE)
    cloud.subscribe(BOB)
    cloud.upload(catalog_upload())
    for sender in ("relay:7", phone_address(BOB), POS):
        effects = cloud.send(AssociationRequest(1, "r-1", "shop-a", ALICE), sender, now=1.0)
        reply = _only_send(effects)
        assert reply.to == sender
        assert reply.message == ErrorReply(
            ErrorCode.FORGED_IDENTIFIER,
            f"{sender} may not act for {phone_address(ALICE)}",
            "r-1",
            1,
            MERCHANT,
        )
        assert not effects.timers and not effects.cancels and not effects.notes
    assert cloud.store.pending_push(receipt("r-1")) is not None  # the push to Alice still comes
    assert not cloud.store.was_delivered(receipt("r-1"), ALICE)


def test_mismatch_under_dual_send_answers_both_devices_once() -> None:
    cloud = Cloud(MismatchPolicy.DUAL_SEND)
    cloud.subscribe(ALICE)
    cloud.subscribe(BOB)
    upload = catalog_upload(phone_id=ALICE)  # the POS named Alice; Bob asks
    cloud.upload(upload, now=0.0)
    products = _expected_products(upload)

    first = cloud.ask(BOB, "r-1", now=10.0, request_id=1)
    assert first.sends == (
        Send(phone_address(BOB), AssociationResponse(1, "r-1", "shop-a", products)),
        Send(
            phone_address(ALICE),
            AssociationPush("r-1", "shop-a", ALICE, PushReason.DUAL_SEND, products),
        ),
    )
    assert _note_kinds(first) == [CloudNote.MISMATCH]
    assert first.notes[0].phone_id == BOB
    assert first.cancels == (PushDue("r-1", "shop-a"),)

    second = cloud.ask(BOB, "r-1", now=20.0, request_id=2)
    assert second.sends == (
        Send(phone_address(BOB), AssociationResponse(2, "r-1", "shop-a", products)),
    )
    assert _note_kinds(second) == [CloudNote.MISMATCH]
    # Alice got the products as the dual-send: no timeout push follows
    assert cloud.fire("r-1", now=TIMEOUT) == Effects()


def test_dual_send_to_an_unsubscribed_named_phone_is_withheld() -> None:
    cloud = Cloud(MismatchPolicy.DUAL_SEND)
    cloud.subscribe(BOB)
    cloud.upload(catalog_upload(phone_id=CAROL), now=0.0)
    effects = cloud.ask(BOB, "r-1", now=1.0)
    reply = _only_send(effects)
    assert reply.to == phone_address(BOB)
    assert isinstance(reply.message, AssociationResponse)
    assert _note_kinds(effects) == [CloudNote.MISMATCH, CloudNote.DUAL_SEND_WITHHELD]
    assert effects.notes[1].phone_id == CAROL
    assert effects.notes[1].receipt_id == "r-1"


def test_named_phone_subscribing_later_gets_the_timeout_push_after_a_withheld_dual_send() -> None:
    cloud = Cloud(MismatchPolicy.DUAL_SEND)
    cloud.subscribe(BOB)
    cloud.upload(catalog_upload(phone_id=CAROL), now=0.0)
    cloud.ask(BOB, "r-1", now=1.0)
    cloud.subscribe(CAROL, now=2.0)
    push = _only_send(cloud.fire("r-1", now=TIMEOUT))
    assert push.to == phone_address(CAROL)
    assert isinstance(push.message, AssociationPush)
    assert push.message.reason is PushReason.TIMEOUT


def test_mismatch_under_reject_refuses_and_sends_nothing_to_the_named_phone() -> None:
    cloud = Cloud(MismatchPolicy.REJECT)
    cloud.subscribe(ALICE)
    cloud.subscribe(BOB)
    upload = catalog_upload(phone_id=ALICE)
    cloud.upload(upload, now=0.0)
    effects = cloud.ask(BOB, "r-1", now=10.0, request_id=5)
    reply = _only_send(effects)
    assert reply.to == phone_address(BOB)
    assert isinstance(reply.message, ErrorReply)
    assert reply.message.code is ErrorCode.IDENTIFIER_MISMATCH
    assert (reply.message.request_id, reply.message.receipt_id) == (5, "r-1")
    assert _note_kinds(effects) == [CloudNote.MISMATCH]
    assert effects.cancels == ()
    # the named phone still gets its timeout push, and only it
    push = _only_send(cloud.fire("r-1", now=TIMEOUT))
    assert push == Send(
        phone_address(ALICE),
        AssociationPush("r-1", "shop-a", ALICE, PushReason.TIMEOUT, _expected_products(upload)),
    )


# --------------------------------------------------------------------------- step 603


def test_no_request_means_exactly_one_timeout_push_at_the_deadline() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    upload = catalog_upload()
    cloud.upload(upload, now=7.0)
    push = cloud.fire("r-1", now=7.0 + TIMEOUT)
    expected = AssociationPush(
        "r-1", "shop-a", ALICE, PushReason.TIMEOUT, _expected_products(upload)
    )
    resend = Timer(7.0 + TIMEOUT + RetryPolicy().first_delay, Resend((receipt("r-1"), ALICE)))
    assert push == Effects(sends=(Send(phone_address(ALICE), expected),), timers=(resend,))
    assert cloud.store.pending_push(receipt("r-1")) is None
    assert cloud.fire("r-1", now=7.0 + TIMEOUT) == Effects()
    assert cloud.fire("r-1", now=100 * TIMEOUT) == Effects()
    # unacknowledged, the push is sent again; the phone's PushAck ends that
    assert tuple(cloud.store.outgoing()) == (expected,)
    again = cloud.machine.timer_fired(resend.key, resend.at)
    assert again.sends == push.sends
    acked = cloud.send(PushAck("r-1", "shop-a", ALICE), phone_address(ALICE), now=resend.at + 1)
    assert acked == Effects(cancels=(resend.key,))
    assert tuple(cloud.store.outgoing()) == ()
    assert cloud.machine.timer_fired(resend.key, resend.at + 100) == Effects()


def test_timer_fired_early_does_nothing() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    cloud.upload(catalog_upload(), now=7.0)
    assert cloud.fire("r-1", now=7.0) == Effects()
    assert cloud.fire("r-1", now=6.9 + TIMEOUT) == Effects()
    assert cloud.store.pending_push(receipt("r-1")) == PendingPush(
        receipt("r-1"), ALICE, 7.0 + TIMEOUT
    )
    pushed = cloud.fire("r-1", now=7.5 + TIMEOUT)
    assert isinstance(_only_send(pushed).message, AssociationPush)


def test_push_to_an_unsubscribed_phone_is_withheld() -> None:
    cloud = Cloud()
    cloud.upload(catalog_upload(phone_id=CAROL), now=0.0)
    effects = cloud.fire("r-1", now=TIMEOUT)
    assert effects.sends == ()
    assert _note_kinds(effects) == [CloudNote.PUSH_WITHHELD]
    assert (effects.notes[0].receipt_id, effects.notes[0].phone_id) == ("r-1", CAROL)
    # withheld once and for all: subscribing later does not revive it
    cloud.subscribe(CAROL, now=TIMEOUT + 1)
    assert cloud.fire("r-1", now=2 * TIMEOUT) == Effects()


def test_pull_after_push_is_still_answered() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    upload = catalog_upload()
    cloud.upload(upload, now=0.0)
    push = _only_send(cloud.fire("r-1", now=TIMEOUT))
    assert isinstance(push.message, AssociationPush)
    pull = cloud.ask(ALICE, "r-1", now=TIMEOUT + 5, request_id=9)
    # The answer supersedes the unacknowledged push: it is not re-sent (nor kept).
    assert pull.cancels == (Resend((receipt("r-1"), ALICE)),)
    assert cloud.machine.store.outgoing() == ()
    reply = _only_send(pull)
    assert reply == Send(
        phone_address(ALICE), AssociationResponse(9, "r-1", "shop-a", _expected_products(upload))
    )
    assert cloud.fire("r-1", now=3 * TIMEOUT) == Effects()


def test_pushes_of_several_receipts_are_independent() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    cloud.subscribe(BOB)
    cloud.upload(catalog_upload("r-1", ALICE), now=0.0)
    cloud.upload(catalog_upload("r-2", BOB), now=30.0)
    cloud.ask(ALICE, "r-1", now=1.0)
    assert cloud.fire("r-1", now=TIMEOUT) == Effects()
    push = _only_send(cloud.fire("r-2", now=30.0 + TIMEOUT))
    assert push.to == phone_address(BOB)


# --------------------------------------------------------------------------- promotions, 507


def test_promotions_are_appended_to_the_products() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    update = PromotionUpdate(
        MERCHANT,
        popular=("FOOD-BR-001",),
        offers=(Offer("FOOD-PA-001", "two for one", 1.25),),
    )
    assert cloud.send(update, POS, now=0.0) == Effects(sends=(Send(POS, PromotionAck(MERCHANT)),))
    upload = catalog_upload()
    cloud.upload(upload, now=0.0)
    reply = _only_send(cloud.ask(ALICE, "r-1", now=1.0))
    assert isinstance(reply.message, AssociationResponse)
    products = reply.message.products
    assert products == _expected_products(upload, Promotions.from_update(update))
    ranked, offer, popular = products[:-2], products[-2], products[-1]
    assert ranked and all(p.reason is Reason.COMPLEMENT for p in ranked)
    assert (offer.sku, offer.reason, offer.offer, offer.price) == (
        "FOOD-PA-001",
        Reason.OFFER,
        "two for one",
        1.25,
    )
    assert (popular.sku, popular.reason) == ("FOOD-BR-001", Reason.POPULAR)


def test_promotions_of_another_merchant_are_not_sent() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    cloud.send(PromotionUpdate("shop-b", ("FOOD-BR-001",), ()), POS, now=0.0)
    cloud.upload(catalog_upload(), now=0.0)
    reply = _only_send(cloud.ask(ALICE, "r-1", now=1.0))
    assert isinstance(reply.message, AssociationResponse)
    assert not any(p.reason.is_promotion for p in reply.message.products)


def test_step_507_saves_the_matching_relation() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    upload = catalog_upload(skus=("SKIN-FW-001", "FOOD-PA-001"))
    cloud.upload(upload, now=0.0)
    assert cloud.store.matching_relation(receipt("r-1")) is None
    reply = _only_send(cloud.ask(ALICE, "r-1", now=12.0))
    assert isinstance(reply.message, AssociationResponse)
    relation = cloud.store.matching_relation(receipt("r-1"))
    assert relation is not None
    assert relation.receipt == receipt("r-1")
    assert relation.phone_id == ALICE
    assert relation.goods == ("SKIN-FW-001", "FOOD-PA-001")
    assert relation.associated == tuple(p.sku for p in reply.message.products)
    assert relation.saved_at == 12.0


def test_step_604_saves_the_matching_relation_of_a_push() -> None:
    cloud = Cloud()
    cloud.subscribe(ALICE)
    cloud.upload(catalog_upload(), now=0.0)
    push = _only_send(cloud.fire("r-1", now=TIMEOUT))
    assert isinstance(push.message, AssociationPush)
    relation = cloud.store.matching_relation(receipt("r-1"))
    assert relation is not None
    assert relation.associated == tuple(p.sku for p in push.message.products)
    assert relation.saved_at == TIMEOUT


# --------------------------------------------------------------------------- restart


def test_restart_rearms_pending_pushes_at_their_original_deadlines() -> None:
    store = InMemoryStore()
    before = Cloud(store=store)
    before.subscribe(ALICE)
    before.subscribe(BOB)
    before.upload(catalog_upload("r-1", ALICE), now=0.0)
    before.upload(catalog_upload("r-2", BOB), now=10.0)
    before.upload(catalog_upload("r-3", ALICE), now=20.0)
    before.ask(BOB, "r-2", now=15.0)  # answered: nothing pending for r-2
    assert before.machine.start(0.0).timers  # a first start also arms what is pending

    after = Cloud(store=store)  # the process restarts on the same store
    effects = after.machine.start(now=30.0)
    assert effects.sends == ()
    assert sorted(effects.timers, key=lambda t: t.at) == [
        Timer(TIMEOUT, PushDue("r-1", "shop-a")),
        Timer(20.0 + TIMEOUT, PushDue("r-3", "shop-a")),
    ]
    push = _only_send(after.fire("r-1", now=TIMEOUT))
    assert push.to == phone_address(ALICE)
    assert after.fire("r-2", now=10.0 + TIMEOUT) == Effects()
    # a second restart re-arms only what is still pending, and sends the push of r-1
    # again: its phone never acknowledged it
    again = Cloud(store=store).machine.start(now=70.0)
    assert again.sends == (push,)
    assert again.timers == (
        Timer(20.0 + TIMEOUT, PushDue("r-3", "shop-a")),
        Timer(70.0 + RetryPolicy().first_delay, Resend((receipt("r-1"), ALICE))),
    )


def test_a_restart_does_not_resend_a_push_the_phone_was_answered_about() -> None:
    # Found by TestDualSendProtocol: the timeout push is lost, the phone asks and is
    # answered, then the cloud restarts. The push must not arrive after the response.
    store = InMemoryStore()
    before = Cloud(store=store)
    before.subscribe(ALICE)
    before.upload(catalog_upload("r-1", ALICE), now=0.0)
    assert isinstance(_only_send(before.fire("r-1", now=TIMEOUT)).message, AssociationPush)
    reply = _only_send(before.ask(ALICE, "r-1", now=TIMEOUT))
    assert isinstance(reply.message, AssociationResponse)
    assert Cloud(store=store).machine.start(now=TIMEOUT + 1) == Effects()


def test_start_of_an_empty_cloud_does_nothing() -> None:
    assert Cloud().machine.start(0.0) == Effects()


# --------------------------------------------------------------------------- misuse


@pytest.mark.parametrize(
    "message",
    [
        SubscribeAck(ALICE),
        UploadAck("r-1", "shop-a"),
        ReceiptNotice("r-1", MERCHANT, 0.0),
        AssociationResponse(1, "r-1", "shop-a", ()),
        AssociationPush("r-1", "shop-a", ALICE, PushReason.TIMEOUT, ()),
    ],
    ids=lambda m: type(m).__name__,
)
def test_unexpected_message_types_are_refused(message: Message) -> None:
    cloud = Cloud()
    reply = _only_send(cloud.send(message, "phone:+8613800000009", now=0.0))
    assert reply.to == "phone:+8613800000009"
    assert isinstance(reply.message, ErrorReply)
    assert reply.message.code is ErrorCode.UNEXPECTED_MESSAGE
    assert type(message).__name__ in reply.message.detail


def test_an_error_is_never_answered_with_an_error() -> None:
    cloud = Cloud()
    assert cloud.send(ErrorReply(ErrorCode.UNEXPECTED_MESSAGE, "?"), POS, now=0.0) == Effects()


@pytest.mark.parametrize("key", ["r-1", ("push", "r-1"), None, 42])
def test_timer_fired_with_an_unknown_key_raises(key: object) -> None:
    cloud = Cloud()
    cloud.upload(catalog_upload())
    with pytest.raises(LocalProtocolError):
        cloud.machine.timer_fired(key, TIMEOUT)


def test_push_timer_of_an_unknown_receipt_does_nothing() -> None:
    assert Cloud().fire("r-never", now=1e6) == Effects()


def test_config_validation() -> None:
    with pytest.raises(LocalProtocolError):
        CloudConfig(push_timeout=0.0)
    with pytest.raises(LocalProtocolError):
        CloudConfig(push_timeout=float("inf"))
    with pytest.raises(LocalProtocolError):
        CloudConfig(max_products=0)
    with pytest.raises(LocalProtocolError):
        CloudConfig(max_products=ill_typed(2.5))
    assert CloudConfig().mismatch_policy is MismatchPolicy.DUAL_SEND
    assert CLOUD == "cloud"
