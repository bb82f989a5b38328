"""A phone whose subscription gave up subscribes again, and the ledger sees one that does
not (reviewer B's F1, s31).

When a phone's subscription went unanswered ``retry.max_attempts`` times, the phone stayed
"subscribing" for ever: the next notice did not subscribe and every later ask waited for a
subscription that never came. The cloud withheld each of its later purchases, and the
ledger (the one judge of ``assocsim check`` and the report) counted them ``withheld``: all
clear. Reviewer B's scenario (quickstart, 400 purchases, ``retry.max_attempts=3``, phones
cut from the cloud for the first hour): 27 phones never subscribed again, 134 deliveries,
271 withheld, 0 lost, exit 0.

Now the phone's next notice or ask subscribes again; and the ledger judges a phone whose
subscription gave up and that then received a receipt notice and neither subscribed again
nor got a late acknowledgement: ``no-delivery-lost``. A phone that does not subscribe by
design never sends a subscription, so never gives one up. Planted: the old phone
(``tests/planted/unresubscribing_phone.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import scenarios._sim._runner as runner
from protocol import (
    CLOUD,
    AssociationRequest,
    PhoneMachine,
    ReceiptKey,
    ReceiptNotice,
    RetryPolicy,
    Subscribe,
    SubscribeAck,
)
from protocol.lowlevel import Resend
from scenarios import apply_overrides, load_scenario
from scenarios._sim._promises import NO_DELIVERY_LOST, Broken, PromiseLedger
from scenarios.testing import run_checked
from tests.planted.unresubscribing_phone import UnresubscribingPhone
from tests.scenarios.cli_runs import run_main

CUT = 'partition=[{side=["phone:*"], other=["cloud"], start=0, end="1h"}]'
REVIEWERS = ["purchases=400", "retry.max_attempts=3", CUT]
PHONE_ID = "+8613800000001"
PHONE = f"phone:{PHONE_ID}"
POS = "pos:m1-a"
GAVE_UP = "no answer to subscribe for cloud after 3 sends"


# ------------------------------------------------------------------ the phone


def _notice(receipt_id: str, at: float = 0.0) -> ReceiptNotice:
    return ReceiptNotice(receipt_id, "m1", at)


def _given_up(phone: PhoneMachine) -> float:
    """Let ``phone`` be noticed once and its subscription give up; the time it gave up."""
    effects = phone.handle(_notice("R1"), POS, 0.0)
    assert any(isinstance(s.message, Subscribe) for s in effects.sends)
    now = 0.0
    for _ in range(3):
        now += 10.0
        effects = phone.timer_fired(Resend("subscription"), now)
    assert [n.kind for n in effects.notes] == ["gave-up"]
    return now


def _subscribes(effects: Any) -> int:
    return sum(isinstance(s.message, Subscribe) for s in effects.sends)


def test_the_next_notice_subscribes_again_after_a_give_up() -> None:
    phone = PhoneMachine(PHONE_ID, retry=RetryPolicy(max_attempts=3), default_ask_delay=None)
    now = _given_up(phone)
    assert _subscribes(phone.handle(_notice("R2", now), POS, now)) == 1
    assert _subscribes(phone.handle(_notice("R3", now), POS, now)) == 0  # once, until it ends


def test_a_repeated_notice_subscribes_again_after_a_give_up() -> None:
    phone = PhoneMachine(PHONE_ID, retry=RetryPolicy(max_attempts=3), default_ask_delay=None)
    now = _given_up(phone)
    assert _subscribes(phone.handle(_notice("R1", now), POS, now)) == 1


def test_an_ask_subscribes_again_and_is_sent_once_subscribed() -> None:
    phone = PhoneMachine(PHONE_ID, retry=RetryPolicy(max_attempts=3))
    now = _given_up(phone)
    asked = phone.ask(ReceiptKey("m1", "R1"), now)
    assert _subscribes(asked) == 1 and len(asked.sends) == 1  # no request before the ack
    acked = phone.handle(SubscribeAck(PHONE_ID), CLOUD, now + 1)
    requests = [s.message for s in acked.sends if isinstance(s.message, AssociationRequest)]
    assert [r.receipt_id for r in requests] == ["R1"]  # the parked ask, sent now


def test_the_old_phone_never_subscribes_again() -> None:
    phone = UnresubscribingPhone(
        PHONE_ID, retry=RetryPolicy(max_attempts=3), default_ask_delay=None
    )
    now = _given_up(phone)
    assert _subscribes(phone.handle(_notice("R2", now), POS, now)) == 0
    assert phone.ask(ReceiptKey("m1", "R2"), now).sends == ()


def test_a_late_ack_after_a_give_up_subscribes_it_once() -> None:
    phone = PhoneMachine(PHONE_ID, retry=RetryPolicy(max_attempts=3), default_ask_delay=None)
    now = _given_up(phone)
    phone.handle(SubscribeAck(PHONE_ID), CLOUD, now)
    assert phone.subscribed
    assert _subscribes(phone.handle(_notice("R2", now), POS, now)) == 0


def test_a_give_up_is_kept_across_a_restart() -> None:
    phone = PhoneMachine(PHONE_ID, retry=RetryPolicy(max_attempts=3), default_ask_delay=None)
    now = _given_up(phone)
    restarted = phone.rebuilt(phone.durable())
    restarted.start(now)
    assert _subscribes(restarted.handle(_notice("R2", now), POS, now)) == 1


# ------------------------------------------------------------------ the ledger


def _ledger_lost(after: list[tuple[str, str, str, str]], *, gave_up: bool = True) -> list[Broken]:
    """The subscription verdicts: the phone's subscription gives up (or not), then ``after``."""
    ledger = PromiseLedger(600.0)
    ledger.message("send", PHONE, CLOUD, "subscribe", None, 1.0, {"phone_id": PHONE_ID})
    if gave_up:
        ledger.note(PHONE, "gave-up", None, 2.0, GAVE_UP)
    t = 2.0
    body = {"receipt_id": "R2", "merchant_id": "m1", "phone_id": PHONE_ID}
    for kind, frm, to, typ in after:
        t += 1
        if kind == "note":  # (actor, note type, detail)
            ledger.note(frm, to, None, t, typ)
        else:
            ledger.message(kind, frm, to, typ, None, t, body)
    return [b for b in ledger.judge(t + 1).lost if b.receipt == "m1/R2"]


