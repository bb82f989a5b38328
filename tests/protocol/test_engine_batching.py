"""The refresh's batched grouping helpers (``protocol/_reco/_engine.py``) against plain
loops on small random inputs: ``_distinct`` (``np.unique`` with the inverse, by one sort of
each value packed with its place), ``_places`` (each entry's place in its group) and
``_by_keys`` (``np.lexsort`` of three keys, by one packed key when it fits, sorted with
its place packed in when that fits too) and ``_contenders`` (the rows a group's best can
be among, cut before that sort). The checks catch the planted
``tests/planted/narrow_distinct.py`` versions of the first two,
``tests/planted/overflowing_keys.py`` (a packed key wider than 63 bits),
``tests/planted/narrow_packed_sort.py`` (a place field one bit short) and
``tests/planted/short_contenders.py`` (a group's floor one place too high). Also the SKUs'
ranks merged at each refresh against a plain sort, catching the planted
``tests/planted/shifted_sku_ranks.py``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, PairingEngine
from protocol._reco._answer import BLOCK
from protocol._reco._engine import _by_keys, _contenders, _distinct, _lookup_order, _places
from tests.planted.narrow_distinct import global_places, narrow_distinct
from tests.planted.narrow_lookup_order import narrow_lookup_order
from tests.planted.narrow_packed_sort import narrow_packed_by_keys
from tests.planted.numpy_category_order import NumpyCategoryOrderEngine
from tests.planted.overflowing_keys import overflowing_by_keys
from tests.planted.shifted_sku_ranks import ShiftedSkuRanksEngine
from tests.planted.short_contenders import short_contenders
from tests.planted.strict_contenders import strict_contenders
from tests.planted.unchecked_packed_sort import unchecked_by_keys

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


def _check_by_keys(
    by_keys: Callable[[_Ints, _Ints, _Ints], _Ints], rows: list[tuple[int, float, int]]
) -> None:
    """*by_keys* orders distinct (first, second, third) rows as np.lexsort does."""
    first, second, third = (np.array(column) for column in zip(*rows, strict=True))
    first, third = first.astype(np.int64), third.astype(np.int64)
    expected = np.lexsort((third, second.astype(np.float64), first)).tolist()
    assert by_keys(first, second.astype(np.float64), third).tolist() == expected


_WIDE = st.integers(0, (1 << 40) - 1) | st.integers(0, 3)  # wide: no single key fits
# the callers' second keys are negated totals: infinite or NaN when a total is
_SECONDS = [-1.5, -0.0, 0.0, 0.25, 2.0, math.inf, -math.inf, math.nan]


def _distinct_row(row: tuple[int, float, int]) -> tuple[int, str, int]:
    """A row as the callers' keys tell rows apart: -0.0 as 0.0, every NaN alike."""
    return row[0], repr(row[1] + 0.0), row[2]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(_WIDE, st.sampled_from(_SECONDS), _WIDE),
        min_size=1,
        max_size=60,
        unique_by=_distinct_row,  # distinct, as the callers'
    )
)
def test_by_keys_is_lexsort_however_wide_the_keys(rows: list[tuple[int, float, int]]) -> None:
    _check_by_keys(_by_keys, rows)


def test_the_check_catches_a_packed_key_that_overflows() -> None:
    narrow = [(3, 0.5, 7), (1, 0.5, 9), (1, -2.0, 2), (0, 0.5, 1)]
    wide = [(1 << 40, 0.5, 1 << 21), (1, 0.5, 5), (0, -1.0, (1 << 21) + 3)]
    _check_by_keys(_by_keys, narrow)
    _check_by_keys(_by_keys, wide)
    _check_by_keys(overflowing_by_keys, narrow)  # the packing itself is right...
    with pytest.raises(AssertionError):  # ...but a key past 63 bits wraps
        _check_by_keys(overflowing_by_keys, wide)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(_SECONDS), st.integers(0, 40)),
        min_size=1,
        max_size=120,
        unique_by=_distinct_row,
    )
)
def test_by_keys_is_lexsort_when_the_keys_and_places_fit(
    rows: list[tuple[int, float, int]],
) -> None:
    """Narrow keys: the path that sorts each key packed with its place."""
    _check_by_keys(_by_keys, rows)


