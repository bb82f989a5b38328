"""The promise ledger and the report held to the specification of the promises.

``promises_spec.py`` states each promise as a plain function of a whole run's events,
``report_spec.py`` each figure of the report; neither shares code with
:class:`~scenarios._sim._promises.PromiseLedger` or :class:`~scenarios.ReportBuilder`.
``test_promises_agree.py`` holds the report to the checker, both on the one ledger: a bug
of the ledger is shared by both and passes there. Here:

* generated runs (``promise_runs.py``: two merchants numbering a receipt alike, three
  phones per receipt, re-sent uploads, ``shown`` twice, pushes after answers and
  dual-sends, in any order), fed to the ledger both ways it is fed (by receipt name, as
  ``assocsim check`` does, and by the record, as the report does), and again without the
  phones' notes and acknowledgements (a trace judged by what phones received): the
  verdicts of :meth:`~PromiseLedger.judge` must be the specification's, each record must
  hold the specification's facts in its slots, and a fork must judge the rest of a run
  as the specification judges the whole without moving its origin's records;
* every built-in scenario, shrunk, with the reference cloud and three planted ones, on
  the events as run and with every merchant's receipts numbered alike: the report's
  figures, latencies and verdicts must be the specifications'.

Each planted bug of ``tests/planted`` named below must be told apart.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, example, find, given, settings
from hypothesis import strategies as st

from actors import TraceEvent
from protocol import PurchaseUpload
from scenarios import ReportBuilder, apply_overrides, builtin_scenarios, load_scenario
from scenarios import run_scenario as run
from scenarios._sim import _promises as ledger_layout
from scenarios._sim._promises import Judgement, PromiseLedger, push_timeout_of
from scenarios.testing import load_cloud_factory
from tests.actors.test_sink import _alike_ids
from tests.planted.answer_forgiving_ledger import AnswerForgivingLedger
from tests.planted.dual_sent_at_delivered import DualSentAtDelivered
from tests.planted.eager_records import EagerRecords
from tests.planted.give_up_excuses_all import GiveUpExcusesAll
from tests.planted.merchant_blind_receipts import MerchantBlindReceipts
from tests.planted.receipt_settled_ledger import ReceiptSettledLedger
from tests.planted.refusal_blind_ledger import RefusalBlindLedger
from tests.planted.shared_record_fork import shared_record_fork
from tests.scenarios import promises_spec as spec
from tests.scenarios import report_spec
from tests.scenarios.promise_runs import (
    ACKED,
    CLOUD,
    GAVE_UP,
    PHONES,
    PUSH_TIMEOUT,
    REPLIES,
    RUNS,
    SHARP,
    Event,
    by_name,
    by_record,
    spec_events,
)
from tests.scenarios.promises_spec import Ev, Judged, messages

GENERATED = settings(
    max_examples=max(300, settings().max_examples),
    suppress_health_check=[HealthCheck.too_slow],
)


def on_runs(test: Callable[[list[Event]], None]) -> Callable[..., None]:
    """``test`` on the generated runs, and always on the four hand-written ones (each
    covers promises the generator reaches only now and then)."""
    for run_ in (ACKED, REPLIES, SHARP, GAVE_UP):
        test = example(run_)(test)
    return GENERATED(given(RUNS)(test))


def verdicts(judgement: Judgement | Judged) -> tuple[object, ...]:
    """A judgement as plain values: each broken promise without its wording."""

    def plain(broken: Sequence[Any]) -> tuple[object, ...]:
        return tuple((b.invariant, b.receipt, b.actors, b.times) for b in broken)

    return (
        plain(judgement.lost),
        judgement.lost_checked,
        plain(judgement.shown_twice),
        judgement.shown_checked,
        plain(judgement.pushed_after),
        judgement.withheld,
    )


def wording_disagreement(expected: Judged, got: Judgement) -> str | None:
    """A fact the specification says a verdict's wording names, missing (None: none)."""
    for wanted, broken in (
        (expected.lost, got.lost),
        (expected.shown_twice, got.shown_twice),
        (expected.pushed_after, got.pushed_after),
    ):
        for verdict, said in zip(wanted, broken, strict=True):
            missing = [hint for hint in verdict.hints if hint not in said.detail]
            if missing:
                return f"{said.detail!r} does not say {missing}"
    return None


def unnoted(events: Sequence[Event]) -> list[Event]:
    """``events`` as a trace written before phones made notes and acknowledgements."""
    return [
        e
        for e in events
        if not (e[0] == "note" and e[2] in {"shown", "already-shown"})
        and not (e[0] == "message" and e[4] in spec.ACKS)
    ]


