"""The trace tools key receipts by merchant and id (issue 14): two merchants' receipts of
one id, bound to two phones, are two receipts to the checker, the report and the diagram.

The check that makes this so is the trace's ``MERCHANT/RECEIPT`` naming; with the merchant
stripped from the same trace (the keys of format 1), the checker conflates the two receipts
and reports a broken binding: the test shows both.
"""

from __future__ import annotations

import json
from pathlib import Path

import trio.testing

from actors import TRACE_FORMAT, EventKind, TraceEvent, World
from protocol import (
    CLOUD,
    Checkout,
    CloudConfig,
    CloudMachine,
    InMemoryStore,
    PhoneMachine,
    PhoneNote,
    PosMachine,
    RuleRecommender,
    phone_address,
    pos_address,
)
from scenarios import DiagramOptions, ReportBuilder, check_trace, write_diagram
from tests.builders import ALICE, BOB, catalog_item

SHOPS = ("shop-01", "shop-02")


async def _two_merchants_one_id(clock: trio.testing.MockClock) -> list[TraceEvent]:
    """shop-01 sells R1 to Alice (she asks), shop-02 sells its own R1 to Bob (he never
    asks: pushed at the deadline)."""
    events: list[TraceEvent] = []
    world = World(observer=events.append, clock=clock)
    config = CloudConfig(push_timeout=600.0)
    world.add(
        CLOUD, CloudMachine(store=InMemoryStore(), recommender=RuleRecommender(), config=config)
    )
    skus = {"shop-01": "SKIN-FW-001", "shop-02": "FOOD-PA-001"}
    for at, (shop, phone_id) in enumerate(zip(SHOPS, (ALICE, BOB), strict=True)):
        sale = Checkout(
            float(at), "R1", phone_id, phone_address(phone_id), (catalog_item(skus[shop]),)
        )
        world.add(pos_address(shop, "pos-1"), PosMachine(shop, "pos-1", [sale]))
    world.add(phone_address(ALICE), PhoneMachine(ALICE, default_ask_delay=10.0))
    world.add(phone_address(BOB), PhoneMachine(BOB, default_ask_delay=None))
    await world.run()
    return events


def _records(events: list[TraceEvent], *, merchant: bool = True) -> list[dict[str, object]]:
    header: dict[str, object] = {
        "format": TRACE_FORMAT,
        "settings": {"cloud": {"push_timeout": 600.0}},
    }
    records: list[dict[str, object]] = [header]
    for event in events:
        record = event.to_json()
        receipt = record.get("receipt")
        if not merchant and isinstance(receipt, str):
            record["receipt"] = receipt.rpartition("/")[2]  # BUG: the merchant forgotten
        records.append(record)
    return records


async def test_two_merchants_receipts_of_one_id_are_two_receipts_to_the_tools(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    events = await _two_merchants_one_id(autojump_clock)
    shown = {
        (event.sender, event.receipt)
        for event in events
        if event.kind is EventKind.NOTE
        and event.note is not None
        and event.note.kind == PhoneNote.SHOWN
    }
    assert shown == {(phone_address(ALICE), "shop-01/R1"), (phone_address(BOB), "shop-02/R1")}

    result = check_trace(_records(events))
    assert result.ok, result.format_text()
    assert result.receipts == 2

    report = ReportBuilder(None)
    for event in events:
        report(event)
    assert report.judgement().lost == () and report.judgement().duplicates == ()

    trace = tmp_path / "two.jsonl"
    trace.write_text("\n".join(json_line(r) for r in _records(events)) + "\n")
    one = write_diagram(trace, tmp_path / "one.svg", DiagramOptions(receipt="shop-02/R1"))
    both = write_diagram(trace, tmp_path / "both.svg", DiagramOptions(receipt="R1"))
    assert 0 < one.drawn < both.drawn


async def test_planted_receipts_without_their_merchant_are_conflated(
    autojump_clock: trio.testing.MockClock,
) -> None:
    events = await _two_merchants_one_id(autojump_clock)
    result = check_trace(_records(events, merchant=False))
    assert not result.ok
    assert {v.invariant for v in result.violations} >= {"binding"}
    assert result.receipts == 1


def json_line(record: dict[str, object]) -> str:
    return json.dumps(record, separators=(",", ":"))
