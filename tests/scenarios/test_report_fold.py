"""The report's fold names only what is read: skipping a receipt changes no fact.

:class:`~scenarios.ReportBuilder` names a message's receipt (``MERCHANT/RECEIPT``) only
when its own handler or the promise ledger's reads it, and a note's only when the ledger
reads it (``PromiseLedger.reads_receipt``, ``reads_note_receipt``): a third of a run's
messages are acknowledgements and subscriptions, named for nothing before. Folding a
faulty run with every receipt named must leave the ledger and the report exactly as the
fold that skips them; ``tests/planted/receipt_reading_ledger.py`` (a handler declared
blind that reads the receipt) must be caught.
"""

from __future__ import annotations

import pickle
from typing import Any

import attrs
import pytest

from actors import EventKind, TraceEvent
from protocol import NoticeAck, PromotionAck, PushAck
from scenarios import ReportBuilder, load_scenario, run_scenario
from scenarios._sim._promises import PromiseLedger
from tests.planted.ack_counting_ledger import AckCountingLedger
from tests.planted.receipt_reading_ledger import ReceiptReadingLedger
from tests.planted.type_retired_acks import TypeRetiredAckLedger

SCENARIO = attrs.evolve(load_scenario("faults"), purchases=200)


@pytest.fixture(scope="module")
def events() -> list[TraceEvent]:
    out: list[TraceEvent] = []
    run_scenario(SCENARIO, observers=[out.append])
    return out


def _fold(
    events: list[TraceEvent],
    ledger: type[PromiseLedger],
    monkeypatch: pytest.MonkeyPatch,
    *,
    name_all: bool,
) -> ReportBuilder:
    with monkeypatch.context() as patch:
        patch.setattr("scenarios._sim._report.PromiseLedger", ledger)
        builder = ReportBuilder(SCENARIO)
    assert type(builder._ledger) is ledger
    if name_all:
        builder._on_send = {cls: (p, m, True) for cls, (p, m, _) in builder._on_send.items()}
        builder._on_recv = {cls: (p, m, True) for cls, (p, m, _) in builder._on_recv.items()}
        monkeypatch.setattr(builder._ledger, "reads_note_receipt", lambda typ: True)
    for event in events:
        builder(event)
    return builder


def _facts(builder: ReportBuilder) -> dict[str, Any]:
    """The ledger's facts (its dispatch tables left out) and the report's figures."""
    ledger = {k: v for k, v in vars(builder._ledger).items() if not k.startswith("_on_")}
    ledger.pop("reads_note_receipt", None)
    return {
        "ledger": pickle.dumps(sorted(ledger.items(), key=lambda kv: kv[0])),
        "report": builder.report(scenario="s", seed=1),
        "judgement": builder.judgement(),
    }


def test_naming_every_receipt_changes_nothing(
    events: list[TraceEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    skipping = _fold(events, PromiseLedger, monkeypatch, name_all=False)
    naming = _fold(events, PromiseLedger, monkeypatch, name_all=True)
    assert _facts(skipping) == _facts(naming)
    assert skipping.report(scenario="s", seed=1).delivered > 100


def test_the_fold_is_the_report_of_the_run(
    events: list[TraceEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuilt builder of these tests folds as the run's own did."""
    folded = _fold(events, PromiseLedger, monkeypatch, name_all=False).report(
        scenario=SCENARIO.name, seed=SCENARIO.seed
    )
    assert folded == run_scenario(SCENARIO).report


def test_a_blind_handler_that_reads_the_receipt_is_caught(
    events: list[TraceEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    skipping = _fold(events, ReceiptReadingLedger, monkeypatch, name_all=False)
    naming = _fold(events, ReceiptReadingLedger, monkeypatch, name_all=True)
    assert _facts(skipping) != _facts(naming)
    planted = skipping._ledger
    assert isinstance(planted, ReceiptReadingLedger)
    assert planted.acknowledged == {None}  # the receipt it reads was never handed to it


def _acknowledgements(events: list[TraceEvent]) -> int:
    return sum(
        event.kind in {EventKind.SEND, EventKind.RECEIVE}
        and type(event.message) in {PushAck, NoticeAck, PromotionAck}
        for event in events
    )


def test_the_acknowledgements_handler_is_retired_once_the_ledger_is_reliable(
    events: list[TraceEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger's own ``_ack`` is called until the ledger is reliable, then no more,
    and the facts are those of every acknowledgement folded (the first test)."""
    builder = _fold(events, PromiseLedger, monkeypatch, name_all=False)
    assert builder._ledger.reliable
    for table in (builder._on_send, builder._on_recv):
        for cls in (PushAck, NoticeAck):
            assert table[cls][0] is None


def test_a_ledger_reading_every_acknowledgement_is_handed_every_one(
    events: list[TraceEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = _fold(events, AckCountingLedger, monkeypatch, name_all=False)
    planted = builder._ledger
    assert isinstance(planted, AckCountingLedger)
    assert planted.acks == _acknowledgements(events) > 100


def test_acknowledgements_retired_by_their_type_are_caught(
    events: list[TraceEvent], monkeypatch: pytest.MonkeyPatch
) -> None:
    # planted: tests/planted/type_retired_acks.py
    builder = _fold(events, TypeRetiredAckLedger, monkeypatch, name_all=False)
    planted = builder._ledger
    assert isinstance(planted, TypeRetiredAckLedger)
    assert planted.acks < _acknowledgements(events)
