"""Observing without a TraceEvent per event (actors._sink): the same events, in the same
order, whether an observer takes them as TraceEvents or as calls (an EventSink)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

import attrs
import pytest

from actors import EventKind, EventSink, Observer, TraceEvent, observe_all, taps_of
from protocol import CLOUD, Address, Message, Note, PhoneNote, PushDue, Subscribe
from scenarios import ReportBuilder, Scenario, load_scenario, run_scenario
from scenarios._sim._promises import RECEIPT_NAME, Record, push_due_receipt
from tests.planted.merchant_blind_receipts import MerchantBlindReceipts
from tests.planted.misnamed_push_due import MisnamedPushDue

PHONE = "phone:+8613800000001"
SUBSCRIBE = Subscribe("+8613800000001")
SHOWN = Note(PhoneNote.SHOWN, "R1", "+8613800000001")


class _Recorder(EventSink):
    """A sink writing down each call, as the TraceEvent it stands for."""

    def __init__(self, log: list[tuple[str, TraceEvent]], name: str) -> None:
        self.log, self.name = log, name

    def sent(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        self.log.append((self.name, TraceEvent(t, EventKind.SEND, sender, recipient, message)))

    def received(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        self.log.append((self.name, TraceEvent(t, EventKind.RECEIVE, sender, recipient, message)))

    def noted(self, t: float, actor: Address, note: Note) -> None:
        self.log.append((self.name, TraceEvent(t, EventKind.NOTE, actor, actor, None, note)))

    def fired(self, t: float, actor: Address, key: Hashable) -> None:
        self.log.append((self.name, TraceEvent(t, EventKind.TIMER, actor, actor, None, None, key)))

    def __call__(self, event: TraceEvent) -> None:
        self.log.append((self.name, event))


def _plain(log: list[tuple[str, TraceEvent]], name: str) -> Observer:
    return lambda event: log.append((name, event))


EVENTS = [
    TraceEvent(1.0, EventKind.SEND, PHONE, CLOUD, SUBSCRIBE),
    TraceEvent(1.0, EventKind.RECEIVE, PHONE, CLOUD, SUBSCRIBE),
    TraceEvent(2.0, EventKind.NOTE, PHONE, PHONE, None, SHOWN),
    TraceEvent(3.0, EventKind.TIMER, CLOUD, CLOUD, None, None, "resend"),
    TraceEvent(4.0, EventKind.DROP, PHONE, CLOUD, SUBSCRIBE, None, "loss"),
]


def _drive(observer: Observer | None) -> None:
    """Each event through the taps, as the actors and the effects interpreter do."""
    taps = taps_of(observer)
    for event in EVENTS:
        t, kind, sender, recipient, message, note, detail = event
        if kind is EventKind.SEND and taps.sent is not None and message is not None:
            taps.sent(t, sender, recipient, message)
        elif kind is EventKind.RECEIVE and taps.received is not None and message is not None:
            taps.received(t, sender, recipient, message)
        elif kind is EventKind.NOTE and taps.noted is not None and note is not None:
            taps.noted(t, sender, note)
        elif kind is EventKind.TIMER and taps.fired is not None:
            taps.fired(t, sender, detail)
        elif taps.event is not None:
            taps.event(event)


def test_no_observer_no_taps() -> None:
    assert taps_of(None) == (None, None, None, None, None)


def test_a_plain_observer_gets_every_event_as_a_trace_event() -> None:
    log: list[tuple[str, TraceEvent]] = []
    _drive(_plain(log, "plain"))
    assert log == [("plain", event) for event in EVENTS]


def test_a_sink_gets_the_same_events_as_calls() -> None:
    log: list[tuple[str, TraceEvent]] = []
    sink = _Recorder(log, "sink")
    taps = taps_of(sink)
    assert taps.sent == sink.sent and taps.event is sink
    _drive(sink)
    assert log == [("sink", event) for event in EVENTS]


def test_observe_all_keeps_the_order_of_sinks_and_plain_observers() -> None:
    log: list[tuple[str, TraceEvent]] = []
    names = ("first", "second", "third")
    both = observe_all([_Recorder(log, "first"), _plain(log, "second"), _Recorder(log, "third")])
    assert isinstance(both, EventSink)
    _drive(both)
    assert log == [(name, event) for event in EVENTS for name in names]


def test_observe_all_of_plain_observers_is_a_plain_fan_out() -> None:
    log: list[tuple[str, TraceEvent]] = []
    plain = observe_all([_plain(log, "a"), _plain(log, "b")])
    assert not isinstance(plain, EventSink)
    _drive(plain)
    assert log == [(name, event) for event in EVENTS for name in "ab"]
    sink = _Recorder(log, "only")
    assert observe_all([sink]) is sink


def test_the_report_folded_from_calls_equals_the_report_folded_from_events() -> None:
    """A run with every kind of fault: its report (the builder a sink, fed by calls) is the
    report a builder fed the run's TraceEvents gives, field for field."""
    scenario = attrs.evolve(load_scenario("faults"), purchases=150)
    events: list[TraceEvent] = []
    result = run_scenario(scenario, observers=[events.append])
    kinds = {event.kind for event in events}
    assert {EventKind.DROP, EventKind.CRASH, EventKind.RESTART, EventKind.NOTE} <= kinds
    from_events = ReportBuilder(scenario)
    for event in events:
        from_events(event)
    report = from_events.report(scenario=scenario.name, seed=scenario.seed)
    assert report == result.report
    assert report.crashes and report.dropped_by_loss and report.delivered


