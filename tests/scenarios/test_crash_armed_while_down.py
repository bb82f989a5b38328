"""A crash inside a step armed while the cloud is down falls once it is back (reviewer Q's
F3): ``Actor.restart`` gave the new machine its store unwrapped, so a ``[[crash]]`` with
``after_writes`` that came due while the cloud was down never fell (the run told it as an
idle fault, blaming the steps), and ``during = "start"`` (the restart's own step) never
could. Planted: the old restart (``tests/planted/unwrapped_restart.py``)."""

from __future__ import annotations

import attrs
import pytest

from actors import Actor, Crash
from protocol import CLOUD, CloudConfig, CloudMachine, CloudStore, Effects, Machine, Recommender
from scenarios import Scenario, load_scenario
from scenarios.testing import run_checked
from tests.planted.unwrapped_restart import unwrapped_restart

HOUR = 3600.0
DOWN = Crash(CLOUD, at=HOUR, restart=2 * HOUR)  # between steps, down an hour
INSIDE_WHILE_DOWN = Crash(CLOUD, at=1.5 * HOUR, restart=1.5 * HOUR + 60, after_writes=1)


def _world(*crashes: Crash) -> Scenario:
    return attrs.evolve(load_scenario("quickstart"), purchases=100, crash=crashes)


def _crashes_and_idle(scenario: Scenario) -> tuple[int, int]:
    outcome = run_checked(scenario)
    return outcome.report.crashes, len(outcome.idle_faults)


def test_a_crash_point_armed_while_down_falls_after_the_restart() -> None:
    assert _crashes_and_idle(_world(DOWN, INSIDE_WHILE_DOWN)) == (2, 0)


def test_planted_the_unwrapped_restart_never_lets_it_fall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Actor, "restart", unwrapped_restart)
    assert _crashes_and_idle(_world(DOWN, INSIDE_WHILE_DOWN)) == (1, 1)
    assert _start_crashes() == (1, 1)


class _StartRepairing(CloudMachine):
    """A cloud whose restart writes: its start puts every pending push back (a repair)."""

    def start(self, now: float) -> Effects:
        effects = super().start(now)
        for pending in tuple(self.store.pending_pushes()):
            self.store.put_pending_push(pending)
        return effects


def _start_repairing(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    return _StartRepairing(store=store, recommender=recommender, config=config)


def _start_crashes() -> tuple[int, int]:
    """(crashes, idle faults) of a start-repairing cloud crashed between steps at 1 h while
    a crash inside its next ``start`` step is armed (since 30 min)."""
    in_start = Crash(CLOUD, at=0.5 * HOUR, restart=1.5 * HOUR, after_writes=1, during="start")
    between = Crash(CLOUD, at=HOUR, restart=HOUR + 60)
    scenario = attrs.evolve(
        _world(in_start, between),
        cloud=attrs.evolve(load_scenario("quickstart").cloud, push_timeout=2 * HOUR),
    )
    outcome = run_checked(scenario, cloud=_start_repairing)
    return outcome.report.crashes, len(outcome.idle_faults)


def test_a_crash_during_the_restarts_own_step_falls() -> None:
    assert _start_crashes() == (2, 0)
