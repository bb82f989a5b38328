"""The fault matrix's crashes inside cloud steps fall: a drawn fault that injects nothing
would let every property of ``test_fault_matrix.py`` pass on a cloud it never tested.

``faulty_scenarios(inside_steps=...)`` aims each crash inside a step at a step its
scenario makes (an upload, a subscription, a push falling due, a request, a push-ack),
armed before it, asking no more store writes than it makes. Here 60 seeded scenarios
(``"always"``, as many as the fault matrix draws) run, and at least 95 % of the runs and
of the entries must have a crash inside a step fall, counted from the trace (only the
cloud crashes in such a run). The drawing blind to the scenario, as it was
(``tests/planted/blind_crash_points.py``), fails the same check: about a quarter of its
runs crash nothing.
"""

from __future__ import annotations

import fnmatch

import attrs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from actors import EventKind, TraceEvent
from protocol import CLOUD
from scenarios import Scenario, run_scenario
from scenarios.testing.strategies import faulty_scenarios
from tests.planted.blind_crash_points import blind_faulty_scenarios

RUNS = 60
SHARE = 0.95
"""The share of runs (and of entries) that must have a crash inside a step fall."""


@attrs.define
class Fired:
    """What the runs drawn so far injected inside steps."""

    runs: int = 0
    runs_fired: int = 0
    entries: int = 0
    entries_fired: int = 0

    @property
    def misses(self) -> int:
        return self.runs - self.runs_fired

    def enough(self) -> bool:
        return self.runs_fired >= SHARE * self.runs and self.entries_fired >= SHARE * self.entries


def inside_fired(scenario: Scenario, events: list[TraceEvent]) -> int:
    """Crashes inside a step that fell: the cloud's crashes less those of the entries
    between steps that match it (each crashes it once: they come first, their windows
    apart)."""
    cloud_crashes = sum(1 for e in events if e.kind is EventKind.CRASH and e.sender == CLOUD)
    between = sum(
        1 for c in scenario.crash if not c.inside_step and fnmatch.fnmatchcase(CLOUD, c.actor)
    )
    return cloud_crashes - between


def derandomized(runs: int) -> settings:
    """The settings of a share test: ``runs`` examples, the same ones every time (drawn,
    not shrunk, no database), whatever the profile."""
    return settings(
        max_examples=runs,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def fired_share(strategy: st.SearchStrategy[Scenario], runs: int = RUNS) -> Fired:
    """Run ``runs`` scenarios drawn (derandomized) from ``strategy`` and count what fell;
    stops once more runs missed than the share allows (the verdict is known then)."""
    fired = Fired()

    @derandomized(runs)
    @given(strategy)
    def run(scenario: Scenario) -> None:
        if fired.misses > (1 - SHARE) * runs:
            return
        inside = sum(1 for c in scenario.crash if c.inside_step)
        events: list[TraceEvent] = []
        run_scenario(scenario, observers=[events.append])
        fell = inside_fired(scenario, events)
        assert 0 <= fell <= inside, (fell, inside)
        fired.runs += 1
        fired.runs_fired += fell > 0
        fired.entries += inside
        fired.entries_fired += fell

    run()
    return fired


def test_crashes_drawn_inside_steps_fall() -> None:
    fired = fired_share(faulty_scenarios(inside_steps="always"))
    assert fired.runs == RUNS, fired
    assert fired.enough(), fired


def test_the_blind_drawing_is_caught() -> None:
    fired = fired_share(blind_faulty_scenarios(inside_steps="always"))
    assert not fired.enough(), fired  # tests/planted/blind_crash_points.py


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=faulty_scenarios(inside_steps="sometimes"))
def test_sometimes_draws_crashes_inside_steps_after_those_between(scenario: Scenario) -> None:
    # A crash of the cloud between steps drops a crash point still armed: those come first.
    kinds = [c.inside_step for c in scenario.crash]
    first_inside = kinds.index(True) if True in kinds else len(kinds)
    later = scenario.crash[first_inside:]
    assert all(c.inside_step or not fnmatch.fnmatchcase(CLOUD, c.actor) for c in later)
