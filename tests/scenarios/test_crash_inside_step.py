"""A kill -9 inside a cloud step: every step is all or nothing, so nothing is lost.

Each case crashes the cloud right after store write k of the first step of one kind
(``[[crash]] after_writes = k, during = KIND``), restarts it from its SQLite file, and
judges the run with every trace checker. The reference cloud, whose driver makes each
step one transaction, loses nothing at any write of any step. The planted
``tests/planted/per_write_store.py`` (each write committed on its own, as before) loses
pushes at the same crash points, so the cases can fail.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from actors import Crash, FaultPlanError, NetworkConfig
from protocol import CLOUD
from scenarios import CloudSettings, Scenario
from scenarios.testing import RunOutcome, run_checked
from tests.planted.per_write_store import per_write_cloud

BASE = Scenario(
    name="crash-inside-a-step",
    seed=5,
    shops=1,
    phones=3,
    purchases=4,
    duration=1200.0,
    cloud=CloudSettings(push_timeout=300.0, store="sqlite"),
    network=NetworkConfig(latency=0.01),
)

WORLDS: dict[str, Scenario] = {
    # nobody asks: each purchase waits for its timeout push
    "push-due": attrs.evolve(BASE, ask_probability=0.0),
    "purchase-upload": attrs.evolve(BASE, ask_probability=0.0),
    "push-ack": attrs.evolve(BASE, ask_probability=0.0),
    "subscribe": attrs.evolve(BASE, ask_probability=0.0),
    # every buyer asks in time: answered pulls
    "association-request": attrs.evolve(BASE, ask_probability=1.0, ask_delay=(10.0, 20.0)),
}
DUAL_SEND = attrs.evolve(
    BASE,
    phones=2,
    purchases=8,
    seed=1,
    ask_probability=1.0,
    ask_delay=(60.0, 90.0),
    wrong_id_rate=1.0,
)
"""Every buyer keys in a wrong phone id: each request is a mismatch and a dual-send."""

WRITES = {  # the store writes of one such step of the reference cloud
    "push-due": 4,  # pending removed, relation saved, delivery marked, push kept
    "purchase-upload": 2,  # binding, pending push
    "push-ack": 1,  # outgoing removed
    "subscribe": 1,
    "association-request": 3,  # relation saved, delivery marked, pending removed
}


def _crashing(world: Scenario, kind: str, after_writes: int) -> Scenario:
    crash = Crash(CLOUD, at=1.0, restart=900.0, after_writes=after_writes, during=kind)
    return attrs.evolve(world, crash=(crash,))


def _kept_every_promise(outcome: RunOutcome) -> None:
    assert outcome.report.crashes == outcome.report.restarts == 1  # the crash point fired
    outcome.assert_ok()
    assert outcome.report.lost == 0
    assert outcome.report.duplicates == 0
    assert outcome.report.uploads_acknowledged == outcome.scenario.purchases


CASES = [(kind, k) for kind, most in WRITES.items() for k in range(1, most + 1)]


@pytest.mark.parametrize(("kind", "after_writes"), CASES)
def test_a_crash_after_any_write_of_any_step_loses_nothing(
    kind: str, after_writes: int, tmp_path: Path
) -> None:
    scenario = _crashing(WORLDS[kind], kind, after_writes)
    outcome = run_checked(scenario, failures_dir=tmp_path)
    _kept_every_promise(outcome)


@pytest.mark.parametrize("after_writes", [1, 2, 3, 4])
def test_a_crash_inside_a_dual_send_loses_nothing(after_writes: int, tmp_path: Path) -> None:
    scenario = _crashing(DUAL_SEND, "association-request", after_writes)
    outcome = run_checked(scenario, failures_dir=tmp_path)
    _kept_every_promise(outcome)


PER_WRITE_LOSSES = [("push-due", WORLDS["push-due"], k) for k in (1, 2, 3)]
PER_WRITE_LOSSES += [("association-request", DUAL_SEND, k) for k in (2, 3)]


@pytest.mark.parametrize(("kind", "world", "after_writes"), PER_WRITE_LOSSES)
def test_the_planted_per_write_store_loses_a_push_at_the_same_crash_points(
    kind: str, world: Scenario, after_writes: int, tmp_path: Path
) -> None:
    outcome = run_checked(
        _crashing(world, kind, after_writes), cloud=per_write_cloud, failures_dir=tmp_path
    )
    assert outcome.report.crashes == 1
    assert not outcome.ok
    assert "no-delivery-lost" in {v.invariant for v in outcome.violations}
    assert outcome.report.lost >= 1


def test_a_re_sent_upload_repairs_a_binding_left_without_its_push(tmp_path: Path) -> None:
    # Under the per-write store a crash after the binding's write leaves no pending push;
    # the POS, never acknowledged, sends the upload again and the cloud re-arms the push.
    scenario = _crashing(WORLDS["purchase-upload"], "purchase-upload", 1)
    outcome = run_checked(scenario, cloud=per_write_cloud, failures_dir=tmp_path)
    _kept_every_promise(outcome)


@pytest.mark.parametrize("kind", ["push-due", "association-request"])
def test_a_crash_inside_a_step_is_the_same_under_both_schedulings(
    kind: str, tmp_path: Path
) -> None:
    scenario = _crashing(WORLDS[kind], kind, 2)
    inline = run_checked(scenario, failures_dir=tmp_path)
    tasks = run_checked(scenario, scheduling="tasks", failures_dir=tmp_path)
    _kept_every_promise(tasks)
    assert tasks.report == inline.report


def test_a_crash_point_that_no_step_reaches_crashes_nothing(tmp_path: Path) -> None:
    # Nobody asks, so no association-request step ever comes: the armed crash never falls.
    scenario = _crashing(WORLDS["push-due"], "association-request", 1)
    outcome = run_checked(scenario, failures_dir=tmp_path)
    outcome.assert_ok()
    assert outcome.report.crashes == outcome.report.restarts == 0


def test_overlapping_crashes_of_a_cloud_on_sqlite_restart_it_once(tmp_path: Path) -> None:
    # A second entry's restart while the cloud already runs again must not rebuild it
    # (which would close the store the running cloud uses).
    crash = (Crash(CLOUD, at=100.0, restart=700.0), Crash(CLOUD, at=200.0, restart=800.0))
    outcome = run_checked(attrs.evolve(WORLDS["push-due"], crash=crash), failures_dir=tmp_path)
    _kept_every_promise(outcome)


def test_a_misspelt_step_kind_is_refused_with_a_did_you_mean() -> None:
    with pytest.raises(
        FaultPlanError, match=r"'push-deu' is no kind of step.*did you mean 'push-due'"
    ):
        Crash(CLOUD, at=1.0, restart=2.0, after_writes=1, during="push-deu")
    with pytest.raises(FaultPlanError, match="needs after_writes >= 1"):
        Crash(CLOUD, at=1.0, restart=2.0, during="push-due")


def test_a_crash_inside_a_step_of_a_party_without_a_store_is_refused(tmp_path: Path) -> None:
    crash = Crash("pos:*", at=1.0, restart=2.0, after_writes=1)
    with pytest.raises(FaultPlanError, match="keeps no store, so no step of it writes"):
        run_checked(attrs.evolve(BASE, crash=(crash,)), failures_dir=tmp_path)
