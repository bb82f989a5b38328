"""Writing a scenario back to a TOML file (``tomllib`` reads TOML but cannot write it).

The writer covers what :func:`~scenarios.scenario_to_dict` produces: text, booleans,
whole numbers, finite floats, arrays of those, tables and arrays of tables. ``None``
values are left out (the knob keeps its default when the file is loaded).
:func:`~scenarios.load_scenario` reads the file back to an equal :class:`Scenario`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scenarios._model._errors import ScenarioError
from scenarios._model._scenario import Scenario, scenario_to_dict

__all__ = ["scenario_file_name", "scenario_to_toml", "write_scenario"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ScenarioError(f"cannot write {text!r} as TOML: it holds a lone surrogate")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ScenarioError(f"{where}: cannot write {value!r} to a scenario file")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v, where) for v in value if v is not None) + "]"
    raise ScenarioError(f"{where}: cannot write a {type(value).__name__} to a scenario file")


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _table(data: Mapping[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    """Append ``data``'s plain keys, then its tables, then its arrays of tables."""
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, Sequence[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif _is_table_array(value):
            arrays.append((key, value))
        else:
            where = ".".join((*path, key))
            lines.append(f"{_key(key)} = {_value(value, where)}")
    for key, table in tables:
        lines += ["", f"[{'.'.join(_key(k) for k in (*path, key))}]"]
        _table(table, (*path, key), lines)
    for key, entries in arrays:
        for entry in entries:
            lines += ["", f"[[{'.'.join(_key(k) for k in (*path, key))}]]"]
            _table(entry, (*path, key), lines)


def scenario_to_toml(scenario: Scenario, *, comment: str = "") -> str:
    """The scenario as the text of a scenario file (every knob, durations in seconds),
    optionally headed by ``comment`` lines."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    _table(scenario_to_dict(scenario), (), lines)
    return "\n".join(lines) + "\n"


def scenario_file_name(scenario: Scenario, seed: int) -> str:
    """A stable file name for ``scenario`` run with ``seed``: its name, the seed and a
    digest of its content, so the same failure always lands in the same file."""
    digest = hashlib.sha256(scenario_to_toml(scenario).encode("utf-8")).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario.name).strip(".-")[:40] or "scenario"
    return f"{name}-seed{seed}-{digest}.toml"


def write_scenario(scenario: Scenario, path: Path, *, comment: str = "") -> Path:
    """Write ``scenario`` to ``path`` (making its directory); :class:`ScenarioError` if
    that fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(scenario_to_toml(scenario, comment=comment), encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot write scenario file {path}: {exc.strerror}") from None
    return path
