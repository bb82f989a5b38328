"""The report builder against the reference: the builder as it was before one record per
receipt (``tests/scenarios/report_before.py``, on the ledger before it, receipts keyed by
``(receipt id, merchant id)``).

The builder now shares the ledger's record of each receipt and finds it by one probe of
the receipt id, checked against its merchant. On every built-in scenario (shrunk), with
the reference cloud and planted clouds that break the promises, and on the same events
with every merchant's receipts numbered alike (shop-01's R1 and shop-02's R1), its
report, latencies and verdicts must be the reference's.
"""

from __future__ import annotations

import functools

import attrs
import pytest

from actors import TraceEvent
from scenarios import ReportBuilder, apply_overrides, builtin_scenarios, load_scenario
from scenarios import run_scenario as run
from scenarios.testing import load_cloud_factory
from tests.actors.test_sink import _alike_ids
from tests.planted.merchant_blind_receipts import MerchantBlindReceipts
from tests.scenarios import report_before
from tests.scenarios.test_promises_reference import verdicts

PURCHASES = 1000  # built-in scenarios shrunk to this: the module stays under 20 s
CLOUDS = (
    None,
    "tests.planted.buggy_cloud:buggy_cloud",
    "tests.planted.silent_cloud:silent_cloud",
    "tests.planted.dropped_dual_send:dropped_dual_send_cloud",
)


@functools.cache
def _run(name: str, cloud: str | None) -> tuple[TraceEvent, ...]:
    scenario = load_scenario(name)
    if scenario.purchases > PURCHASES:
        scenario = apply_overrides(scenario, [f"purchases={PURCHASES}"])
    events: list[TraceEvent] = []
    factory = None if cloud is None else load_cloud_factory(cloud)
    run(scenario, observers=[events.append], cloud=factory)
    return tuple(events)


@pytest.mark.parametrize("alike", [False, True], ids=["ids-unique", "ids-alike"])
@pytest.mark.parametrize("cloud", CLOUDS)
@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_the_report_is_the_references(name: str, cloud: str | None, alike: bool) -> None:
    scenario = load_scenario(name)
    events = list(_run(name, cloud))
    if alike:
        events = _alike_ids(events)
    builder, reference = ReportBuilder(scenario), report_before.ReportBuilder(scenario)
    for event in events:
        builder(event)
        reference(event)
    report = builder.report(scenario=name, seed=1)
    assert attrs.asdict(report) == attrs.asdict(reference.report(scenario=name, seed=1))
    assert builder.latencies() == reference.latencies()
    assert verdicts(builder.judgement()) == verdicts(reference.judgement())
    assert report.purchases > 0


def test_the_runs_break_promises_and_number_receipts_alike() -> None:
    # not vacuous: the planted clouds' runs break promises the reference's keep, and
    # the renumbered runs hold one receipt id at two merchants
    broken = {cloud: ReportBuilder(load_scenario("wrong-ids")) for cloud in CLOUDS}
    for cloud, builder in broken.items():
        for event in _run("wrong-ids", cloud):
            builder(event)
    honest = broken[None].judgement()
    assert not (honest.lost or honest.duplicates)
    assert all(
        builder.judgement().lost or builder.judgement().duplicates
        for cloud, builder in broken.items()
        if cloud is not None
    )
    names = {e.receipt for e in _alike_ids(list(_run("faults", None))) if e.receipt}
    assert {"shop-01/R1", "shop-02/R1"} <= names


def test_a_record_found_by_its_id_alone_differs_from_the_reference() -> None:
    # planted: tests/planted/merchant_blind_receipts.py (the merchant not checked)
    scenario = load_scenario("faults")
    events = _alike_ids(list(_run("faults", None)))
    planted, reference = MerchantBlindReceipts(scenario), report_before.ReportBuilder(scenario)
    for event in events:
        planted(event)
        reference(event)
    mine = planted.report(scenario="faults", seed=1)
    theirs = reference.report(scenario="faults", seed=1)
    assert mine.purchases < theirs.purchases  # merchants' receipts of one id merged
