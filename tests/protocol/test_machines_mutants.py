"""Gaps a mutation audit of the cloud's machine found (``protocol/_machines/_cloud.py``):
one-edit bugs no test saw. Each test here fails on its planted mutant (``tests/planted/``)
and passes on the real code; the tests beside each show the mutant is caught.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from protocol import (
    CLOUD,
    AskDue,
    AssociationRequest,
    AssociationResponse,
    Checkout,
    CheckoutDue,
    CloudConfig,
    CloudMachine,
    Effects,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    InvalidMessage,
    LocalProtocolError,
    NoticeAck,
    PhoneMachine,
    PosMachine,
    PurchaseUpload,
    PushDue,
    ReceiptKey,
    ReceiptNotice,
    RetryPolicy,
    RuleRecommender,
    Send,
    Subscribe,
    Timer,
    UploadAck,
    phone_address,
)
from protocol._machines._lifecycle import ReceiptState, receipt_state
from protocol.lowlevel import Outbox, Resend
from tests.builders import ALICE, POS, catalog_items, catalog_upload, sent_pushes
from tests.planted.capped_attempt_delay import CappedAttemptPolicy
from tests.planted.deaf_notice_pos import DeafNoticePos
from tests.planted.echoing_outbox import EchoingOutbox
from tests.planted.forgetful_restart_pos import ForgetfulRestartPos
from tests.planted.impatient_phone import ImpatientPhone
from tests.planted.long_buyer_checkout import LongBuyerCheckout
from tests.planted.one_product_refused import OneProductRefusedConfig, OneSendRefusedPolicy
from tests.planted.reasking_phone import ReaskingPhone
from tests.planted.renoting_pos import RenotingPos
from tests.planted.reringing_pos import ReringingPos
from tests.planted.resend_forgetting_cloud import ResendForgettingCloud
from tests.planted.silent_resume_outbox import SilentResumeOutbox
from tests.planted.unforgetting_phone import UnforgettingPhone
from tests.planted.unlearning_cloud import UnlearningCloud
from tests.planted.unrecording_phone import UnrecordingPhone

# --------------------------------------------------------------------------- the smallest config


def smallest_config_answers(config_class: type[CloudConfig]) -> int:
    """How many products a cloud configured with one product at most answers with."""
    config = config_class(push_timeout=1e-9, max_products=1)
    cloud = CloudMachine(store=InMemoryStore(), recommender=RuleRecommender(), config=config)
    cloud.handle(Subscribe(ALICE), phone_address(ALICE), 0.0)
    cloud.handle(catalog_upload("r-1", ALICE), POS, 0.0)
    request = AssociationRequest(1, "r-1", "shop-a", ALICE)
    (answer,) = cloud.handle(request, phone_address(ALICE), 0.0).sends
    assert isinstance(answer.message, AssociationResponse)
    return len(answer.message.products)


def test_the_smallest_valid_config_is_accepted_and_obeyed() -> None:
    # The boundaries the validators refuse below (0 products, no timeout) are valid here.
    assert smallest_config_answers(CloudConfig) == 1


def test_a_config_refusing_one_product_is_caught() -> None:
    with pytest.raises(LocalProtocolError, match="at least 2"):
        smallest_config_answers(OneProductRefusedConfig)


def one_send(policy_class: type[RetryPolicy]) -> bool:
    """Whether an outbox allowed one send gives up at its first re-send timer."""
    outbox = Outbox(policy_class(max_attempts=1))
    outbox.send("k", Send(phone_address(ALICE), Subscribe(ALICE)), 0.0)
    return outbox.resend_due("k", 2.0).gave_up


def test_a_policy_of_one_send_is_accepted_and_never_resends() -> None:
    assert one_send(RetryPolicy)


def test_a_policy_refusing_one_send_is_caught() -> None:
    with pytest.raises(LocalProtocolError, match="at least 2"):
        one_send(OneSendRefusedPolicy)


# --------------------------------------------------------------------------- step 507: learning


class RecordingRecommender(RuleRecommender):
    """The rules, and the receipts it was taught, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.taught: list[str] = []

    def observe(self, purchase: PurchaseUpload) -> None:
        self.taught.append(purchase.receipt_id)
        super().observe(purchase)