def _spied_builder(
    builder: ReportBuilder,
    handed: list[str | None],
    records: list[Record | None],
    monkeypatch: pytest.MonkeyPatch,
) -> ReportBuilder:
    """A builder whose handlers note what they are handed: the ledger's, the name of the
    receipt whose record they get (in ``handed``); the report's own, the record (in
    ``records``)."""

    def spy(handler: Any) -> Any:
        def call(frm: str, to: str, record: Record | None, t: float, message: Any) -> None:
            handed.append(_name(record))
            handler(frm, to, record, t, message)

        return call

    def spy_own(mine: Any) -> Any:
        def call(record: list[Any], frm: str, to: str, t: float, message: Any) -> None:
            records.append(record)
            mine(record, frm, to, t, message)

        return call

    for table in (builder._on_send, builder._on_recv):
        for cls, (promise, mine, names) in table.items():
            table[cls] = (
                None if promise is None else spy(promise),
                None if mine is None else spy_own(mine),
                names,
            )
    ledger_note = builder._ledger.note

    def note_spy(actor: str, typ: str, receipt: str | None, t: float, detail: str) -> None:
        handed.append(receipt)
        ledger_note(actor, typ, receipt, t, detail)

    monkeypatch.setattr(builder._ledger, "note", note_spy)
    ledger_shown_note = builder._ledger.shown_note

    def shown_note_spy(actor: str, record: Record | None, t: float, detail: str) -> None:
        handed.append(_name(record))
        ledger_shown_note(actor, record, t, detail)

    monkeypatch.setattr(builder._ledger, "shown_note", shown_note_spy)
    ledger_push_due = builder._ledger.push_due

    def push_due_spy(receipt: str) -> None:
        handed.append(receipt)
        ledger_push_due(receipt)

    monkeypatch.setattr(builder._ledger, "push_due", push_due_spy)
    ledger_push_due_record = builder._ledger.push_due_record

    def push_due_record_spy(record: Record) -> None:
        handed.append(_name(record))
        ledger_push_due_record(record)

    monkeypatch.setattr(builder._ledger, "push_due_record", push_due_record_spy)
    return builder


def _name(record: Record | None) -> str | None:
    return None if record is None else record[RECEIPT_NAME]


@pytest.fixture(scope="module")
def faulty_run() -> tuple[Scenario, list[TraceEvent]]:
    scenario = attrs.evolve(load_scenario("faults"), purchases=150)
    events: list[TraceEvent] = []
    run_scenario(scenario, observers=[events.append])
    return scenario, events


