"""Scenarios of assocsim: load them (TOML, by name or path), run them, report.

A :class:`Scenario` says how many shops, phones and purchases a world has and how its
people behave; :func:`run_scenario` runs it in virtual time with a seed and returns the
:class:`Report`. :func:`apply_overrides` changes a scenario's knobs (``KEY=VALUE``);
a :class:`RunSpec` is one run's scenario as given, its overrides and its seed;
:func:`run_sweep` runs a scenario over a grid of knob values and seeds, on every core or any
executor. The ``assocsim`` command line lives here too.
"""

from ._explore._api import (
    ExplorationFailed,
    ExploreResult,
    FaultBudgets,
    explore,
    replay_counterexample,
)
from ._explore._world import WORLDS as EXPLORE_WORLDS
from ._explore._world import (
    Budgets,
    CrashPoints,
    ExploreError,
    ExploreWorld,
    PhoneRole,
    PurchaseRole,
)
from ._field._tcprun import report_from_records
from ._model._datasets import Basket, Dataset, DatasetError, load_dataset
from ._model._durations import format_duration, parse_duration
from ._model._errors import ScenarioError
from ._model._overrides import apply_overrides, override_keys, parse_override, parse_value
from ._model._runspec import RunSpec
from ._model._scenario import (
    CloudSettings,
    Scenario,
    SourceSettings,
    builtin_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from ._model._workload import (
    PhonePlan,
    PlannedPurchase,
    ShopPlan,
    Workload,
    generate_workload,
    phone_id_of,
)
from ._reco._eval import Evaluation, MethodResult, evaluate
from ._sim._progress import SweepBar, SweepLines, SweepProgress
from ._sim._report import Report, ReportBuilder
from ._sim._runner import CloudFactory, RunResult, build_world, run_scenario, simulate
from ._sweep._run import (
    SweepPoint,
    SweepResult,
    SweepRow,
    SweepTask,
    parse_vary,
    plan_sweep,
    run_point,
    run_sweep,
)
from ._trace._checks import (
    INVARIANTS,
    CheckResult,
    TraceChecker,
    Violation,
    check_events,
    check_trace,
    check_trace_file,
)
from ._trace._diagram import Diagram, DiagramOptions, build_diagram, write_diagram
from ._trace._reader import TraceError, merge_traces
from ._trace._replay import (
    DeterminismResult,
    Difference,
    ReplayResult,
    check_determinism,
    first_difference,
    replay_trace,
    scenario_from_header,
)

__all__ = [
    "EXPLORE_WORLDS",
    "INVARIANTS",
    "Basket",
    "Budgets",
    "CheckResult",
    "CloudFactory",
    "CloudSettings",
    "CrashPoints",
    "Dataset",
    "DatasetError",
    "DeterminismResult",
    "Diagram",
    "DiagramOptions",
    "Difference",
    "Evaluation",
    "ExplorationFailed",
    "ExploreError",
    "ExploreResult",
    "ExploreWorld",
    "FaultBudgets",
    "MethodResult",
    "PhonePlan",
    "PhoneRole",
    "PlannedPurchase",
    "PurchaseRole",
    "ReplayResult",
    "Report",
    "ReportBuilder",
    "RunResult",
    "RunSpec",
    "Scenario",
    "ScenarioError",
    "ShopPlan",
    "SourceSettings",
    "SweepBar",
    "SweepLines",
    "SweepPoint",
    "SweepProgress",
    "SweepResult",
    "SweepRow",
    "SweepTask",
    "TraceChecker",
    "TraceError",
    "Violation",
    "Workload",
    "apply_overrides",
    "build_diagram",
    "build_world",
    "builtin_scenarios",
    "check_determinism",
    "check_events",
    "check_trace",
    "check_trace_file",
    "evaluate",
    "explore",
    "first_difference",
    "format_duration",
    "generate_workload",
    "load_dataset",
    "load_scenario",
    "merge_traces",
    "override_keys",
    "parse_duration",
    "parse_override",
    "parse_value",
    "parse_vary",
    "phone_id_of",
    "plan_sweep",
    "replay_counterexample",
    "replay_trace",
    "report_from_records",
    "run_point",
    "run_scenario",
    "run_sweep",
    "scenario_from_dict",
    "scenario_from_header",
    "scenario_to_dict",
    "simulate",
    "write_diagram",
]