def disagreement(
    events: Sequence[Event], make: Callable[[float], PromiseLedger] = PromiseLedger
) -> str | None:
    """How a ledger made by ``make``, fed ``events`` either way, judges otherwise than the
    specification (None: alike). When the cloud first sent each phone each receipt too."""
    end, run_ = float(len(events)), spec_events(events)
    expected = spec.judge(run_, PUSH_TIMEOUT, end)
    receipts = spec.by_receipt(run_)
    for how, feed in (("by name", by_name), ("by record", by_record)):
        ledger = make(PUSH_TIMEOUT)
        feed(ledger, events)
        got = ledger.judge(end)
        if verdicts(got) != verdicts(expected):
            return f"{how}: {verdicts(got)} != the specification's {verdicts(expected)}"
        if (why := wording_disagreement(expected, got)) is not None:
            return f"{how}: {why}"
        for receipt, named in receipts.items():
            for phone in PHONES:
                if ledger.cloud_delivered(receipt, phone) != spec.cloud_delivered(named, phone):
                    return f"{how}: cloud_delivered({receipt}, {phone}) differs"
    return None


@on_runs
def test_the_ledger_judges_as_the_specification(events: list[Event]) -> None:
    assert disagreement(events) is None
    assert disagreement(unnoted(events)) is None  # judged by what the phones received


# ---------------------------------------------------------------- each record's slots


def expected_record(events: Sequence[Ev], subscribed: dict[str, Ev]) -> list[Any]:
    """The record of a receipt whose events are ``events``, as the ledger lays it out
    (``scenarios/_sim/_promises.py``: the receipt's slots, then a group per address it
    reached, in address order), every slot from the specification's facts."""
    arrivals = [e for e in messages(events, "recv", "purchase-upload") if e.to == CLOUD]
    first = arrivals[0] if arrivals else None
    named = [e.body["phone_id"] for e in arrivals if first and e.frm == first.frm]
    bound = spec.binding(events)
    sub = None if bound is None else subscribed.get(bound.phone)
    fired = any(e.kind == "push-due" for e in events)
    owed = bool(bound and sub and spec.decided_owed(events, bound, sub))
    flags = ledger_layout._TIMER_FIRED * fired | ledger_layout._OWED * owed
    record: list[Any] = [
        events[0].receipt,
        first and first.t,
        flags,
        first and first.frm,
        named[-1] if named else None,
        bound and bound.phone,
        bound and bound.pos,
        bound and bound.ack.t,
    ]
    sent = [e for e in messages(events, "send", *spec.DELIVERIES) if e.frm == CLOUD]
    got = [e for e in messages(events, "recv", *spec.DELIVERIES) if e.to != CLOUD]
    shown = [e for e in events if e.kind == "note" and e.typ == "shown"]
    reached = {e.to for e in sent + got if spec.is_phone(e.to)} | {e.frm for e in shown}

    def first_t(found: list[Ev]) -> float | None:
        return found[0].t if found else None

    for address in sorted(reached):
        to = [e for e in sent if e.to == address]
        at = [e for e in got if e.to == address]
        record += [
            address,
            first_t(to),
            first_t([e for e in to if e.typ == "association-response"]),
            first_t([e for e in to if e.body.get("reason") == "dual-send"]),
            any(e.body.get("reason") == "timeout" for e in to),
            first_t(at),
            first_t([e for e in at if e.typ == "association-push"]),
            first_t([e for e in shown if e.frm == address]),
        ]
    return record


def layout_disagreement(
    events: Sequence[Event], make: Callable[[float], PromiseLedger] = PromiseLedger
) -> str | None:
    """How the records of a ledger fed ``events`` by name differ from the specification's
    facts laid out as records (None: alike): a record for each receipt that has a fact
    (none for one only named: a request, an upload-ack binding nothing), the same facts
    the same record whatever order they came in (the explorer's monitor state)."""
    run_ = spec_events(events)
    subscribed = spec.subscriptions(run_)
    blank = [None, 0, None, None, None, None, None]
    expected = {}
    for receipt, named in spec.by_receipt(run_).items():
        record = expected_record(named, subscribed)
        if record[1:] != blank:
            expected[receipt] = record
    assert len(blank) + 1 == ledger_layout.OWNED  # the receipt's slots, then the groups
    ledger = make(PUSH_TIMEOUT)
    by_name(ledger, events)
    got = {record[ledger_layout.RECEIPT_NAME]: record for record in ledger.records()}
    if got != expected:
        return f"records {got} != the specification's facts as records {expected}"
    return None


