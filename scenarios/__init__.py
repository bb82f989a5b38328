"""Scenarios of assocsim: load them (TOML, by name or path), run them, report.

A :class:`Scenario` says how many shops, phones and purchases a world has and how its
people behave; :func:`run_scenario` runs it in virtual time with a seed and returns the
:class:`Report`. The ``assocsim`` command line lives here too.
"""

from ._durations import format_duration, parse_duration
from ._errors import ScenarioError
from ._report import Report, ReportBuilder
from ._runner import RunResult, build_world, run_scenario, simulate
from ._scenario import (
    CloudSettings,
    Scenario,
    builtin_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from ._workload import (
    PhonePlan,
    PlannedPurchase,
    ShopPlan,
    Workload,
    generate_workload,
    phone_id_of,
)

__all__ = [
    "CloudSettings",
    "PhonePlan",
    "PlannedPurchase",
    "Report",
    "ReportBuilder",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ShopPlan",
    "Workload",
    "build_world",
    "builtin_scenarios",
    "format_duration",
    "generate_workload",
    "load_scenario",
    "parse_duration",
    "phone_id_of",
    "run_scenario",
    "scenario_from_dict",
    "scenario_to_dict",
    "simulate",
]
