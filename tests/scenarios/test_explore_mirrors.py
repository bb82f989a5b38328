"""Mirrored transitions: in a state that a renaming of the symmetric purchases maps onto
itself (the world's state and the checker's together), a transition that mirrors an
earlier one of that state reaches a mirror of that one's state, whose fingerprint is
already visited, so it is counted and not computed (``docs/explore.md``, *Mirrored
transitions*). The search is the one that computes every transition: the same states,
transitions, depth, terminal and judged paths, sometimes-properties and counterexample,
on the bench's worlds and with planted clouds; skipping does happen; and skipping by the
world's state alone (planted ``tests/planted/worldly_mirrors.py``) is caught."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scenarios._explore._model import ProtocolModel, Step, WorldState
from scenarios._explore._world import Budgets, CrashPoints, world_named
from tests.planted.buggy_cloud import buggy_cloud
from tests.planted.per_write_store import per_write_cloud
from tests.planted.unsuperseding_answer import unsuperseding_cloud
from tests.planted.worldly_mirrors import WorldlyMirrorsModel
from tests.scenarios.test_explore_speed import searched

_ANYWHERE = CrashPoints.ANYWHERE


class _CountingModel(ProtocolModel):
    """Counts the transitions it skipped as mirrors."""

    skipped = 0

    def successors(self, state: WorldState) -> Iterator[tuple[Step, WorldState | None]]:
        for step, child in super().successors(state):
            self.skipped += child is None
            yield step, child


def _run(
    world: str, budgets: Budgets, *, model: type[ProtocolModel] = _CountingModel, **options: Any
) -> tuple[tuple[object, ...], int]:
    explored = model(world_named(world), budgets, **options)
    return searched(explored), getattr(explored, "skipped", 0)


@pytest.mark.parametrize(
    ("world", "budgets", "options"),
    [
        ("two-purchases", Budgets(), {}),
        ("two-purchases", Budgets(loss=1), {}),
        ("two-purchases", Budgets(loss=2), {}),  # states whose world alone is symmetric
        ("two-purchases", Budgets(duplication=1), {}),
        ("two-purchases", Budgets(crashes=1, crash_points=_ANYWHERE), {}),
        ("two-purchases", Budgets(loss=1), {"cloud": buggy_cloud}),  # stops at a violation
        ("two-purchases", Budgets(), {"cloud": unsuperseding_cloud}),
        (
            "two-purchases",
            Budgets(crashes=1, crash_points=CrashPoints.INSIDE),
            {"cloud": per_write_cloud},
        ),
    ],
    ids=["none", "loss", "loss-2", "dup", "crash", "buggy", "unsuperseding", "per-write"],
)
def test_skipped_mirrors_give_the_search_of_every_transition(
    world: str, budgets: Budgets, options: dict[str, Any]
) -> None:
    skipping, skipped = _run(world, budgets, **options)
    every, none_skipped = _run(world, budgets, mirrors=False, **options)
    assert skipping == every
    assert none_skipped == 0
    assert skipped > 0  # the worlds have states their renaming maps onto themselves


def test_mirrors_of_a_world_without_symmetry_are_never_skipped() -> None:
    _, skipped = _run("two-purchases", Budgets(loss=1), symmetry=False)
    assert skipped == 0


def test_mirrors_judged_by_the_world_alone_are_caught() -> None:
    budgets = Budgets(loss=2)  # 7,611 states; 7,606 when the checker's state is left out
    every, _ = _run("two-purchases", budgets, mirrors=False)
    assert _run("two-purchases", budgets, model=WorldlyMirrorsModel)[0] != every