@on_runs
def test_each_record_holds_the_specifications_facts_in_their_slots(events: list[Event]) -> None:
    assert layout_disagreement(events) is None


# ---------------------------------------------------------------- forks


def fork_disagreement(
    events: Sequence[Event], cut: int, fork: Callable[[PromiseLedger], PromiseLedger]
) -> str | None:
    """Feed ``events`` up to ``cut``, fork the ledger there and feed the rest to the fork:
    how the origin's records moved or the fork judges otherwise than the specification
    judges the whole run (None: neither). Times are the event's place in the whole run."""
    end = float(len(events))
    origin = PromiseLedger(PUSH_TIMEOUT)
    by_name(origin, events[:cut])
    before = copy.deepcopy(origin._receipts)
    forked = fork(origin)
    by_name(forked, events[cut:], start=cut)
    if origin._receipts != before:
        return f"the origin's records moved: {before} -> {origin._receipts}"
    whole = spec.judge(spec_events(events), PUSH_TIMEOUT, end)
    if verdicts(forked.judge(end)) != verdicts(whole):
        return "the fork judges otherwise than the specification of the whole run"
    return None


@GENERATED
@given(RUNS, st.integers(0, 60))
@example(SHARP, 9)
@example(REPLIES, 14)
def test_a_fork_shares_no_record_with_its_origin(events: list[Event], cut: int) -> None:
    assert fork_disagreement(events, min(cut, len(events)), PromiseLedger.fork) is None


# ---------------------------------------------------------------- planted ledgers


def test_the_sharp_run_breaks_the_promises_it_is_meant_to() -> None:
    # not a vacuous example: both timeout pushes and the second shown are violations
    judged = spec.judge(spec_events(SHARP), PUSH_TIMEOUT, float(len(SHARP)))
    assert [(v.receipt, v.actors, v.hints) for v in judged.pushed_after] == [
        ("m1/R1", (CLOUD, "phone:A"), ("after the dual-send",)),
        ("m1/R1", (CLOUD, "phone:B"), ("answered",)),
    ]
    assert [(v.receipt, v.times) for v in judged.shown_twice] == [("m2/R1", (12.0, 13.0))]
    assert verdicts(judged) == verdicts(_judged_by_name(SHARP))


def test_the_replies_run_breaks_and_keeps_the_promises_it_is_meant_to() -> None:
    # not vacuous: each promise SHARP leaves alone is kept once and broken once here
    judged = spec.judge(spec_events(REPLIES), PUSH_TIMEOUT, float(len(REPLIES)))
    assert [(v.receipt, v.actors) for v in judged.lost] == [
        ("m1/R2", ("pos:m1-a", CLOUD, "phone:A")),  # pushed, gave up, only "already shown"
        ("m1/R1", ("phone:B", CLOUD)),  # request 2 (request 1 refused, C gave up)
        ("m1/R1", ("pos:m1-a", CLOUD)),  # pos:m1-b refused, pos:m2-a gave up
        (None, ("phone:C", CLOUD)),  # B's subscription refused
    ]
    assert (judged.withheld, judged.shown_twice, judged.pushed_after) == (1, (), ())
    assert verdicts(judged) == verdicts(_judged_by_name(REPLIES))
    acked = spec.judge(spec_events(ACKED), PUSH_TIMEOUT, float(len(ACKED)))
    assert [(v.receipt, v.hints[1]) for v in acked.lost] == [("m1/R2", "sent it at t=6.000")]


def test_a_give_up_excuses_only_what_the_network_or_a_crash_could_have_lost() -> None:
    # not vacuous: each sender gave up; those whose message reached the cloud and got no
    # answer, with no crash of the cloud after it, are lost (the cloud's silence is no
    # network's fault); planted: tests/planted/give_up_excuses_all.py
    judged = spec.judge(spec_events(GAVE_UP), PUSH_TIMEOUT, float(len(GAVE_UP)))
    assert [(v.receipt, v.actors, v.hints[-1]) for v in judged.lost] == [
        ("m1/R1", ("phone:A", CLOUD), "the cloud received it at t=14.000 and sent none"),
        ("m1/R2", ("phone:C", CLOUD), "the cloud received it at t=21.000 and sent none"),
        ("m1/R1", ("pos:m1-a", CLOUD), "the cloud received it at t=6.000 and sent no answer"),
        ("m2/R1", ("pos:m2-a", CLOUD), "the cloud received it at t=11.000 and sent no answer"),
    ]
    assert (judged.lost_checked, judged.withheld) == (6, 1)
    assert disagreement(GAVE_UP) is None
    why = disagreement(GAVE_UP, GiveUpExcusesAll)
    assert why is not None and "'pos:m1-a'" in why and "'phone:A'" in why


