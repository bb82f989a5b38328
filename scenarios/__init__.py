"""Scenarios of assocsim: load them (TOML, by name or path), run them, report.

A :class:`Scenario` says how many shops, phones and purchases a world has and how its
people behave; :func:`run_scenario` runs it in virtual time with a seed and returns the
:class:`Report`. :func:`apply_overrides` changes a scenario's knobs (``KEY=VALUE``);
a :class:`RunSpec` is one run's scenario as given, its overrides and its seed;
:func:`run_sweep` runs a scenario over a grid of knob values and seeds, on every core or any
executor. The ``assocsim`` command line lives here too.

The names are imported when first used (PEP 562), as :mod:`scenarios.testing`'s are: loading
the pytest plugin, a module of this package, imports neither the simulator nor its
dependencies (``tests/scenarios/test_testing_plugin.py`` checks the import set).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES: dict[str, tuple[str, str]] = {
    "EXPLORE_WORLDS": ("._explore._world", "WORLDS"),
    "INVARIANTS": ("._trace._checks", "INVARIANTS"),
    "Basket": ("._model._datasets", "Basket"),
    "Budgets": ("._explore._world", "Budgets"),
    "CheckResult": ("._trace._checks", "CheckResult"),
    "CloudFactory": ("._sim._runner", "CloudFactory"),
    "CloudSettings": ("._model._scenario", "CloudSettings"),
    "CrashPoints": ("._explore._world", "CrashPoints"),
    "Dataset": ("._model._datasets", "Dataset"),
    "DatasetError": ("._model._datasets", "DatasetError"),
    "DeterminismResult": ("._trace._replay", "DeterminismResult"),
    "Diagram": ("._trace._diagram", "Diagram"),
    "DiagramOptions": ("._trace._diagram", "DiagramOptions"),
    "Difference": ("._trace._replay", "Difference"),
    "Evaluation": ("._reco._eval", "Evaluation"),
    "ExplorationFailed": ("._explore._api", "ExplorationFailed"),
    "ExploreError": ("._explore._world", "ExploreError"),
    "ExploreResult": ("._explore._api", "ExploreResult"),
    "ExploreWorld": ("._explore._world", "ExploreWorld"),
    "FaultBudgets": ("._explore._api", "FaultBudgets"),
    "MethodResult": ("._reco._eval", "MethodResult"),
    "PhonePlan": ("._model._workload", "PhonePlan"),
    "PhoneRole": ("._explore._world", "PhoneRole"),
    "PlannedPurchase": ("._model._workload", "PlannedPurchase"),
    "PurchaseRole": ("._explore._world", "PurchaseRole"),
    "ReplayResult": ("._trace._replay", "ReplayResult"),
    "Report": ("._sim._report", "Report"),
    "ReportBuilder": ("._sim._report", "ReportBuilder"),
    "RunResult": ("._sim._runner", "RunResult"),
    "RunSpec": ("._model._runspec", "RunSpec"),
    "Scenario": ("._model._scenario", "Scenario"),
    "ScenarioError": ("._model._errors", "ScenarioError"),
    "ShopPlan": ("._model._workload", "ShopPlan"),
    "SourceSettings": ("._model._scenario", "SourceSettings"),
    "SweepBar": ("._sim._progress", "SweepBar"),
    "SweepLines": ("._sim._progress", "SweepLines"),
    "SweepPoint": ("._sweep._run", "SweepPoint"),
    "SweepProgress": ("._sim._progress", "SweepProgress"),
    "SweepResult": ("._sweep._run", "SweepResult"),
    "SweepRow": ("._sweep._run", "SweepRow"),
    "SweepTask": ("._sweep._run", "SweepTask"),
    "TraceChecker": ("._trace._checks", "TraceChecker"),
    "TraceError": ("._trace._reader", "TraceError"),
    "Violation": ("._trace._checks", "Violation"),
    "Workload": ("._model._workload", "Workload"),
    "apply_overrides": ("._model._overrides", "apply_overrides"),
    "build_diagram": ("._trace._diagram", "build_diagram"),
    "build_world": ("._sim._runner", "build_world"),
    "builtin_scenarios": ("._model._scenario", "builtin_scenarios"),
    "check_determinism": ("._trace._replay", "check_determinism"),
    "check_events": ("._trace._checks", "check_events"),
    "check_trace": ("._trace._checks", "check_trace"),
    "check_trace_file": ("._trace._checks", "check_trace_file"),
    "evaluate": ("._reco._eval", "evaluate"),
    "explore": ("._explore._api", "explore"),
    "first_difference": ("._trace._replay", "first_difference"),
    "format_duration": ("._model._durations", "format_duration"),
    "generate_workload": ("._model._workload", "generate_workload"),
    "load_dataset": ("._model._datasets", "load_dataset"),
    "load_scenario": ("._model._scenario", "load_scenario"),
    "merge_traces": ("._trace._reader", "merge_traces"),
    "override_keys": ("._model._overrides", "override_keys"),
    "parse_duration": ("._model._durations", "parse_duration"),
    "parse_override": ("._model._overrides", "parse_override"),
    "parse_value": ("._model._overrides", "parse_value"),
    "parse_vary": ("._sweep._run", "parse_vary"),
    "phone_id_of": ("._model._workload", "phone_id_of"),
    "plan_sweep": ("._sweep._run", "plan_sweep"),
    "replay_counterexample": ("._explore._api", "replay_counterexample"),
    "replay_trace": ("._trace._replay", "replay_trace"),
    "report_from_records": ("._field._tcprun", "report_from_records"),
    "run_point": ("._sweep._run", "run_point"),
    "run_scenario": ("._sim._runner", "run_scenario"),
    "run_sweep": ("._sweep._run", "run_sweep"),
    "scenario_from_dict": ("._model._scenario", "scenario_from_dict"),
    "scenario_from_header": ("._trace._replay", "scenario_from_header"),
    "scenario_to_dict": ("._model._scenario", "scenario_to_dict"),
    "simulate": ("._sim._runner", "simulate"),
    "write_diagram": ("._trace._diagram", "write_diagram"),
}
"""The module and name each public name is imported from when first used."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = home
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value  # once: later lookups find it without this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
