"""A cloud crash with pushes pending: the cloud recovers from its SQLite store."""

from __future__ import annotations

import attrs
import pytest

from actors import Crash, EventKind, NetworkConfig, TraceEvent
from protocol import CLOUD, AssociationPush, PurchaseUpload, PushReason
from scenarios import CloudSettings, Report, Scenario, run_scenario

CRASH_AT, RESTART_AT = 1800.0, 2520.0
TIMEOUT = 600.0

SCENARIO = Scenario(
    name="crash-with-pushes-pending",
    seed=3,
    shops=2,
    phones=20,
    purchases=60,
    duration=3600.0,
    ask_probability=0.0,  # nobody asks: every purchase waits for its timeout push
    cloud=CloudSettings(push_timeout=TIMEOUT),
    network=NetworkConfig(latency=0.01),
    crash=(Crash(CLOUD, at=CRASH_AT, restart=RESTART_AT),),
)


def _run(scenario: Scenario) -> tuple[list[TraceEvent], Report]:
    events: list[TraceEvent] = []
    result = run_scenario(scenario, observers=[events.append])
    return events, result.report


@pytest.mark.parametrize("store", ["auto", "sqlite"])
def test_every_pending_push_arrives_at_its_original_deadline_or_at_restart(store: str) -> None:
    scenario = attrs.evolve(SCENARIO, cloud=attrs.evolve(SCENARIO.cloud, store=store))
    events, report = _run(scenario)
    stored_at: dict[str, float] = {}
    first_push: dict[str, float] = {}
    for e in events:
        if e.kind is EventKind.RECEIVE and e.recipient == CLOUD:
            if isinstance(e.message, PurchaseUpload):
                stored_at.setdefault(e.message.receipt_id, e.t)
        elif e.kind is EventKind.SEND and isinstance(e.message, AssociationPush):
            assert e.message.reason is PushReason.TIMEOUT
            first_push.setdefault(e.message.receipt_id, e.t)
    restarted = [e.t for e in events if e.kind is EventKind.RESTART]
    assert restarted == [pytest.approx(RESTART_AT)]
    pending_at_crash = [r for r, t in stored_at.items() if t < CRASH_AT and t + TIMEOUT >= CRASH_AT]
    assert len(pending_at_crash) > 5, "the crash must catch pushes pending"
    for receipt, stored in stored_at.items():
        deadline = stored + TIMEOUT
        # a deadline that passed while the cloud was down is met at the restart
        expected = RESTART_AT if CRASH_AT <= deadline < RESTART_AT else deadline
        if receipt not in first_push:
            continue  # withheld: its phone never subscribed (checked below)
        assert first_push[receipt] == pytest.approx(expected), receipt
    assert report.lost == 0
    assert report.duplicates == 0
    assert report.crashes == report.restarts == 1
    assert report.dropped_while_down > 0


def test_without_a_durable_store_the_crash_loses_the_pending_pushes() -> None:
    """The in-memory store dies with the process: the control case for the test above."""
    volatile = attrs.evolve(SCENARIO, cloud=attrs.evolve(SCENARIO.cloud, store="memory"))
    _, report = _run(volatile)
    assert report.lost > 0