def taught(cloud_class: type[CloudMachine]) -> tuple[list[str], list[str]]:
    """What a cloud teaches its recommender from two uploads, a repeat and a conflict;
    and what a restarted cloud on the same store relearns."""
    store = InMemoryStore()
    first = RecordingRecommender()
    cloud = cloud_class(store=store, recommender=first)
    for upload in (
        catalog_upload("r-1", ALICE),
        catalog_upload("r-2", ALICE),
        catalog_upload("r-1", ALICE),  # a repeat: learnt once
        catalog_upload("r-2", ALICE, ("FOOD-PA-001",)),  # a conflict: refused
    ):
        cloud.handle(upload, POS, 0.0)
    again = RecordingRecommender()
    cloud_class(store=store, recommender=again).start(1.0)
    return first.taught, again.taught


def test_every_stored_upload_is_learnt_once_and_relearnt_after_a_restart() -> None:
    assert taught(CloudMachine) == (["r-1", "r-2"], ["r-1", "r-2"])


def test_a_cloud_that_never_learns_is_caught() -> None:
    assert taught(UnlearningCloud) == ([], [])


# --------------------------------------------------------------------------- 605: re-sends


def after_a_resend(cloud_class: type[CloudMachine]) -> tuple[ReceiptState, int]:
    """A timeout push re-sent once, unacknowledged: the receipt's state, and how many pushes
    a cloud restarted on the same store sends."""
    store = InMemoryStore()
    config = CloudConfig(push_timeout=60.0, retry=RetryPolicy(first_delay=1.0, max_attempts=3))
    cloud = cloud_class(store=store, recommender=RuleRecommender(), config=config)
    cloud.handle(Subscribe(ALICE), phone_address(ALICE), 0.0)
    cloud.handle(catalog_upload("r-1", ALICE), POS, 0.0)
    assert sent_pushes(cloud.timer_fired(PushDue("r-1", "shop-a"), 60.0))
    key = ReceiptKey("shop-a", "r-1")
    assert sent_pushes(cloud.timer_fired(Resend((key, ALICE)), 61.0))  # re-sent, not given up
    restarted = cloud_class(store=store, recommender=RuleRecommender(), config=config)
    return receipt_state(store, key), len(sent_pushes(restarted.start(62.0)))


def test_a_resent_push_is_kept_until_acknowledged_or_given_up() -> None:
    # Only giving up (or the PushAck, or a response) ends a push: a restart sends it again.
    assert after_a_resend(CloudMachine) == (ReceiptState.PUSHED, 1)


def test_a_cloud_forgetting_a_push_at_its_first_resend_is_caught() -> None:
    assert after_a_resend(ResendForgettingCloud) == (ReceiptState.DELIVERED, 0)


# --------------------------------------------------------------------------- the outbox


def acknowledged_twice(outbox_class: type[Outbox]) -> tuple[Effects, Effects]:
    """An outbox's answers to the first and to a repeated acknowledgement of one key."""
    outbox = outbox_class(RetryPolicy(first_delay=1.0))
    outbox.send("k", Send(phone_address(ALICE), Subscribe(ALICE)), 0.0)
    return outbox.acknowledge("k"), outbox.acknowledge("k")


def test_a_repeated_acknowledgement_changes_nothing() -> None:
    assert acknowledged_twice(Outbox) == (Effects(cancels=(Resend("k"),)), Effects())


def test_an_outbox_echoing_every_acknowledgement_is_caught() -> None:
    assert acknowledged_twice(EchoingOutbox)[1] == Effects(cancels=(Resend("k"),))


SUBSCRIBE = Send(phone_address(ALICE), Subscribe(ALICE))


