"""``bench/explore.py --split`` measures what it says: a second search over the same model,
with one kind of first-time work's caches emptied, does that kind's work again (as many
checker feeds, canonical forms or machine steps as the first search) and no other kind's,
and renumbers the checker's states in the same order."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scenarios._explore._model import ProtocolModel
from scenarios._explore._search import search
from scenarios._explore._world import Budgets, world_named
from scenarios._trace._checks import MonitorState, TraceChecker
from tests.planted.warm_checker_split import warm_checker_forget

_BENCH = Path(__file__).resolve().parents[2] / "bench" / "explore.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_explore", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _CountingModel(ProtocolModel):
    """Counts each kind of first-time work: checker feeds, canonical forms, machine steps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.work = {"checker": 0, "canonical forms": 0, "machine moves": 0}
        super().__init__(*args, **kwargs)

    def _fed(self, parent: TraceChecker, before: MonitorState, monitor: int, number: int) -> int:
        self.work["checker"] += 1
        return super()._fed(parent, before, monitor, number)

    def _least(self, state: Any) -> int:
        self.work["canonical forms"] += 1
        return super()._least(state)

    def _run(self, *args: Any) -> Any:
        self.work["machine moves"] += 1
        return super()._run(*args)


def _second_work(
    forget: Callable[[Any, str, tuple[int, int]], None], kind: str
) -> tuple[dict[str, int], dict[str, int], bool]:
    """The first search's work, the second's after ``forget`` of ``kind``, and whether the
    second numbered the same checker states in the same order."""
    model = _CountingModel(world_named("two-purchases"), Budgets(loss=1))
    built = (len(model._monitors), len(model._event_numbers))
    first = search(model)
    states = list(model._monitor_states)
    work = dict(model.work)
    forget(model, kind, built)
    model.work = dict.fromkeys(work, 0)
    second = search(model)
    assert (second.progress.states, second.progress.transitions) == (
        first.progress.states,
        first.progress.transitions,
    )
    return work, model.work, model._monitor_states == states


@pytest.mark.parametrize("kind", ["checker", "canonical forms", "machine moves"])
def test_a_kind_emptied_is_done_again_and_no_other(kind: str) -> None:
    first, second, renumbered = _second_work(_bench()._forget, kind)
    assert first[kind] > 0
    assert second == {k: first[k] if k == kind else 0 for k in first}
    assert renumbered


def test_every_cache_warm_does_no_first_time_work() -> None:
    model = _CountingModel(world_named("two-purchases"), Budgets(loss=1))
    search(model)
    model.work = dict.fromkeys(model.work, 0)
    search(model)
    assert set(model.work.values()) == {0}


def test_a_split_leaving_the_checkers_moves_warm_is_caught() -> None:
    forget = _bench()._forget

    def planted(model: Any, kind: str, built: tuple[int, int]) -> None:
        warm_checker_forget(forget, model, kind, built)

    first, second, _ = _second_work(planted, "checker")
    assert second["checker"] != first["checker"]
