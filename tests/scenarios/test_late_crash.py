"""A crash of the cloud excuses only what it may have lost (reviewer Q's F1).

A give-up excuses an upload or a request the cloud never answered only where the network
or a crash could have lost it. Any crash or restart of the cloud, however long after the
arrival, excused it: a cloud deaf to uploads crashed at 9 h, after every POS had given up,
and ``assocsim run --check`` and ``assocsim check`` both said all clear (report and check
read one ledger, so they agreed). A kill loses only what the cloud had not got past: the
arrivals since it last sent a message (a step's or a batch's writes are committed before
its messages go out) and, where each message is a step of its own (the simulator, the
explorer), since it last took a message or a PushDue timer. And there, a crash between
steps (its event's point ``between-steps``) loses nothing the cloud took: the step that
took the last arrival was committed, and a cloud that sent nothing in it was silent; only
a kill inside a step (``inside-step``), or a crash whose event does not say where it fell
(a trace written before crash events said so), excuses the step's own arrival. Planted:
the old rules (``tests/planted/late_crash_excuses.py``,
``tests/planted/between_crash_excuses.py``).
"""

from __future__ import annotations

import attrs
import pytest

from actors import CRASH_BETWEEN_STEPS, CRASH_INSIDE_STEP, Crash, EventKind
from protocol import CLOUD, PurchaseUpload
from scenarios import apply_overrides, load_scenario
from scenarios._sim._promises import Broken, PromiseLedger
from scenarios.testing import run_checked
from tests.planted.between_crash_excuses import BetweenCrashExcuses
from tests.planted.deaf_to_uploads import deaf_to_uploads
from tests.planted.late_crash_excuses import LateCrashExcuses

POS = "pos:m1-a"
UPLOAD = {"phone_id": "+8613800000001", "receipt_id": "R1", "merchant_id": "m1"}
ARRIVED = [("send", POS, CLOUD, "purchase-upload"), ("recv", POS, CLOUD, "purchase-upload")]
SENT_AFTER = ("send", CLOUD, "phone:+8613800000002", "subscribe-ack")
TOOK_AFTER = ("recv", "phone:+8613800000002", CLOUD, "subscribe")


def _lost_uploads(
    between: list[tuple[str, str, str, str]],
    *,
    atomic_steps: bool = True,
    ledger: type[PromiseLedger] = PromiseLedger,
    point: str = "",
) -> list[Broken]:
    """The upload verdicts of a run: an upload reaches the cloud, ``between`` happens, the
    cloud crashes (at ``point``, "": not said), its POS gives up re-sending."""
    found = ledger(600.0, atomic_steps=atomic_steps)
    t = 0.0
    for kind, frm, to, typ in [*ARRIVED, *between]:
        t += 1
        body = UPLOAD if typ == "purchase-upload" else {"phone_id": "+8613800000002"}
        found.message(kind, frm, to, typ, "m1/R1", t, body)
    found.down(CLOUD, point)
    found.note(POS, "gave-up", "m1/R1", t + 1, "purchase-upload R1: no answer")
    return [b for b in found.judge(t + 2).lost if b.receipt == "m1/R1"]


@pytest.mark.parametrize(
    ("between", "atomic_steps", "lost"),
    [
        ([], True, 0),  # killed in the step that took it: may be lost, the give-up excuses
        ([SENT_AFTER], True, 1),  # the cloud went on and sent: it had got past it
        ([SENT_AFTER], False, 1),
        ([TOOK_AFTER], True, 1),  # the next message's step: the one before was committed
        ([TOOK_AFTER], False, 0),  # a batch (serve cloud): both may be lost in one kill
    ],
    ids=["in-its-step", "after-a-send", "after-a-send-batched", "after-a-step", "in-a-batch"],
)
def test_a_crash_excuses_only_what_the_cloud_had_not_got_past(
    between: list[tuple[str, str, str, str]], atomic_steps: bool, lost: int
) -> None:
    assert len(_lost_uploads(between, atomic_steps=atomic_steps)) == lost


@pytest.mark.parametrize(
    ("point", "atomic_steps", "lost"),
    [
        (CRASH_INSIDE_STEP, True, 0),  # killed in the step that took it: may be lost
        (CRASH_BETWEEN_STEPS, True, 1),  # its step was committed: silence, not a crash
        (CRASH_BETWEEN_STEPS, False, 0),  # a batch may die uncommitted whatever the point
        ("", True, 0),  # not said (an older trace): it may have been killed in its step
    ],
    ids=["inside-its-step", "between-steps", "between-batched", "not-said"],
)
def test_a_crash_right_after_an_arrival_excuses_it_only_if_its_step_may_have_died(
    point: str, atomic_steps: bool, lost: int
) -> None:
    assert len(_lost_uploads([], atomic_steps=atomic_steps, point=point)) == lost


def test_planted_a_ledger_blind_to_the_crash_point_excuses_a_silent_cloud() -> None:
    assert _lost_uploads([], ledger=BetweenCrashExcuses, point=CRASH_BETWEEN_STEPS) == []
    assert len(_lost_uploads([], point=CRASH_BETWEEN_STEPS)) == 1


def test_planted_the_old_rule_excuses_an_arrival_the_cloud_got_past() -> None:
    assert _lost_uploads([SENT_AFTER, TOOK_AFTER], ledger=LateCrashExcuses) == []
    assert len(_lost_uploads([SENT_AFTER, TOOK_AFTER])) == 1


def test_a_deaf_cloud_crashed_hours_later_is_not_excused() -> None:
    base = apply_overrides(load_scenario("quickstart"), ["purchases=10", "retry.max_attempts=3"])
    late = attrs.evolve(base, crash=(Crash("cloud", at=9 * 3600.0, restart=9 * 3600.0 + 60),))
    for scenario in (base, late):
        outcome = run_checked(scenario, cloud=deaf_to_uploads)
        assert outcome.report.gave_up == 10 and outcome.report.lost == 10
        assert len(outcome.violations) == 10  # assocsim check of its trace agrees


def test_a_deaf_cloud_crashed_between_steps_right_after_the_upload_is_not_excused() -> None:
    """The simulator writes where the crash fell and both judges read it: the one upload
    of a run reaches a cloud that never answers, which crashes a millisecond later, before
    it takes anything else; its POS gives up. Lost (a crash event without its point, as
    before, excused it: 0 lost, all clear)."""
    base = apply_overrides(load_scenario("quickstart"), ["purchases=1", "retry.max_attempts=1"])
    quiet = run_checked(base, cloud=deaf_to_uploads)
    arrived = next(
        e.t
        for e in quiet.events
        if e.kind is EventKind.RECEIVE
        and e.recipient == CLOUD
        and isinstance(e.message, PurchaseUpload)
    )
    crash = Crash("cloud", at=arrived + 0.001, restart=arrived + 60)
    outcome = run_checked(attrs.evolve(base, crash=(crash,)), cloud=deaf_to_uploads)
    # what the cloud did: took, sent, fired, crashed (not what others sent it)
    at_cloud = [
        e
        for e in outcome.events
        if e.sender == CLOUD or (e.recipient == CLOUD and e.kind is not EventKind.SEND)
    ]
    took = next(i for i, e in enumerate(at_cloud) if isinstance(e.message, PurchaseUpload))
    crashed = at_cloud[took + 1]  # the crash is the cloud's next event: nothing went on
    assert crashed.kind is EventKind.CRASH and crashed.detail == CRASH_BETWEEN_STEPS
    assert outcome.report.gave_up == 1 and outcome.report.lost == 1
    assert len(outcome.violations) == 1  # assocsim check of its trace agrees
