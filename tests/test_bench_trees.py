"""Every benchmark measures the tree it is in, never the installed assocsim.

A before/after pair runs ``bench/X.py`` in a ``git archive`` copy of the older commit. The
venv's editable install points at the checkout, and a script's ``sys.path[0]`` is its own
directory (``bench/``), so without help ``import protocol`` finds the checkout: the "before"
would measure the "after". Each bench therefore puts its repository first on ``sys.path``
before importing assocsim, and a child started with ``-m scenarios`` gets it in
``PYTHONPATH``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.planted.uprooted_bench import BENCH_TEXT, CHILD_TEXT

BENCH = Path(__file__).resolve().parents[1] / "bench"
_OURS = ("protocol", "actors", "scenarios")


def _imports_ours(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] in _OURS
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] in _OURS for alias in node.names)
    return False


def _puts_its_tree_first(node: ast.stmt) -> bool:
    text = ast.unparse(node)
    return text.startswith("sys.path.insert(0,") and "parent.parent" in text


def faults(text: str) -> list[str]:
    """Why a bench's text would import the installed assocsim (none: it measures itself)."""
    found: list[str] = []
    for node in ast.parse(text).body:
        if _puts_its_tree_first(node):
            break
        if _imports_ours(node):
            found.append(f"line {node.lineno}: imports assocsim before its own tree is first")
            break
    if '"-m", "scenarios"' in text and "PYTHONPATH" not in text:
        found.append("starts `-m scenarios` children without its tree in PYTHONPATH")
    return found


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_each_bench_imports_its_own_tree(path: Path) -> None:
    assert faults(path.read_text()) == []


def test_an_uprooted_bench_is_flagged() -> None:
    assert faults(BENCH_TEXT) == ["line 6: imports assocsim before its own tree is first"]
    assert faults(CHILD_TEXT) == ["starts `-m scenarios` children without its tree in PYTHONPATH"]