@st.composite
def _keys_that_fit_only_without_their_places(draw: st.DrawFn) -> list[tuple[int, float, int]]:
    """Rows whose packed key fits 63 bits but not with its place shifted in: the band
    where _by_keys must argsort instead of packing (the other tests' keys are narrower
    or wider)."""
    size = draw(st.integers(2, 60))
    thirds = draw(st.lists(st.integers(0, 40), min_size=size, max_size=size))
    shift_a = max(thirds).bit_length() + size.bit_length()
    room = 63 - shift_a  # the first key's bits that fit alone
    bits = draw(st.integers(room - size.bit_length() + 1, room))
    firsts = draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=size, max_size=size))
    firsts[0] = (1 << (bits - 1)) | firsts[0]  # the widest has exactly *bits* bits
    seconds = draw(st.lists(st.sampled_from(_SECONDS), min_size=size, max_size=size))
    rows = list(zip(firsts, seconds, thirds, strict=True))
    unique = {_distinct_row(row): row for row in rows}
    return list(unique.values())


@settings(max_examples=200, deadline=None)
@given(_keys_that_fit_only_without_their_places())
def test_by_keys_is_lexsort_when_the_keys_fit_but_not_with_their_places(
    rows: list[tuple[int, float, int]],
) -> None:
    _check_by_keys(_by_keys, rows)


def test_the_check_catches_keys_packed_with_their_places_past_63_bits() -> None:
    # 60 rows: 6 bits of third, 6 of place each way; first keys of 50 bits fit alone
    rows = [((k * 0x9E3779B97F4A7) % (1 << 50), (0.5, -1.0)[k % 2], k % 40) for k in range(60)]
    _check_by_keys(_by_keys, rows)
    with pytest.raises(AssertionError):
        _check_by_keys(unchecked_by_keys, rows)


def test_the_check_catches_a_place_field_one_bit_short() -> None:
    rows = [(k % 3, (0.5, -1.0, 2.0)[k % 3], k) for k in range(9)]  # 9 places: 4 bits
    _check_by_keys(_by_keys, rows)
    with pytest.raises(AssertionError):
        _check_by_keys(narrow_packed_by_keys, rows)


_LookupOrder = Callable[[_Ints, list[_Ints], int], _Ints]


def _check_lookup_order(
    lookup_order: _LookupOrder, entries: list[tuple[int, int, int]], width: int
) -> None:
    """*lookup_order* orders (phone, block, number) entries, given block by block, as
    np.lexsort orders the phone and the lookup key (``block * BLOCK + number``)."""
    entries = sorted(entries, key=lambda entry: entry[1])  # block by block, as given
    owners = np.array([o for o, _, _ in entries], dtype=np.int64)
    blocks = [np.array([n for _, b, n in entries if b == k], dtype=np.int64) for k in range(4)]
    keys = np.array([b * BLOCK + n for _, b, n in entries], dtype=np.int64)
    expected = np.lexsort((keys, owners)).tolist()
    assert lookup_order(owners, blocks, width).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda width: st.tuples(
            st.just(width),
            st.lists(
                st.tuples(st.integers(0, 6), st.integers(0, 3), st.integers(0, (1 << width) - 1)),
                max_size=80,
                unique=True,  # a phone's keys are distinct
            ),
        )
    )
)
def test_lookup_order_is_lexsort_of_phone_and_key(
    drawn: tuple[int, list[tuple[int, int, int]]],
) -> None:
    width, entries = drawn
    _check_lookup_order(_lookup_order, entries, width)


def test_the_check_catches_a_lookup_block_one_bit_low() -> None:
    entries = [(0, 0, 7), (0, 1, 0), (1, 2, 3), (1, 0, 1)]  # product 7 is below category 0
    _check_lookup_order(_lookup_order, entries, 3)
    with pytest.raises(AssertionError):
        _check_lookup_order(narrow_lookup_order, entries, 3)


_Contenders = Callable[[_Ints, np.ndarray, int, int], _Ints | None]


