"""The refresh's batched grouping helpers (``protocol/_reco/_engine.py``) against plain
loops on small random inputs: ``_distinct`` (``np.unique`` with the inverse, by one sort of
each value packed with its place) and ``_places`` (each entry's place in its group). The
checks catch the planted ``tests/planted/narrow_distinct.py`` versions of both."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol._reco._engine import _distinct, _places
from tests.planted.narrow_distinct import global_places, narrow_distinct

_Ints = np.ndarray


def _check_distinct(distinct: Callable[[_Ints], tuple[_Ints, _Ints]], values: list[int]) -> None:
    found, inverse = distinct(np.array(values, dtype=np.int64))
    ordered = sorted(set(values))
    place = {v: k for k, v in enumerate(ordered)}
    assert found.tolist() == ordered
    assert inverse.tolist() == [place[v] for v in values]


def _check_places(places: Callable[[_Ints, int], _Ints], owners: list[int]) -> None:
    owners = sorted(owners)
    seen: dict[int, int] = {}
    expected = []
    for owner in owners:
        expected.append(seen.get(owner, 0))
        seen[owner] = seen.get(owner, 0) + 1
    size = max(owners, default=-1) + 1
    assert places(np.array(owners, dtype=np.int64), size).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 40) - 1) | st.integers(0, 5), max_size=300))
def test_distinct_is_the_plain_loop(values: list[int]) -> None:
    _check_distinct(_distinct, values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), max_size=200))
def test_places_are_the_plain_loop(owners: list[int]) -> None:
    _check_places(_places, owners)


def test_the_checks_catch_a_narrow_place_field_and_places_not_per_group() -> None:
    values = [9, 3, 9, 1, 3, 7, 7, 0, 2]
    _check_distinct(_distinct, values)
    with pytest.raises(AssertionError):
        _check_distinct(narrow_distinct, values)
    owners = [0, 0, 1, 1, 1, 3]
    _check_places(_places, owners)
    with pytest.raises(AssertionError):
        _check_places(global_places, owners)
