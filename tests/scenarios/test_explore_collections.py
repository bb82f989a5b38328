"""``bench/explore.py --collections`` measures what it says: explore() calls alternated
between the search's young-generation threshold and the earlier 100,000, the collections
inside each call counted, the threshold and the collector's callbacks put back after; and
it refuses a pair of searches that found different states."""

from __future__ import annotations

import gc
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

from scenarios._explore import _search
from scenarios._explore._search import GC_THRESHOLD

_BENCH = Path(__file__).resolve().parents[2] / "bench" / "explore.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_explore_collections", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_collections_bench_alternates_thresholds_and_puts_them_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = _bench()
    callbacks = list(gc.callbacks)
    seen: list[int] = []
    explore = bench.explore

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(_search.GC_THRESHOLD)
        return explore(*args, **kwargs)

    monkeypatch.setattr(bench, "explore", watched)
    lines = bench.collections(2, {"loss": 1})
    assert seen == [100_000, GC_THRESHOLD, GC_THRESHOLD, 100_000] * 2  # on, then off
    assert _search.GC_THRESHOLD == GC_THRESHOLD == 1_000_000
    assert gc.callbacks == callbacks
    assert len(lines) == 3
    assert lines[1].startswith("symmetry on    1,680 states:")
    assert lines[2].startswith("symmetry off  13,658 states:")
    assert all("ratio" in line and "collections" in line for line in lines[1:])


def test_the_collections_bench_refuses_searches_that_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = _bench()
    explore = bench.explore

    def threshold_dependent(*args: Any, **kwargs: Any) -> Any:
        # a search the collector's threshold changes (planted): one state fewer at 100,000
        result = explore(*args, **kwargs)
        if _search.GC_THRESHOLD == 100_000:
            fewer = attrs.evolve(result.progress, states=result.progress.states - 1)
            return attrs.evolve(result, progress=fewer)
        return result

    monkeypatch.setattr(bench, "explore", threshold_dependent)
    with pytest.raises(AssertionError, match="threshold changed the search"):
        bench.collections(1, {})
    assert _search.GC_THRESHOLD == GC_THRESHOLD
