"""The outbox's explicit gave-up result (protocol._machines._outbox), and what each machine forgets
when its outbox gives up on a key."""

from __future__ import annotations

from collections.abc import Callable

from protocol import (
    CLOUD,
    AssociationPush,
    Checkout,
    CloudConfig,
    CloudMachine,
    Effects,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    Note,
    PhoneMachine,
    PosMachine,
    PushDue,
    PushReason,
    RetryPolicy,
    RuleRecommender,
    Send,
    Subscribe,
    Timer,
    phone_address,
)
from protocol.lowlevel import (
    Outbox,
    OutboxNote,
    Resend,
    ResendResult,
)
from tests.builders import ALICE, POS, catalog_items, catalog_upload, receipt
from tests.planted.sorted_outbox import SortedOutbox

TWICE = RetryPolicy(first_delay=1.0, factor=1.0, max_attempts=2)


def test_resend_due_resends_then_gives_up_explicitly() -> None:
    outbox = Outbox(TWICE)
    send = Send(CLOUD, Subscribe(ALICE))
    outbox.send("k", send, 0.0)
    assert outbox.resend_due("k", 1.0) == ResendResult(
        Effects(sends=(send,), timers=(Timer(2.0, Resend("k")),))
    )
    gave_up = outbox.resend_due("k", 2.0)
    assert gave_up.gave_up
    detail = f"no answer to subscribe for {CLOUD} after 2 sends"
    assert gave_up.effects == Effects(notes=(Note(OutboxNote.GAVE_UP, None, None, detail),))
    assert "k" not in outbox
    # nothing kept under the key any more (given up, or acknowledged): no result
    assert outbox.resend_due("k", 3.0) == ResendResult(Effects(), gave_up=False)


def _gave_up(effects: Effects) -> bool:
    return [note.kind for note in effects.notes] == [OutboxNote.GAVE_UP]


def _fire_resends(machine: PosMachine | PhoneMachine | CloudMachine, effects: Effects) -> Effects:
    """Fire the Resend timers of ``effects`` until the outbox stops arming them."""
    while True:
        (timer,) = [t for t in effects.timers if isinstance(t.key, Resend)]
        effects = machine.timer_fired(timer.key, timer.at)
        if not effects.timers:
            return effects


def test_pos_forgets_an_upload_given_up() -> None:
    checkout = Checkout(1.0, "r-1", ALICE, phone_address(ALICE), catalog_items("SKIN-FW-001"))
    pos = PosMachine("shop-a", "pos-1", (checkout,), retry=TWICE)
    (due,) = pos.start(0.0).timers
    uploaded = pos.timer_fired(due.key, due.at)
    assert pos.awaiting_ack == 1
    assert _gave_up(_fire_resends(pos, uploaded))
    assert pos.awaiting_ack == 0


def test_phone_forgets_a_request_given_up() -> None:
    phone = PhoneMachine(ALICE, subscribes=False, retry=TWICE)
    asked = phone.ask(receipt("r-1"), 0.0)
    assert phone.unanswered == 1
    assert _gave_up(_fire_resends(phone, asked))
    assert phone.unanswered == 0
    # a late refusal of the request is one it no longer waits for
    late = ErrorReply(ErrorCode.UNKNOWN_RECEIPT, "late", "r-1", request_id=1)
    assert phone.handle(late, CLOUD, 9.0) == Effects()
    assert phone.refusals == []


def test_cloud_stops_keeping_a_push_given_up() -> None:
    store = InMemoryStore()
    config = CloudConfig(push_timeout=60.0, retry=TWICE)
    cloud = CloudMachine(store=store, recommender=RuleRecommender(), config=config)
    cloud.handle(Subscribe(ALICE), phone_address(ALICE), 0.0)
    cloud.handle(catalog_upload(), POS, 0.0)
    pushed = cloud.timer_fired(PushDue("r-1", "shop-a"), 60.0)
    (push,) = store.outgoing()
    assert isinstance(push, AssociationPush) and push.reason == PushReason.TIMEOUT
    assert _gave_up(_fire_resends(cloud, pushed))
    assert tuple(store.outgoing()) == ()


def test_give_up_after_is_when_the_outbox_gives_up() -> None:
    """``RetryPolicy.give_up_after`` is the time from the first send to the outbox's
    gave-up, counted by driving an outbox to it; with the defaults 46 minutes
    (README, ``retry.max_attempts``): 2 + 4 + 8 + 16 + 32 s, then 45 waits of 60 s."""
    for policy in (RetryPolicy(), TWICE, RetryPolicy(first_delay=0.5, factor=3.0, max_attempts=7)):
        outbox = Outbox(policy)
        (timer,) = outbox.send("k", Send(CLOUD, Subscribe(ALICE)), 0.0).timers
        while True:
            result = outbox.resend_due("k", timer.at)
            if result.gave_up:
                break
            (timer,) = result.effects.timers
        assert timer.at == policy.give_up_after()
    assert RetryPolicy().give_up_after() == 2 + 4 + 8 + 16 + 32 + 45 * 60.0  # 46 min


def _lists_in_send_order(make: Callable[[], Outbox]) -> bool:
    """An outbox made by ``make`` lists what waits in the order sent (keys sent out of
    their sorted order), as a snapshot: acknowledging on the way does not break the loop."""
    outbox = make()
    for sent in ("b", "a", "c"):
        outbox.send(sent, Send(CLOUD, Subscribe(ALICE)), 0.0)
    if list(outbox) != ["b", "a", "c"]:
        return False
    for waiting in outbox:
        outbox.acknowledge(waiting)
    if list(outbox) != [] or len(outbox) != 0:
        return False
    outbox.send("e", Send(CLOUD, Subscribe(ALICE)), 1.0)
    outbox.send("d", Send(CLOUD, Subscribe(ALICE)), 1.0)
    return list(outbox) == ["e", "d"]


def test_an_outbox_lists_what_waits_and_may_be_acknowledged_while_listing() -> None:
    assert _lists_in_send_order(Outbox)


def test_an_outbox_listing_sorted_keys_is_caught() -> None:
    # e125dcc's test listed only keys sent in their sorted order: this outbox passed it
    assert not _lists_in_send_order(SortedOutbox)  # planted: tests/planted/sorted_outbox.py
