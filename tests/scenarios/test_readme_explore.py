"""README, *Exhaustive exploration*: the table of planted bugs gives the world and faults
searched and the length of each shortest counterexample (11, 11, 16, 8 steps).
``test_explore.py`` finds each bug with a path of at most 30 steps; this test runs each
search the table describes and holds it to what the table prints, read from README.md
itself (a row reworded past reading fails naming the row it looked for)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from scenarios import explore
from tests.planted.buggy_cloud import buggy_cloud
from tests.planted.dropped_dual_send import dropped_dual_send_cloud
from tests.planted.per_write_store import per_write_cloud
from tests.planted.unsuperseding_answer import unsuperseding_cloud

README = Path(__file__).parents[2] / "README.md"
_FORMAT = "| what it does (`NAME`) | `world`, faults | N steps | `invariant` |"

# The README's row -> the search it describes: the cloud, the table's "world, faults" cell
# as printed, and explore's fault budgets that cell means.
SEARCHES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "buggy_cloud": (buggy_cloud, "`pull`", {}),
    "unsuperseding_answer": (unsuperseding_cloud, "`pull`", {}),
    "dropped_dual_send": (dropped_dual_send_cloud, "`wrong-id`", {}),
    "per_write_store": (
        per_write_cloud,
        "`push`, 1 crash inside",
        {"crashes": 1, "crash_points": "inside"},
    ),
}
_ROW = re.compile(r"^\| [^|]*\(`(\w+)`\) \| ([^|]+?) \| (\d+) steps \| `([\w-]+)` \|$", re.M)


def _table() -> dict[str, tuple[str, int, str]]:
    """The table's rows: planted bug -> (world and faults, steps, invariant)."""
    rows = _ROW.findall(README.read_text(encoding="utf-8"))
    return {name: (searched, int(steps), invariant) for name, searched, steps, invariant in rows}


def test_the_table_lists_the_planted_bugs_this_test_runs() -> None:
    assert sorted(_table()) == sorted(SEARCHES), (
        f"README.md's table of planted bugs (rows read as {_FORMAT}) should list exactly "
        f"{sorted(SEARCHES)}: a new row needs its search in SEARCHES here"
    )


@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_each_counterexample_has_the_length_the_readme_gives(name: str) -> None:
    row = _table().get(name)
    if row is None:
        pytest.fail(f"README.md's table of planted bugs has no row {_FORMAT} for `{name}`")
    searched, steps, invariant = row
    cloud, described, faults = SEARCHES[name]
    assert searched == described, f"the README searches {searched} for `{name}`, not {described}"
    result = explore(described.split("`")[1], cloud=cloud, **faults)
    assert len(result.path) == steps, f"`{name}`: {len(result.path)} steps, the README {steps}"
    assert any(v.startswith(invariant) for v in result.violations), result.violations


def _readme_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, old: str, new: str) -> None:
    """This module reads a copy of README.md with *old* made *new*."""
    text = README.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "README.md").write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "README", tmp_path / "README.md")


@pytest.mark.parametrize(
    ("old", "new", "told"),
    [
        ("(`per_write_store`) |", "per_write_store |", "has no row .* for `per_write_store`"),
        ("| 8 steps | `no-delivery", "| 9 steps | `no-delivery", "8 steps, the README 9"),
        ("| `push`, 1 crash inside |", "| `push`, 1 crash anywhere |", "1 crash anywhere"),
    ],
    ids=["reworded", "wrong-length", "wrong-faults"],
)
def test_a_table_the_product_does_not_match_fails_saying_which_row(
    old: str, new: str, told: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _readme_with(monkeypatch, tmp_path, old, new)
    with pytest.raises((AssertionError, pytest.fail.Exception), match=told):
        test_each_counterexample_has_the_length_the_readme_gives("per_write_store")
