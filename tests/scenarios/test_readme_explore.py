"""README, *Exhaustive exploration*: the table of planted bugs gives the length of each
shortest counterexample (11, 11, 16, 8 steps). ``test_explore.py`` finds each bug with a
path of at most 30 steps; this test holds the table to the lengths it prints, read from
README.md itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scenarios import explore
from tests.planted.buggy_cloud import buggy_cloud
from tests.planted.dropped_dual_send import dropped_dual_send_cloud
from tests.planted.per_write_store import per_write_cloud
from tests.planted.unsuperseding_answer import unsuperseding_cloud

README = Path(__file__).parents[2] / "README.md"

# The README's row -> the search it describes (world and faults as its columns say).
SEARCHES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "buggy_cloud": (buggy_cloud, "pull", {}),
    "unsuperseding_answer": (unsuperseding_cloud, "pull", {}),
    "dropped_dual_send": (dropped_dual_send_cloud, "wrong-id", {}),
    "per_write_store": (per_write_cloud, "push", {"crashes": 1, "crash_points": "inside"}),
}
_ROW = re.compile(r"^\| [^|]*\(`(\w+)`\) \| `([\w-]+)`[^|]*\| (\d+) steps \| `([\w-]+)` \|$", re.M)


def _rows() -> list[tuple[str, str, int, str]]:
    rows = _ROW.findall(README.read_text(encoding="utf-8"))
    return [(name, world, int(steps), invariant) for name, world, steps, invariant in rows]


def test_the_table_lists_every_planted_bug_this_test_knows() -> None:
    assert sorted(name for name, *_ in _rows()) == sorted(SEARCHES)


@pytest.mark.parametrize(("name", "world", "steps", "invariant"), _rows(), ids=str)
def test_each_counterexample_has_the_length_the_readme_gives(
    name: str, world: str, steps: int, invariant: str
) -> None:
    cloud, searched, faults = SEARCHES[name]
    assert world == searched
    result = explore(world, cloud=cloud, **faults)
    assert len(result.path) == steps
    assert any(v.startswith(invariant) for v in result.violations), result.violations
