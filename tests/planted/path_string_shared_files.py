"""Planted bug for tests/scenarios/test_field_inputs_files.py: the check of a field
process's files comparing the paths as written, as a quick ``if trace == db`` would; a
``./``, a symbolic link or a hard link to the store, the token file or the sales file
passes it, and the trace then moves or overwrites that file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scenarios import ScenarioError


def refuse_same_strings(
    outputs: Sequence[tuple[str, Path | None]], inputs: Sequence[tuple[str, Path | None]] = ()
) -> None:
    named = [(name, path) for name, path in (*outputs, *inputs) if path is not None]
    for index, (name, path) in enumerate(named):
        for other, other_path in named[index + 1 :]:
            if str(path) == str(other_path):  # the bug: the same file named two ways passes
                raise ScenarioError(f"{name} {path} and {other} {other_path} are the same file")