def test_a_refused_request_judged_lost_is_told_apart() -> None:
    # planted: tests/planted/refusal_blind_ledger.py (the refusal of B's request 1)
    why = disagreement(REPLIES, RefusalBlindLedger)
    assert why is not None and "'phone:B'" in why


def _judged_by_name(events: Sequence[Event]) -> Judgement:
    ledger = PromiseLedger(PUSH_TIMEOUT)
    by_name(ledger, events)
    return ledger.judge(float(len(events)))


def _found(make: Callable[[float], PromiseLedger]) -> list[Event]:
    """A generated run on which a ledger made by ``make`` judges otherwise."""
    return find(
        RUNS,
        lambda events: disagreement(events, make) is not None,
        settings=settings(max_examples=2000, database=None, phases=[Phase.generate]),
    )


def test_the_dual_sent_slot_at_the_delivered_offset_is_told_apart() -> None:
    # planted: tests/planted/dual_sent_at_delivered.py, found by generation alone
    why = disagreement(_found(DualSentAtDelivered), DualSentAtDelivered)
    assert why is not None and "timeout-push" in why
    assert disagreement(SHARP, DualSentAtDelivered) is not None


def test_a_push_after_an_answered_pull_forgiven_is_told_apart() -> None:
    # planted: tests/planted/answer_forgiving_ledger.py (step 603's meaning, not a slot)
    why = disagreement(_found(AnswerForgivingLedger), AnswerForgivingLedger)
    assert why is not None and "timeout-push" in why
    assert disagreement(SHARP, AnswerForgivingLedger) is not None


def test_an_upload_is_settled_only_at_the_pos_answered() -> None:
    # Step 501: two POSes upload m1/R1; the cloud answers pos:m1-b only. pos:m1-a's
    # upload is lost (it did not give up); planted: tests/planted/receipt_settled_ledger.py
    upload = {"phone_id": "A"}
    run: list[Event] = [
        ("message", kind, pos, CLOUD, "purchase-upload", "m1/R1", upload)
        for pos in ("pos:m1-a", "pos:m1-b")
        for kind in ("send", "recv")
    ]
    run += [
        ("message", kind, CLOUD, "pos:m1-b", "upload-ack", "m1/R1", {}) for kind in ("send", "recv")
    ]
    assert disagreement(run) is None
    ledger = PromiseLedger(PUSH_TIMEOUT)
    by_name(ledger, run)
    (lost,) = [b for b in ledger.judge(float(len(run))).lost if b.receipt == "m1/R1"]
    assert lost.actors == ("pos:m1-a", CLOUD) and "at pos:m1-a" in lost.detail
    why = disagreement(run, ReceiptSettledLedger)
    assert why is not None and "pos:m1-a" in why


def test_a_record_kept_though_nothing_was_written_is_told_apart() -> None:
    # planted: tests/planted/eager_records.py; the verdicts are alike, the records not
    request = (
        "message",
        "send",
        "phone:B",
        CLOUD,
        "association-request",
        "m2/R1",
        {"request_id": 1},
    )
    assert disagreement([request], EagerRecords) is None
    assert layout_disagreement([request]) is None
    why = layout_disagreement([request], EagerRecords)
    assert why is not None and "'m2/R1'" in why


def test_a_fork_sharing_the_records_is_told_apart() -> None:
    # planted: tests/planted/shared_record_fork.py; the dual-send to A after the cut
    why = fork_disagreement(SHARP, 9, shared_record_fork)
    assert why is not None and "the origin's records moved" in why


# ---------------------------------------------------------------- the report

PURCHASES = 1000  # built-in scenarios shrunk to this: the module stays under 20 s
CLOUDS = (
    None,
    "tests.planted.buggy_cloud:buggy_cloud",
    "tests.planted.silent_cloud:silent_cloud",
    "tests.planted.dropped_dual_send:dropped_dual_send_cloud",
)


@functools.cache
def _run(name: str, cloud: str | None, *overrides: str) -> tuple[TraceEvent, ...]:
    scenario = apply_overrides(load_scenario(name), list(overrides))
    if scenario.purchases > PURCHASES:
        scenario = apply_overrides(scenario, [f"purchases={PURCHASES}"])
    events: list[TraceEvent] = []
    factory = None if cloud is None else load_cloud_factory(cloud)
    run(scenario, observers=[events.append], cloud=factory)
    return tuple(events)


