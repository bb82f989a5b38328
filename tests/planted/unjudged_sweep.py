"""A planted bug in sweeps, the old one: a sweep's runs are never judged.

Before every sweep run was judged, :func:`scenarios._sweep._run.run_point` ran the
scenario with no checker and recorded the report's figures only: a variant cloud that
broke a safety promise the report does not count (``refusal-justified``, ``privacy``,
``binding``, ...) gave a sweep with no red on its page and exit status 0.
:func:`run_point` is that unit of work, giving a row that says no promise broke without
judging any. ``tests/scenarios/test_sweep_promises.py`` must see the sweep miss it.
"""

from __future__ import annotations

from actors import CrashTally, idle_faults
from scenarios._model._runspec import RunSpec
from scenarios._model._scenario import scenario_from_dict
from scenarios._sim._runner import run_scenario
from scenarios._sweep._run import SweepRow, SweepTask, _given, _point_run, cloud_factory

__all__ = ["run_point"]


def run_point(task: SweepTask) -> SweepRow:
    """Stands in for ``_run.run_point``."""
    run = _point_run(RunSpec.of(scenario_from_dict(task.scenario)), task.overrides, task.seed)
    scenario = run.scenario
    cloud = None if task.cloud is None else cloud_factory(task.cloud)
    tally = CrashTally()
    result = run_scenario(
        scenario, run.seed, observers=[tally] if scenario.crash else (), cloud=cloud
    )
    return SweepRow(
        point=task.point,
        seed=task.seed,
        knobs=_given(task.overrides),
        report=result.report,
        latencies=result.latencies,
        broken=(),  # BUG: no checker ran; "nothing broken" unjudged
        idle_faults=tuple(f.what for f in idle_faults(result.world, scenario.crash, tally)),
    )
