"""A crash inside a step has no deadline: armed at ``at``, it falls in the first matching
step however late, and stays down for ``restart - at`` from then.

The idle-crash warning said such a crash "needs such a step to come before its restart";
it fired at 2,028 s with ``at = 100``, ``restart = 200`` (the first timeout push of
quickstart), restarting at 2,128 s. The warning now says what the crash needs.
"""

from __future__ import annotations

import pytest

from actors import CrashTally, EventKind, TraceEvent, idle_faults
from scenarios import load_scenario, run_scenario
from scenarios._model._overrides import apply_overrides


def test_a_crash_inside_a_step_falls_after_its_restart_time_and_stays_down_its_length() -> None:
    scenario = apply_overrides(
        load_scenario("quickstart"),
        [
            "purchases=50",
            'crash=[{actor="cloud",at=100,restart=200,after_writes=1,during="push-due"}]',
        ],
    )
    events: list[TraceEvent] = []
    tally = CrashTally()
    result = run_scenario(scenario, observers=[tally, events.append])
    edges = [(e.kind, e.t) for e in events if e.kind in (EventKind.CRASH, EventKind.RESTART)]
    (crash, crashed_at), (restart, restarted_at) = edges
    assert (crash, restart) == (EventKind.CRASH, EventKind.RESTART)
    assert crashed_at > 200  # after the entry's restart time: no deadline
    assert restarted_at - crashed_at == pytest.approx(100)
    assert idle_faults(result.world, scenario.crash, tally) == []


def test_the_idle_warning_says_what_a_crash_inside_a_step_needs() -> None:
    scenario = apply_overrides(
        load_scenario("quickstart"),
        ["purchases=20", 'crash=[{actor="cloud",at=100,restart=200,after_writes=9}]'],
    )
    tally = CrashTally()
    result = run_scenario(scenario, observers=[tally])
    (idle,) = idle_faults(result.world, scenario.crash, tally)
    assert "before its restart" not in idle.why
    assert idle.why.endswith(
        "a crash inside a step needs a step of its kind making that many store writes after "
        "its `at`, at any time before the run ends)"
    )