NOTICED = ("recv", POS, PHONE, "receipt-notice")
RESUBSCRIBED = ("recv", PHONE, CLOUD, "subscribe")  # its subscription reached the cloud
LATE_ACK = ("send", CLOUD, PHONE, "subscribe-ack")  # the cloud acknowledged it (once)


@pytest.mark.parametrize(
    ("after", "gave_up", "lost"),
    [
        ([NOTICED], True, 1),  # noticed, never subscribed again: the old phone
        ([NOTICED, RESUBSCRIBED], True, 0),
        ([NOTICED, LATE_ACK], True, 0),  # acknowledged: its receipts owed, judged as such
        ([NOTICED, ("note", PHONE, "gave-up", GAVE_UP)], True, 0),  # it re-sent, gave up
        ([], True, 0),  # nothing reached it since: nothing told it to
        ([RESUBSCRIBED, NOTICED], True, 0),
        ([NOTICED], False, 0),  # still subscribing (or never subscribing by design)
    ],
    ids=[
        "old-phone",
        "resubscribed",
        "acked",
        "gave-up-again",
        "no-notice",
        "before-notice",
        "no-give-up",
    ],
)
def test_a_phone_noticed_after_its_subscription_gave_up_must_subscribe_again(
    after: list[tuple[str, str, str, str]], gave_up: bool, lost: int
) -> None:
    found = _ledger_lost(after, gave_up=gave_up)
    assert len(found) == lost
    assert all(b.invariant == NO_DELIVERY_LOST and PHONE in b.actors for b in found)


def test_a_request_given_up_is_no_subscription_given_up() -> None:
    ledger = PromiseLedger(600.0)
    ledger.note(PHONE, "gave-up", None, 2.0, "no answer to association-request for cloud")
    body = {"receipt_id": "R2", "merchant_id": "m1"}
    ledger.message("recv", POS, PHONE, "receipt-notice", None, 3.0, body)
    assert ledger.judge(4.0).lost == ()


# ------------------------------------------------------------------ reviewer B's run


def _reviewers() -> Any:
    return apply_overrides(load_scenario("quickstart"), REVIEWERS)


def test_the_phones_subscribe_again_on_the_reviewers_run() -> None:
    outcome = run_checked(_reviewers())
    assert outcome.ok, outcome.violations
    report = outcome.report
    assert report.lost == 0
    assert report.delivered > 300  # 134 with the old phone
    gave_up: dict[str, float] = {}  # phone address -> its first subscription give-up
    again: set[str] = set()  # of those, the phones that subscribed again after it
    for e in outcome.events:
        if e.note is not None and e.note.kind == "gave-up" and "subscribe " in e.note.detail:
            gave_up.setdefault(e.sender, e.t)
        elif e.kind == "send" and isinstance(e.message, Subscribe) and e.sender in gave_up:
            again.add(e.sender)
    assert len(gave_up) >= 27 and again == gave_up.keys()  # the run exercises the give-up


def test_check_and_report_catch_the_old_phone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "PhoneMachine", UnresubscribingPhone)
    outcome = run_checked(_reviewers())
    lost = [v for v in outcome.violations if v.invariant == NO_DELIVERY_LOST]
    assert len(lost) == 27  # the 27 phones reviewer B found dead
    assert outcome.report.lost == len(lost)
    assert not outcome.ok


def test_assocsim_run_and_check_fail_on_the_old_phone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trace = tmp_path / "old.jsonl"
    sets = [a for s in REVIEWERS for a in ("--set", s)]
    monkeypatch.setattr(runner, "PhoneMachine", UnresubscribingPhone)
    code, out, _ = run_main(["run", "quickstart", *sets, "--check", "--trace", str(trace)])
    assert code != 0 and NO_DELIVERY_LOST in out
    code, out, _ = run_main(["check", str(trace)])
    assert code != 0 and "never subscribed again" in out
