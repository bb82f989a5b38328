"""A planted bug: crashes inside steps drawn without looking at the scenario.

:func:`blind_faulty_scenarios` is ``faulty_scenarios`` as it drew before: a scenario, then
a fault schedule from the public ``fault_schedules``, whose crashes inside steps take a
kind and a write count from ``CRASH_STEP_KINDS`` and an ``at`` anywhere in their slot. A
``subscribe`` armed after the last phone subscribed, a ``resend`` in a run that never
gives up, or ``after_writes = 4`` on an upload never falls: about a quarter of the runs
with ``inside_steps="always"`` crashed nothing inside a step, every test still green.
``tests/scenarios/test_fault_matrix_fires.py`` must catch it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from scenarios import Scenario
from scenarios.testing.strategies import InsideSteps, fault_schedules, scenarios

__all__ = ["blind_faulty_scenarios"]


@st.composite
def blind_faulty_scenarios(draw: st.DrawFn, inside_steps: InsideSteps = "always") -> Scenario:
    """A faulty scenario whose crash points are drawn blind to its steps (the bug)."""
    base = draw(scenarios())
    schedule = draw(
        fault_schedules(
            before=base.duration,
            inside_steps=inside_steps,
            crashes_before=(
                base.duration + base.cloud.push_timeout if inside_steps == "always" else None
            ),
        )
    )
    return schedule.apply(base)