def resumed(outbox_class: type[Outbox]) -> tuple[Effects, Effects]:
    """A key sent at 0 and resumed at 10 (a restart), then its re-send timer fired."""
    outbox = outbox_class(RetryPolicy(first_delay=1.0, factor=2.0, max_attempts=3))
    outbox.send("k", SUBSCRIBE, 0.0)
    return outbox.resume(10.0), outbox.resend_due("k", 12.0).effects


def test_a_restart_sends_everything_waiting_again_as_its_next_attempt() -> None:
    # Send 2 at once, its timer delay(2) later; send 3 at that timer is the last.
    assert resumed(Outbox) == (
        Effects(sends=(SUBSCRIBE,), timers=(Timer(12.0, Resend("k")),)),
        Effects(sends=(SUBSCRIBE,), timers=(Timer(16.0, Resend("k")),)),
    )


def test_an_outbox_silent_at_a_restart_is_caught() -> None:
    assert resumed(SilentResumeOutbox)[0] == Effects(timers=(Timer(12.0, Resend("k")),))


# --------------------------------------------------------------------------- backoff


def slow_and_constant_delays(policy_class: type[RetryPolicy]) -> tuple[list[float], list[float]]:
    """Sends 1-199 of a backoff growing 1% a time, and sends 60-70 of a constant one."""
    slow = policy_class(first_delay=1.0, factor=1.01, max_delay=60.0)
    constant = policy_class(first_delay=1.0, factor=1.0, max_delay=60.0)
    return [slow.delay(n) for n in range(1, 200)], [constant.delay(n) for n in range(60, 71)]


def test_a_backoff_grows_by_its_factor_at_every_send_however_many() -> None:
    # CODE FIX found by the audit: the delay jumped to max_delay at send 65 whatever the
    # policy; now only an overflowing factor ** attempt gives max_delay.
    slow, constant = slow_and_constant_delays(RetryPolicy)
    assert all(b == pytest.approx(min(a * 1.01, 60.0)) for a, b in itertools.pairwise(slow))
    assert constant == [1.0] * 11
    assert RetryPolicy(factor=2.0).delay(10**6) == RetryPolicy().max_delay  # no OverflowError


def test_the_old_delay_jumping_at_send_65_is_caught() -> None:
    slow, constant = slow_and_constant_delays(CappedAttemptPolicy)
    assert (slow[64], constant[5]) == (60.0, 60.0)  # sends 65: max_delay, not ~1.9 and 1.0


# --------------------------------------------------------------------------- the phone restarts


def restarted_phone(phone_class: type[PhoneMachine]) -> tuple[Effects, Effects]:
    """A phone's first start, and its start after a crash: two receipts noticed, the user
    asked about r-1 (unanswered) and not yet about r-2."""
    phone = phone_class(ALICE, subscribes=False, default_ask_delay=30.0)
    first = phone.start(0.0)
    for receipt_id in ("r-1", "r-2"):
        phone.handle(ReceiptNotice(receipt_id, "shop-a", 0.0), POS, 1.0)
    phone.timer_fired(AskDue("r-1", "shop-a"), 30.0)
    return first, phone.start(40.0)


def test_a_restarted_phone_resends_what_is_unanswered_and_rearms_only_asks_not_made() -> None:
    first, again = restarted_phone(PhoneMachine)
    assert first == Effects()  # nothing at first
    assert [type(s.message) for s in again.sends] == [AssociationRequest]
    asks = [t for t in again.timers if isinstance(t.key, AskDue)]
    assert asks == [Timer(30.0, AskDue("r-2", "shop-a"))]  # r-1 was asked: not again


def test_a_phone_asking_again_after_a_restart_is_caught() -> None:
    _, again = restarted_phone(ReaskingPhone)
    assert {t.key for t in again.timers if isinstance(t.key, AskDue)} == {
        AskDue("r-1", "shop-a"),
        AskDue("r-2", "shop-a"),
    }