def _check_contenders(contenders: _Contenders, rows: list[tuple[int, float]], best: int) -> None:
    """*contenders* keeps the rows not below their group's *best*-th largest total (all
    of a group of at most *best*); None only when no group has more than *best* rows."""
    rows = sorted(rows, key=lambda row: row[0])
    owner = np.array([o for o, _ in rows], dtype=np.int64)
    total = np.array([t for _, t in rows], dtype=np.float64)
    size = max((o for o, _ in rows), default=-1) + 2  # and an empty group
    groups: dict[int, list[float]] = {}
    for o, t in rows:
        groups.setdefault(o, []).append(t)
    floors = {
        o: sorted(ts, reverse=True)[best - 1] if len(ts) > best else -math.inf
        for o, ts in groups.items()
    }
    expected = [k for k, (o, t) in enumerate(rows) if t >= floors[o]]
    kept = contenders(owner, total, size, best)
    if kept is None:  # nothing to cut, or no order to cut by
        assert all(len(ts) <= best for ts in groups.values()) or np.isnan(total).any()
    else:
        assert not np.isnan(total).any()
        assert kept.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.sampled_from([-2.0, -0.0, 0.0, 0.5, 1.0, 3.0, -math.inf, math.inf]),
        ),
        max_size=80,
    ),
    st.integers(1, 6),
    st.none() | st.integers(0, 80),
)
def test_contenders_are_the_plain_loop(
    rows: list[tuple[int, float]], best: int, nan_at: int | None
) -> None:
    """Ties at a list's floor, infinite totals (+inf, and -inf like the grid's padding),
    groups shorter than *best*, an empty batch; in about half the cases one total NaN."""
    if nan_at is not None and rows:
        o, _ = rows[nan_at % len(rows)]
        rows = [*rows, (o, math.nan)]
    _check_contenders(_contenders, rows, best)


def test_contenders_keep_every_row_when_a_total_is_nan() -> None:
    owner = np.array([0, 0, 0], dtype=np.int64)
    assert _contenders(owner, np.array([1.0, math.nan, 2.0]), 1, 1) is None


def test_the_check_catches_a_cut_that_drops_ties_at_the_floor() -> None:
    # group 1's second best total 4.0 is tied: both 4.0 rows must stay for the SKU tie-break
    rows = [(0, 3.0), (0, 1.0), (0, 2.0), (1, 5.0), (1, 4.0), (1, 4.0), (1, 0.5)]
    _check_contenders(_contenders, rows, 2)
    with pytest.raises(AssertionError):
        _check_contenders(strict_contenders, rows, 2)


def test_the_check_catches_a_floor_one_place_too_high() -> None:
    rows = [(0, 3.0), (0, 1.0), (0, 2.0), (1, 5.0), (1, 4.0), (1, 4.0), (1, 0.5)]
    _check_contenders(_contenders, rows, 2)
    with pytest.raises(AssertionError):
        _check_contenders(short_contenders, rows, 2)


def _check_sku_ranks(kind: type[PairingEngine], batches: list[list[str]]) -> None:
    """After each batch of new SKUs is merged in, every SKU's rank is its place in a
    plain sort of all of them."""
    engine = kind(catalog=Catalog(()), rules={})
    for batch in batches:
        engine._skus.extend(batch)
        engine._rank_skus()
        ordered = sorted(engine._skus)
        assert engine._sku_ranks.tolist() == [ordered.index(sku) for sku in engine._skus]


def _in_batches(skus: list[str], cuts: list[int]) -> list[list[str]]:
    bounds = [0, *sorted(cuts), len(skus)]
    return [skus[a:b] for a, b in itertools.pairwise(bounds)]


_SKUS = st.lists(st.text("ab\u00e9\U0001f600", max_size=4), unique=True, max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    _SKUS.flatmap(
        lambda skus: st.lists(st.integers(0, len(skus)), max_size=4).map(
            lambda cuts: _in_batches(skus, cuts)
        )
    )
)
def test_sku_ranks_are_a_plain_sort(batches: list[list[str]]) -> None:
    _check_sku_ranks(PairingEngine, batches)


def test_the_check_catches_known_skus_moved_one_place_too_far() -> None:
    batches = [["b", "d"], ["c"]]  # "b" is just before the new "c"
    _check_sku_ranks(PairingEngine, batches)
    with pytest.raises(AssertionError):
        _check_sku_ranks(ShiftedSkuRanksEngine, batches)


def _check_category_ranks(kind: type[PairingEngine], names: list[str]) -> None:
    """Each category's rank is its name's place in a plain sort of the names (ties
    between related categories go by name), re-ranked as categories are added."""
    engine = kind(catalog=Catalog(()), rules={})
    for name in names:
        engine._category_id(name)
        ordered = sorted(c.name for c in engine._categories)
        ranks = engine._category_ranks().tolist()
        assert ranks == [ordered.index(c.name) for c in engine._categories]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("ab\x00\u00e9\U0001f600", min_size=1, max_size=4), unique=True))
def test_category_ranks_are_a_plain_sort(names: list[str]) -> None:
    _check_category_ranks(PairingEngine, names)


def test_the_check_catches_category_names_in_numpy_order() -> None:
    names = ["c\x00", "c"]  # numpy ties them (trailing NULs dropped): the earlier first
    _check_category_ranks(PairingEngine, names)
    with pytest.raises(AssertionError):
        _check_category_ranks(NumpyCategoryOrderEngine, names)
