"""Overrides: change a scenario's knobs from the command line with ``KEY=VALUE``.

``KEY`` is a knob's dotted path as in a scenario file (``wrong_id_rate``,
``cloud.push_timeout``). ``VALUE`` is read as a TOML value (``0.02``, ``true``, ``[1, 3]``,
``"10m"``); text that is not valid TOML is taken as plain text, so ``10m`` and
``dual-send`` need no quotes. The result is built like a scenario file, through
:func:`~scenarios.scenario_to_dict` and :func:`~scenarios.scenario_from_dict`, so every rule
of scenario files applies, and a bad override is refused with one line naming it.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._errors import ScenarioError
from ._scenario import Scenario, scenario_from_dict, scenario_to_dict

__all__ = ["apply_overrides", "override_keys", "parse_override", "parse_value", "split_assignment"]


def parse_value(text: str) -> Any:
    """``text`` as a TOML value, or ``text`` itself when it is not one."""
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    if set(parsed) != {"v"}:  # e.g. "1\nx = 2": more than one value, so not a value
        return text
    return parsed["v"]


def split_assignment(
    assignment: str, *, option: str = "--set", example: str = "wrong_id_rate=0.05"
) -> tuple[str, str]:
    """``(key, text)`` of ``"KEY=VALUE"``, both stripped: the one check of a ``--set``'s
    form (a scenario's, an exploration world's), one line naming it if it is not one."""
    key, equals, text = assignment.partition("=")
    key = key.strip()
    if not equals or not key:
        raise ScenarioError(f"{option} {assignment}: expected KEY=VALUE, e.g. {example}")
    return key, text.strip()


def parse_override(assignment: str, *, option: str = "--set") -> tuple[str, Any]:
    """``(key, value)`` of ``"KEY=VALUE"``; the value parsed as :func:`parse_value` says.

    Only the form is checked here; :func:`apply_overrides` checks the key and the value.
    """
    key, text = split_assignment(assignment, option=option)
    return key, parse_value(text)


def override_keys(scenario: Scenario | None = None) -> list[str]:
    """Every knob's dotted key (``seed``, ..., ``cloud.push_timeout``, ...)."""
    return list(_leaves(scenario_to_dict(scenario if scenario is not None else Scenario())))


def _leaves(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for name, value in data.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def _unknown(key: str, data: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(_leaves(data)), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key {key}{hint}"


def _assign(data: dict[str, Any], key: str, value: Any) -> str | None:
    """Set ``key`` (dotted) in ``data``; the problem if ``key`` names no knob, else None."""
    *tables, leaf = key.split(".")
    target: Any = data
    for table in tables:
        target = target.get(table) if isinstance(target, dict) else None
    if not isinstance(target, dict) or leaf not in target:
        return _unknown(key, data)
    if isinstance(target[leaf], dict):
        first = next(iter(target[leaf]), "KEY")
        return f"{key} is a table: set its keys, e.g. {key}.{first}=..."
    target[leaf] = value
    return None


def apply_overrides(
    scenario: Scenario, assignments: Sequence[str], *, option: str = "--set"
) -> Scenario:
    """``scenario`` with each ``KEY=VALUE`` of ``assignments`` applied, in order.

    Raises :class:`ScenarioError` with a one-line message naming the assignment and the key
    (``--set cloud.push_timeot=10m: unknown key cloud.push_timeot ...``). ``option`` is the
    command-line option the assignments came from, for the message.
    """
    if not assignments:
        return scenario
    data = scenario_to_dict(scenario)
    for assignment in assignments:
        key, value = parse_override(assignment, option=option)
        problem = _assign(data, key, value)
        if problem is not None:
            raise ScenarioError(f"{option} {assignment}: {problem}")
    try:
        return scenario_from_dict(data, where=" ".join(f"{option} {a}" for a in assignments))
    except ScenarioError:
        if len(assignments) == 1:
            raise
        for assignment in assignments:  # name the first one refused on its own, if any
            alone = scenario_to_dict(scenario)
            _assign(alone, *parse_override(assignment, option=option))
            scenario_from_dict(alone, where=f"{option} {assignment}")
        raise  # refused only together: a rule between knobs (e.g. a range low > high)