def refused_after_a_resend(phone_class: type[PhoneMachine]) -> tuple[int, int]:
    """A request re-sent once, then refused by the cloud: the refusals the phone recorded,
    and the messages it is still re-sending."""
    phone = phone_class(ALICE, subscribes=False)
    phone.ask(ReceiptKey("shop-a", "r-1"), 0.0)
    assert phone.timer_fired(Resend(1), 2.0).sends  # re-sent, not given up
    refusal = ErrorReply(ErrorCode.UNKNOWN_RECEIPT, "no such receipt", "r-1", 1, "shop-a")
    phone.handle(refusal, "cloud", 3.0)
    return len(phone.refusals), phone.unanswered


def test_a_refusal_of_a_resent_request_is_taken_and_ends_the_resends() -> None:
    assert refused_after_a_resend(PhoneMachine) == (1, 0)


def test_a_phone_forgetting_a_request_at_its_first_resend_is_caught() -> None:
    assert refused_after_a_resend(ImpatientPhone) == (0, 1)


# --------------------------------------------------------------------------- the POS's checkouts


def buyer_lengths_taken(checkout_class: Any) -> tuple[bool, bool]:
    """Whether a checkout takes a buyer's address of 200 characters, and one of 201."""

    def takes(length: int) -> bool:
        try:
            checkout_class(
                at=0.0,
                receipt_id="r-1",
                phone_id=ALICE,
                buyer="b" * length,
                items=catalog_items("SKIN-FW-001"),
            )
        except InvalidMessage:
            return False
        return True

    return takes(200), takes(201)


def test_a_checkout_takes_a_buyer_address_of_200_characters_at_most() -> None:
    assert buyer_lengths_taken(Checkout) == (True, False)


def test_a_checkout_taking_a_longer_buyer_address_is_caught() -> None:
    assert buyer_lengths_taken(LongBuyerCheckout) == (True, True)


def checkouts_rearmed(pos_class: type[PosMachine]) -> tuple[tuple[Timer, ...], tuple[Timer, ...]]:
    """The checkout timers a POS of three checkouts arms when restarted after ringing up
    the first, and when restarted again after ringing up all three."""
    checkouts = [
        Checkout(at, f"r-{n}", ALICE, phone_address(ALICE), catalog_items("SKIN-FW-001"))
        for n, at in enumerate((10.0, 20.0, 30.0))
    ]
    pos = pos_class("shop-a", "pos-1", checkouts)
    pos.start(100.0)
    pos.timer_fired(CheckoutDue(0), 110.0)
    first = tuple(t for t in pos.start(125.0).timers if isinstance(t.key, CheckoutDue))
    pos.timer_fired(CheckoutDue(1), 125.0)  # fell due while down: armed at once
    pos.timer_fired(CheckoutDue(2), 130.0)
    last = tuple(t for t in pos.start(140.0).timers if isinstance(t.key, CheckoutDue))
    return first, last


def test_a_restarted_pos_rearms_its_next_checkout_and_none_past_the_last() -> None:
    # Checkout times count from the first start (100): the next one was due at 120.
    assert checkouts_rearmed(PosMachine) == ((Timer(120.0, CheckoutDue(1)),), ())


def test_a_pos_forgetting_its_checkouts_at_a_restart_is_caught() -> None:
    assert checkouts_rearmed(ForgetfulRestartPos) == ((), ())


def stale_checkouts_sent(pos_class: type[PosMachine]) -> int:
    """Messages a POS sends when the timer of a checkout it already rang up fires again,
    and when a later checkout's timer fires before its turn."""
    checkouts = [
        Checkout(at, f"r-{n}", ALICE, phone_address(ALICE), catalog_items("SKIN-FW-001"))
        for n, at in enumerate((10.0, 20.0, 30.0))
    ]
    pos = pos_class("shop-a", "pos-1", checkouts)
    pos.start(100.0)
    assert pos.timer_fired(CheckoutDue(0), 110.0).sends  # rung up once
    repeated = pos.timer_fired(CheckoutDue(0), 111.0)
    early = pos.timer_fired(CheckoutDue(2), 112.0)
    return len(repeated.sends) + len(early.sends)