def test_the_report_names_each_receipt_as_the_trace_does(
    faulty_run: tuple[Scenario, list[TraceEvent]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder keeps each receipt's name (TraceEvent.receipt, its one definition) by
    what that reads; on every event of a faulty run, fed through the builder's own calls,
    a ledger's handler that reads the receipt is handed the event's own name (whether the
    builder found it by the message's two ids, by a refusal's POS, or by a note's ids), one
    that does not is handed None; the report's own handler is handed the record of the
    event's receipt (a refusal's, never kept: none); the ledger's push_due, a PushDue's
    receipt as the trace names it."""
    _check_names(ReportBuilder, *faulty_run, monkeypatch)


def test_a_push_timer_named_by_the_wrong_slot_is_caught(
    faulty_run: tuple[Scenario, list[TraceEvent]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AssertionError, match="PushDue"):
        _check_names(MisnamedPushDue, *faulty_run, monkeypatch)


def _alike_ids(events: list[TraceEvent]) -> list[TraceEvent]:
    """``events`` with each merchant's receipts numbered from R1, in the order first
    named: every merchant has an R1, an R2, ... (as a dataset's tills may number them)."""
    ids: dict[tuple[str, str], str] = {}
    per_merchant = Counter[str]()

    def alike(merchant: str | None, receipt_id: str | None) -> str | None:
        if merchant is None or receipt_id is None:
            return receipt_id
        key = (merchant, receipt_id)
        if key not in ids:
            per_merchant[merchant] += 1
            ids[key] = f"R{per_merchant[merchant]}"
        return ids[key]

    out = []
    for event in events:
        message, note, detail = event.message, event.note, event.detail
        about: Any = message
        if getattr(about, "merchant_id", None) and getattr(about, "receipt_id", None):
            message = attrs.evolve(about, receipt_id=alike(about.merchant_id, about.receipt_id))
        if note is not None and note.merchant_id is not None:
            note = attrs.evolve(note, receipt_id=alike(note.merchant_id, note.receipt_id))
        if isinstance(detail, PushDue):
            detail = attrs.evolve(
                detail, receipt_id=str(alike(detail.merchant_id, detail.receipt_id))
            )
        out.append(event._replace(message=message, note=note, detail=detail))
    return out


def test_two_merchants_receipts_of_one_id_are_two_records(
    faulty_run: tuple[Scenario, list[TraceEvent]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder finds a receipt's record by its id, checked against its merchant: on
    the faulty run with every merchant's receipts numbered alike, each handler is still
    handed the record of the event's own receipt, and the report is the one folded from
    the events' names (by the ledger's own lookup, as ``assocsim check`` folds them)."""
    scenario, events = faulty_run
    alike = _alike_ids(events)
    merchants = {e.receipt.split("/")[0] for e in alike if e.receipt and "/" in e.receipt}
    assert len(merchants) > 1
    assert len({e.receipt for e in alike if e.receipt}) < len({e.receipt for e in events})
    assert {e.receipt for e in alike if e.receipt} > {"shop-01/R1", "shop-02/R1"}
    _check_names(ReportBuilder, scenario, alike, monkeypatch)
    folded = ReportBuilder(scenario)
    for event in events:
        folded(event)
    renamed = ReportBuilder(scenario)
    for event in alike:
        renamed(event)
    assert renamed.report(scenario="s", seed=1) == folded.report(scenario="s", seed=1)
    assert renamed.judgement().lost == () and len(renamed.latencies()) > 100


def test_a_record_found_by_its_id_alone_is_caught(
    faulty_run: tuple[Scenario, list[TraceEvent]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # planted: tests/planted/merchant_blind_receipts.py (the merchant not checked)
    scenario, events = faulty_run
    _check_names(MerchantBlindReceipts, scenario, events, monkeypatch)  # ids unique: unseen
    with pytest.raises(AssertionError, match="TraceEvent"):  # a record of another receipt
        _check_names(MerchantBlindReceipts, scenario, _alike_ids(events), monkeypatch)


def _check_names(
    builder_class: type[ReportBuilder],
    scenario: Scenario,
    events: list[TraceEvent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed: list[str | None] = []
    records: list[Record | None] = []
    builder = _spied_builder(builder_class(scenario), handed, records, monkeypatch)
    tables = {EventKind.SEND: builder._on_send, EventKind.RECEIVE: builder._on_recv}
    named = Counter[str]()
    for event in events:
        t, kind, sender, recipient, message, note, _ = event
        handed.clear()
        records.clear()
        if message is not None and kind in tables:
            promise, mine, reads = tables[kind][type(message)]
            call = builder.sent if kind is EventKind.SEND else builder.received
            call(t, sender, recipient, message)
            assert len(handed) == (promise is not None), event
            assert len(records) == (mine is not None), event
            if records:  # the record of the event's receipt, if it is read
                assert _name(records[0]) == (event.receipt if reads else None), event
        elif note is not None:
            reads = builder._ledger.reads_note_receipt(note.kind)
            builder.noted(t, sender, note)
            assert len(handed) == 1, event
        elif kind is EventKind.TIMER and isinstance(event.detail, PushDue):
            # the cloud's push timer: its receipt as the trace names a PushDue's
            builder.fired(t, sender, event.detail)
            assert handed == [push_due_receipt(event.detail)], event
            named["PushDue"] += 1
            continue
        else:
            continue
        assert handed in ([], [event.receipt if reads else None]), event
        by_record = bool(records) and records[0] is not None
        named[type(message or note).__name__] += by_record or (
            bool(handed) and handed[0] is not None
        )
    assert (
        named["PurchaseUpload"] > 100
        and named["PushDue"] > 50
        and named["Note"] > 100
        and named["ErrorReply"] > 0
    )