def specified_for(
    name: str, events: Sequence[TraceEvent], overrides: Sequence[str] = ()
) -> tuple[list[Ev], Judged]:
    """``events`` (of scenario ``name`` with ``overrides``) as the specifications read
    them, and the specification's judgement of them."""
    scenario = apply_overrides(load_scenario(name), list(overrides))
    run_ = report_spec.from_trace(events)
    return run_, spec.judge(run_, push_timeout_of(scenario), run_[-1].t)


def report_disagreement(
    name: str,
    events: Sequence[TraceEvent],
    builder: type[ReportBuilder] = ReportBuilder,
    overrides: Sequence[str] = (),
    specified: tuple[Sequence[Ev], Judged] | None = None,
) -> str | None:
    """How the report ``builder`` folds from ``events`` (of scenario ``name`` with
    ``overrides``) differs from the specifications' (None: alike): its figures,
    latencies, verdicts. ``specified``: :func:`specified_for` of ``events``, if the caller
    has it already (the specification's judgement is the costly part)."""
    scenario = apply_overrides(load_scenario(name), list(overrides))
    folded = builder(scenario)
    for event in events:
        folded(event)
    run_, judged = specified or specified_for(name, events, overrides)
    figures = attrs.asdict(folded.report(scenario=name, seed=1))
    expected = {"scenario": name, "seed": 1, **report_spec.figures(run_, judged)}
    if figures != expected:
        return f"figures {_differing(figures, expected)} (report, specification)"
    if folded.latencies() != report_spec.latencies(run_):
        return "latencies differ"
    got = folded.judgement()
    if verdicts(got) != verdicts(judged):
        return f"verdicts {verdicts(got)} != the specification's {verdicts(judged)}"
    return wording_disagreement(judged, got)


def _differing(got: dict[str, Any], expected: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {key: (got[key], expected.get(key)) for key in got if got[key] != expected.get(key)}


@pytest.mark.parametrize("alike", [False, True], ids=["ids-unique", "ids-alike"])
@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_the_report_is_the_specifications(name: str, cloud: str | None, alike: bool) -> None:
    events = list(_run(name, cloud))
    assert report_disagreement(name, _alike_ids(events) if alike else events) is None
    assert any(isinstance(e.message, PurchaseUpload) for e in events)  # not an empty run


GIVING_UP = ("retry.max_attempts=2",)  # the faults scenario's senders give up: 439 notes


@pytest.mark.parametrize("alike", [False, True], ids=["ids-unique", "ids-alike"])
def test_the_report_is_the_specifications_when_senders_give_up(alike: bool) -> None:
    # no built-in scenario's run gives up (its figure and the excuses it makes would be
    # held to nothing): faults with two attempts per message does, often
    events = list(_run("faults", None, *GIVING_UP))
    renamed = _alike_ids(events) if alike else events
    # One judgement for both (it was made twice): renaming keeps every gave-up note.
    specified = specified_for("faults", renamed, GIVING_UP)
    assert report_spec.figures(*specified)["gave_up"] > 100
    assert report_disagreement("faults", renamed, overrides=GIVING_UP, specified=specified) is None


def test_the_runs_break_promises_and_number_receipts_alike() -> None:
    # not vacuous: the planted clouds' runs break promises the reference's keep, and
    # the renumbered runs hold one receipt id at two merchants
    timeout = push_timeout_of(load_scenario("wrong-ids"))
    judged = {
        cloud: spec.judge(
            run_ := report_spec.from_trace(_run("wrong-ids", cloud)), timeout, run_[-1].t
        )
        for cloud in CLOUDS
    }
    assert not (judged[None].lost or judged[None].pushed_after or judged[None].shown_twice)
    assert all(
        j.lost or j.pushed_after or j.shown_twice
        for cloud, j in judged.items()
        if cloud is not None
    )
    names = {e.receipt for e in _alike_ids(list(_run("faults", None))) if e.receipt}
    assert {"shop-01/R1", "shop-02/R1"} <= names


def test_a_record_found_by_its_id_alone_is_told_apart() -> None:
    # planted: tests/planted/merchant_blind_receipts.py (the merchant not checked)
    events = list(_run("faults", None))
    assert report_disagreement("faults", events, MerchantBlindReceipts) is None  # ids unique
    why = report_disagreement("faults", _alike_ids(events), MerchantBlindReceipts)
    assert why is not None and "'purchases'" in why  # merchants' receipts of one id merged