def test_a_checkout_is_rung_up_once_and_only_in_its_turn() -> None:
    assert stale_checkouts_sent(PosMachine) == 0


def test_a_pos_ringing_up_again_on_a_stale_timer_is_caught() -> None:
    assert stale_checkouts_sent(ReringingPos) == 2


def notice_resends_after_its_ack(pos_class: type[PosMachine]) -> tuple[int, int]:
    """A receipt notice acknowledged by the phone: the timers the acknowledgement cancels,
    and the messages the POS is still re-sending."""
    checkout = Checkout(10.0, "r-1", ALICE, phone_address(ALICE), catalog_items("SKIN-FW-001"))
    pos = pos_class("shop-a", "pos-1", (checkout,))
    pos.start(0.0)
    pos.timer_fired(CheckoutDue(0), 10.0)
    assert pos.handle(UploadAck("r-1", "shop-a"), CLOUD, 11.0).sends  # the notice
    acked = pos.handle(NoticeAck("r-1", "shop-a"), phone_address(ALICE), 12.0)
    return len(acked.cancels), pos.unacknowledged


def test_a_notice_acknowledged_by_the_phone_is_not_resent() -> None:
    assert notice_resends_after_its_ack(PosMachine) == (1, 0)


def test_a_pos_deaf_to_notice_acks_is_caught() -> None:
    assert notice_resends_after_its_ack(DeafNoticePos) == (0, 1)


def refusals_noted(pos_class: type[PosMachine]) -> int:
    """Notes a POS makes when the cloud refuses its upload twice (the refusal of the upload
    and of its re-send)."""
    checkout = Checkout(10.0, "r-1", ALICE, phone_address(ALICE), catalog_items("SKIN-FW-001"))
    pos = pos_class("shop-a", "pos-1", (checkout,))
    pos.start(0.0)
    pos.timer_fired(CheckoutDue(0), 10.0)
    refusal = ErrorReply(ErrorCode.CONFLICTING_UPLOAD, "bound elsewhere", "r-1", None, "shop-a")
    return sum(len(pos.handle(refusal, CLOUD, at).notes) for at in (11.0, 12.0))


def test_a_refusal_repeated_is_noted_once() -> None:
    assert refusals_noted(PosMachine) == 1


def test_a_pos_noting_a_repeated_refusal_again_is_caught() -> None:
    assert refusals_noted(RenotingPos) == 2


def refusals_after_an_answer(phone_class: type[PhoneMachine]) -> int:
    """Refusals a phone records when a request it re-sent is answered, then the re-sent
    copy refused."""
    phone = phone_class(ALICE, subscribes=False)
    phone.ask(ReceiptKey("shop-a", "r-1"), 0.0)
    assert phone.timer_fired(Resend(1), 2.0).sends  # re-sent
    phone.handle(AssociationResponse(1, "r-1", "shop-a", ()), CLOUD, 3.0)
    refusal = ErrorReply(ErrorCode.UNKNOWN_RECEIPT, "no such receipt", "r-1", 1, "shop-a")
    phone.handle(refusal, CLOUD, 4.0)
    return len(phone.refusals)


def test_a_refusal_after_the_answer_of_a_request_is_ignored() -> None:
    assert refusals_after_an_answer(PhoneMachine) == 0


def test_a_phone_keeping_an_answered_request_is_caught() -> None:
    assert refusals_after_an_answer(UnforgettingPhone) == 1


def refusals_naming_no_request(phone_class: type[PhoneMachine]) -> int:
    """Refusals a phone records of a refusal that names no request."""
    phone = phone_class(ALICE, subscribes=False)
    phone.handle(ErrorReply(ErrorCode.UNEXPECTED_MESSAGE, "not expected"), CLOUD, 1.0)
    return len(phone.refusals)


def test_a_refusal_naming_no_request_is_recorded() -> None:
    assert refusals_naming_no_request(PhoneMachine) == 1


def test_a_phone_losing_a_refusal_naming_no_request_is_caught() -> None:
    assert refusals_naming_no_request(UnrecordingPhone) == 0
