"""A command that loads its scenario and applies ``--set`` itself instead of building a
:class:`~scenarios.RunSpec` (BUG: a second place where the overrides are checked, which
drifts from the first), for showing ``tests/scenarios/test_runspec.py`` finds it."""

from __future__ import annotations

from collections.abc import Sequence

from scenarios import Scenario, apply_overrides, load_scenario

__all__ = ["scenario_of"]


def scenario_of(source: str, sets: Sequence[str]) -> Scenario:
    return apply_overrides(load_scenario(source), sets)  # BUG: not RunSpec.load
