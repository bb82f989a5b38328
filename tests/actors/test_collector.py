"""The collector's full passes made rare during an inline world's run (actors._collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from actors import TraceEvent
from actors._collector import FULL_PASS_EVERY, rare_full_collections
from scenarios import build_world, generate_workload, load_scenario, run_scenario


@pytest.fixture
def default_thresholds() -> Iterator[tuple[int, int, int]]:
    found = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*found)


def test_an_inline_run_collects_fully_rarely_and_restores_the_thresholds(
    default_thresholds: tuple[int, int, int],
) -> None:
    seen: set[tuple[int, ...]] = set()

    def watch(event: TraceEvent) -> None:
        if event.t > 0:  # the run proper (the start effects come before it)
            seen.add(gc.get_threshold())

    run_scenario(attrs.evolve(load_scenario("quickstart"), purchases=20), observers=[watch])
    assert seen == {(700, 10, FULL_PASS_EVERY)}
    assert gc.get_threshold() == default_thresholds


def test_the_thresholds_come_back_when_the_block_fails(
    default_thresholds: tuple[int, int, int],
) -> None:
    with pytest.raises(RuntimeError), rare_full_collections():
        assert gc.get_threshold() == (700, 10, FULL_PASS_EVERY)
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == default_thresholds


def test_a_higher_threshold_is_kept_and_a_change_within_is_not_undone(
    default_thresholds: tuple[int, int, int],
) -> None:
    gc.set_threshold(700, 10, 5000)
    with rare_full_collections():
        assert gc.get_threshold() == (700, 10, 5000)
    with rare_full_collections():
        gc.set_threshold(100, 10, 10)  # the caller's own change, made within
    assert gc.get_threshold() == (100, 10, 10)


def test_the_workload_and_the_world_are_built_under_the_run_s_policy(
    default_thresholds: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generating the workload and building the world grow the heap as the run does:
    an inline run's rare full passes cover them too (a tasks run keeps the defaults)."""
    seen: list[tuple[str, tuple[int, int, int]]] = []

    def generating(*args: Any, **kwargs: Any) -> Any:
        seen.append(("workload", gc.get_threshold()))
        return generate_workload(*args, **kwargs)

    def building(*args: Any, **kwargs: Any) -> Any:
        seen.append(("world", gc.get_threshold()))
        return build_world(*args, **kwargs)

    monkeypatch.setattr("scenarios._sim._runner.generate_workload", generating)
    monkeypatch.setattr("scenarios._sim._runner.build_world", building)
    scenario = attrs.evolve(load_scenario("quickstart"), purchases=20)
    run_scenario(scenario)
    rare = (700, 10, FULL_PASS_EVERY)
    assert seen == [("workload", rare), ("world", rare)]
    seen.clear()
    run_scenario(scenario, scheduling="tasks")
    assert seen == [("workload", default_thresholds), ("world", default_thresholds)]
    assert gc.get_threshold() == default_thresholds


class _Node:
    """A tracked object that can hold a cycle."""

    other: _Node | None = None


def test_what_survives_a_full_pass_is_frozen_until_the_block_ends(
    default_thresholds: tuple[int, int, int],
) -> None:
    """The next full pass visits only what was made since the last one; a cycle made
    young is still collected young; nothing stays frozen after the block."""
    assert gc.get_freeze_count() == 0
    with rare_full_collections():
        kept = [_Node() for _ in range(100)]
        assert gc.get_freeze_count() == 0
        gc.collect()
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect(0) >= 2  # a young cycle: freed as before
        more = [_Node() for _ in range(10)]
        gc.collect()
        assert gc.get_freeze_count() >= frozen + len(more)  # the next pass's survivors
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == default_thresholds


def test_what_survives_a_middle_collection_is_frozen_too(
    default_thresholds: tuple[int, int, int],
) -> None:
    """A full pass then visits only what was made since the last middle collection, not
    everything made since the last full one (at 1M purchases, that was 11 % of the CPU); a
    cycle made young is still collected by the young collections."""
    assert gc.get_freeze_count() == 0
    with rare_full_collections():
        kept = [_Node() for _ in range(100)]
        gc.collect(1)
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect(0) >= 2  # a young cycle: freed as before
        assert gc.collect(2) == 0  # nothing left for a full pass to walk or free
        assert gc.get_freeze_count() >= frozen
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == default_thresholds


def test_nested_blocks_and_a_caller_s_own_freeze_are_left_alone(
    default_thresholds: tuple[int, int, int],
) -> None:
    with rare_full_collections():
        with rare_full_collections():
            gc.collect()
        assert gc.get_freeze_count() > 0  # the inner block did not unfreeze the outer's
    assert gc.get_freeze_count() == 0
    gc.freeze()  # the caller's own (as the field cloud's server does at its start)
    try:
        count = gc.get_freeze_count()
        with rare_full_collections():
            _ = [_Node() for _ in range(100)]
            gc.collect()
            assert gc.get_freeze_count() == count  # nothing more frozen
        assert gc.get_freeze_count() == count  # and nothing unfrozen
    finally:
        gc.unfreeze()


def test_a_nested_block_does_not_count_the_frozen_objects(
    default_thresholds: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """gc.get_freeze_count walks every frozen object: an inline World.run inside
    run_scenario's block (the workload and the world frozen by then) walked them all, the
    2,000-purchase run's largest source of last-level cache misses over SimPy's peer
    (cachegrind). The outer block's callback tells a nested block, without the walk."""
    counted: list[int] = []
    count = gc.get_freeze_count

    def counting() -> int:
        counted.append(1)
        return count()

    monkeypatch.setattr(gc, "get_freeze_count", counting)
    with rare_full_collections():
        assert len(counted) == 1  # the outer block: no callback of ours yet, so it asks
        gc.collect(1)
        with rare_full_collections():
            gc.collect(1)
        assert len(counted) == 1  # the nested one did not
    assert gc.get_threshold() == default_thresholds


def test_what_survives_a_young_collection_is_frozen_too(
    default_thresholds: tuple[int, int, int],
) -> None:
    """A middle collection then walks only what was made since the last young one, not
    again what the young ones walked (each object a run keeps visited once, not twice);
    a cycle that is garbage by the next young collection is still freed by it."""
    with rare_full_collections():
        gc.collect(0)
        before = gc.get_freeze_count()
        kept = [_Node() for _ in range(100)]
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect(0) >= 2  # the young cycle: freed
        assert gc.get_freeze_count() >= before + len(kept)  # the young survivors: frozen
        assert gc.collect(1) == 0  # nothing left for a middle collection to walk or free
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == default_thresholds
