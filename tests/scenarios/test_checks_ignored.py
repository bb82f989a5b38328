"""Events the checker provably ignores (``scenarios._trace._checks.ignorable`` and
``TraceChecker.ignores``): ``assocsim explore`` maps a checker state to itself on them
without feeding them (``docs/explore.md``, "Speed"). Each event kind x message type (and
note type, timer, fault), from the checker states of real traces, at the last event's
time and at another, with a receipt seen, unseen and none: whenever the checker says it
ignores an event, feeding it leaves its state (and its verdict) as it was."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import MESSAGE_TYPES
from scenarios import CloudFactory, TraceChecker, explore
from scenarios._explore import _model
from scenarios._sim._promises import PromiseLedger
from scenarios._trace import _checks
from scenarios._trace._checks import IGNORED, IGNORED_ONCE_RELIABLE, Ignorable, ignorable
from scenarios._trace._reader import TraceRecord, parse_event
from tests.planted.ack_counting_ledger import AckCountingLedger
from tests.planted.buggy_cloud import buggy_cloud
from tests.planted.dropped_dual_send import dropped_dual_send_cloud
from tests.planted.ignored_notice import notice_ignorable
from tests.planted.ignored_push_ack import push_ack_ignorable
from tests.planted.per_write_store import per_write_cloud
from tests.planted.subscribe_reading_ledger import SubscribeReadingLedger
from tests.planted.timeless_ignores import timeless_ignores
from tests.planted.unsuperseding_answer import unsuperseding_cloud

_SETTINGS: dict[str, Any] | None = {
    "cloud": {"push_timeout": 600.0, "mismatch_policy": "dual-send"}
}
# the other settings the handlers read (the policy, the deadline, none known)
_OTHER_SETTINGS: tuple[dict[str, Any] | None, ...] = (
    {"cloud": {"push_timeout": 600.0, "mismatch_policy": "reject"}},
    {"cloud": {"push_timeout": 1.0, "mismatch_policy": "dual-send"}},
    None,
)
_FAULTS = ("send-failed", "drop", "dup", "delay")
_OTHER_KINDS = ("crash", "restart", "partition")

Table = Callable[[TraceRecord], Ignorable | None]
Ignores = Callable[[TraceChecker, Sequence[TraceRecord], Sequence[Ignorable | None]], bool]


def _traces() -> list[list[TraceRecord]]:
    """Counterexamples with every kind of fact: a mismatch and a refusal, pushes, shown
    notes, acknowledgements, the cloud's PushDue timer; a phone's gave-up notes added."""
    traces = []
    for world, cloud in (("wrong-id", dropped_dual_send_cloud), ("pull", buggy_cloud)):
        found = explore(world, cloud=cloud)
        assert not found.ok and len(found.events) > 20
        traces.append([parse_event(e.to_json(), 0) for e in found.events])
    phone, receipt = "phone:+8613800000002", "shop-2/r-2"
    last = traces[0][-1].t
    for dt, detail in ((1.0, "association-request 1"), (2.0, "association-request 2")):
        record = {"event": "note", "from": phone, "to": phone, "type": "gave-up"}
        traces[0].append(
            parse_event({"t": last + dt, **record, "receipt": receipt, "detail": detail}, 0)
        )
    return traces


_TRACES = _traces()


def _candidates() -> list[TraceRecord]:
    """Every event of the traces, each message as every message kind and as each other
    type, each note as every note type, plus crashes, restarts and partitions; each with
    its receipt, none, and one never seen."""
    records = [ev for trace in _TRACES for ev in trace]
    made: dict[tuple[Any, ...], TraceRecord] = {}
    bodies = {ev.type: ev.msg for ev in records if ev.msg}
    for ev in records:
        variants = [ev]
        if ev.msg or ev.kind in ("send", "recv", *_FAULTS):
            variants = [
                ev._replace(kind=kind, type=typ, msg=bodies.get(typ, {}))
                for kind in ("send", "recv", *_FAULTS)
                for typ in MESSAGE_TYPES
            ]
        elif ev.kind == "note":
            notes = ("shown", "already-shown", "gave-up", "push-withheld", ev.type)
            variants = [ev._replace(type=typ) for typ in notes]
        for variant in variants:
            for receipt in (variant.receipt, None, "shop-9/r-9"):
                one = variant._replace(receipt=receipt)
                key = (one.kind, one.frm, one.to, one.type, one.receipt, one.detail, repr(one.msg))
                made.setdefault(key, one)
    first = records[0]
    for kind in _OTHER_KINDS:
        made[(kind,)] = first._replace(kind=kind, type="", msg={}, detail="start")
    return list(made.values())


_CANDIDATES = _candidates()


def _judged(checker: TraceChecker) -> dict[str, Any]:
    """Everything ``assocsim check`` would say of a fork of ``checker`` at the trace's
    end (each violation, each invariant's count, how deliveries were judged), but the
    number of events read."""
    judged = checker.fork().result().as_dict()
    del judged["events"]
    return judged


def _changes_ignored(
    table: Table,
    ignores: Ignores,
    *,
    step: int = 4,
    first: bool = False,
    settings: dict[str, Any] | None = _SETTINGS,
) -> tuple[int, list[str]]:
    """At every ``step``-th cut of each trace, each candidate at the last event's time and
    a second later: how many the checker said it ignores (fed to a fork to see), and
    those whose feeding changed its state or its whole verdict (``first``: the first)."""
    checked, wrong = 0, []
    for trace in _TRACES:
        for cut in range(0, len(trace), step):
            checker = TraceChecker(settings)
            for ev in trace[:cut]:
                checker.feed_event(ev)
            state = checker.monitor_state()
            verdict = _judged(checker)
            last_t = checker._facts.last_t
            for candidate in _CANDIDATES:
                for t in (last_t, last_t + 1.0):
                    ev = candidate._replace(t=t)
                    if not ignores(checker, [ev], [table(ev)]):
                        continue
                    checked += 1
                    fed = checker.fork()
                    fed.feed_event(ev)
                    if fed.monitor_state() != state or _judged(fed) != verdict:
                        wrong.append(f"cut {cut}: {ev.kind} {ev.type} {ev.frm}->{ev.to} t={t}")
                        if first:
                            return checked, wrong
    return checked, wrong


def test_every_event_the_checker_ignores_leaves_its_state() -> None:
    checked, wrong = _changes_ignored(ignorable, TraceChecker.ignores)
    assert wrong == []
    assert checked > 1_000  # not vacuous: most candidates at the last time are ignorable


@pytest.mark.parametrize("settings", _OTHER_SETTINGS, ids=["reject", "deadline-1s", "none"])
def test_under_other_settings_every_event_ignored_leaves_the_state(
    settings: dict[str, Any] | None,
) -> None:
    checked, wrong = _changes_ignored(ignorable, TraceChecker.ignores, step=8, settings=settings)
    assert wrong == []
    assert checked > 500


def test_a_ledger_that_starts_reading_an_ignorable_event_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # planted: tests/planted/ack_counting_ledger.py (the table left as it is)
    monkeypatch.setattr(_checks, "PromiseLedger", AckCountingLedger)
    assert isinstance(TraceChecker(_SETTINGS)._facts.ledger, AckCountingLedger)
    _, wrong = _changes_ignored(ignorable, TraceChecker.ignores, step=8)
    assert wrong
    assert all(line.split()[3].endswith("-ack") for line in wrong)


def test_each_rule_is_met_somewhere_and_some_events_are_never_ignored() -> None:
    rules = {ignorable(ev) for ev in _CANDIDATES}
    assert rules == {IGNORED, IGNORED_ONCE_RELIABLE, None}


def test_an_event_declared_ignorable_that_changes_a_fact_is_caught() -> None:
    _, wrong = _changes_ignored(notice_ignorable, TraceChecker.ignores)
    assert wrong  # planted: tests/planted/ignored_notice.py
    assert all("recv receipt-notice" in line for line in wrong)


def test_ignoring_an_event_at_another_time_is_caught() -> None:
    _, wrong = _changes_ignored(ignorable, timeless_ignores, first=True)
    assert wrong  # planted: tests/planted/timeless_ignores.py


@given(
    st.lists(
        st.tuples(st.sampled_from(_CANDIDATES), st.sampled_from([0.0, 0.0, 1.0])),
        min_size=1,
        max_size=40,
    )
)
def test_over_random_traces_an_ignored_event_changes_nothing(
    steps: list[tuple[TraceRecord, float]],
) -> None:
    """Random sequences of the candidates (time going on by 0 or 1 s): at each event the
    checker says it ignores, feeding it leaves the state as it was."""
    checker = TraceChecker(_SETTINGS)
    for candidate, dt in steps:
        ev = candidate._replace(t=checker._facts.last_t + dt)
        rule = ignorable(ev)
        ignored = checker.ignores([ev], [rule])
        before = (checker.monitor_state(), _judged(checker)) if ignored else None
        checker.feed_event(ev)
        if ignored:
            assert (checker.monitor_state(), _judged(checker)) == before, (ev.kind, ev.type, rule)


def _ignored_in_a_search(
    monkeypatch: pytest.MonkeyPatch, table: Table, world: str, **faults: Any
) -> tuple[int, list[str]]:
    """A whole exploration of ``world`` with ``table`` as the rules: each time the explorer
    maps a checker state to itself on events the checker says it ignores, those events
    fed to a fork of it; how many, and those that changed its state or end verdict."""
    real = TraceChecker.ignores
    seen, wrong = [0], []

    def feeding(
        checker: TraceChecker, events: Sequence[TraceRecord], rules: Sequence[Ignorable | None]
    ) -> bool:
        ignored = real(checker, events, rules)
        if ignored:
            seen[0] += 1
            fed = checker.fork()
            for ev in events:
                fed.feed_event(ev)
            if fed.monitor_state() != checker.monitor_state() or _judged(fed) != _judged(checker):
                wrong.append(" ".join(f"{ev.kind} {ev.type}" for ev in events))
        return ignored

    monkeypatch.setattr(TraceChecker, "ignores", feeding)
    monkeypatch.setattr(_model, "ignorable", table)
    explore(world, **faults)
    return seen[0], wrong


def test_every_event_a_search_ignores_leaves_the_state_it_is_ignored_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every checker state the search reaches, not only those of two traces
    # (loss 2: a PushAck the cloud takes is no longer ignored, s31 F3; loss 1 ignored 337)
    seen, wrong = _ignored_in_a_search(monkeypatch, ignorable, "two-purchases", loss=2)
    assert wrong == [] and seen > 500
    seen, wrong = _ignored_in_a_search(monkeypatch, ignorable, "wrong-id", crashes=1)
    assert wrong == [] and seen > 50


def test_a_search_ignoring_a_received_notice_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # planted: tests/planted/ignored_notice.py
    _, wrong = _ignored_in_a_search(monkeypatch, notice_ignorable, "two-purchases", loss=1)
    assert wrong and all("recv receipt-notice" in line for line in wrong)


def test_a_search_ignoring_a_push_ack_the_cloud_takes_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # planted: tests/planted/ignored_push_ack.py
    _, wrong = _ignored_in_a_search(monkeypatch, push_ack_ignorable, "two-purchases", loss=1)
    assert wrong and all("recv push-ack" in line for line in wrong)


def _ignored_moves(monkeypatch: pytest.MonkeyPatch, table: Table | None) -> tuple[int, int]:
    """One exploration of two-purchases with 1 loss: its states, and the checker moves
    mapped to themselves without feeding (``table`` as the rules; None: none at all)."""
    counted = [0]
    real = TraceChecker.ignores

    def counting(checker: TraceChecker, *args: Any) -> bool:
        ignored = real(checker, *args)
        counted[0] += ignored
        return ignored

    monkeypatch.setattr(TraceChecker, "ignores", counting)
    monkeypatch.setattr(_model, "ignorable", table or (lambda ev: None))
    found = explore("two-purchases", loss=1)
    assert found.ok
    return found.progress.states, counted[0]


def test_the_explorer_skips_ignored_events_with_the_same_states(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 1,626 states and 500+ ignored before the checker judged push-acknowledged (s31 F3):
    # a PushAck the cloud takes is a fact now, never ignored (1,680 states since each
    # transition is whole to the checker; 2,386 while its doubt outlived the transition)
    assert _ignored_moves(monkeypatch, None) == (1_680, 0)
    states, ignored = _ignored_moves(monkeypatch, ignorable)
    assert states == 1_680 and ignored > 300  # 346: the notices, subscriptions, the rest


@pytest.mark.parametrize(
    ("world", "cloud", "faults"),
    [
        ("pull", buggy_cloud, {}),
        ("pull", unsuperseding_cloud, {}),
        ("wrong-id", dropped_dual_send_cloud, {}),
        ("push", per_write_cloud, {"crashes": 1, "crash_points": "inside"}),
    ],
    ids=["push-after-answered-pull", "unsuperseding-answer", "dropped-dual-send", "per-write"],
)
def test_the_planted_bugs_counterexamples_are_those_found_without_the_table(
    monkeypatch: pytest.MonkeyPatch, world: str, cloud: CloudFactory, faults: dict[str, Any]
) -> None:
    """Ignoring events changes no verdict the explorer reaches: each planted bug's search
    stops at the same path, with the same violations, the table on and off."""
    found = explore(world, cloud=cloud, **faults)
    monkeypatch.setattr(_model, "ignorable", lambda ev: None)
    without = explore(world, cloud=cloud, **faults)
    assert not found.ok and found.violations
    assert (found.path, found.violations, found.progress.states) == (
        without.path,
        without.violations,
        without.progress.states,
    )


def _ignored_yet_handled(ledger: PromiseLedger) -> list[str]:
    """Each ``send``/``recv`` of a message type that :func:`ignorable` calls ignorable but
    ``ledger`` has a handler for (beyond setting ``reliable`` on an acknowledgement, where
    the rule allows that): read off the ledger's own dispatch tables, whatever the states
    a test happens to feed from."""
    first = _CANDIDATES[0]
    wrong = []
    for kind in ("send", "recv"):
        for typ in MESSAGE_TYPES:
            rule = ignorable(first._replace(kind=kind, type=typ, msg={}))
            if rule is None:
                continue
            handler = ledger.handler(kind, typ)
            found = getattr(handler, "__func__", handler)
            allowed = None if rule == IGNORED else PromiseLedger._ack
            if found is not allowed:
                wrong.append(f"{kind} {typ}")
    return wrong


def test_the_ledger_handles_no_message_the_table_calls_ignorable() -> None:
    assert _ignored_yet_handled(PromiseLedger()) == []


@pytest.mark.parametrize("ledger", [AckCountingLedger, SubscribeReadingLedger])
def test_a_ledger_handling_a_message_the_table_ignores_is_caught(
    ledger: type[PromiseLedger],
) -> None:
    # planted: tests/planted/ack_counting_ledger.py, subscribe_reading_ledger.py
    assert _ignored_yet_handled(ledger()) != []
