"""The co-purchase counters learned in batches (``protocol/_reco/_counts.py``: pairs
counted at the refresh with array operations, each row bounded there to its strongest
counters) are what a plain dict loop gives: per refresh period every pair of a basket (of
partners in a big one) counted, added to the stored row, the row then cut to its ``keep``
largest counters, ties to the smaller neighbour; between refreshes a row reads its stored
counters plus the period's so far. Also: the category offers' weighting is the plain
loop's, float for float."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, EngineConfig, Item, LocalProtocolError, PairingEngine
from protocol._reco._counts import PairCounts
from protocol._reco._recommender import BRAND_BONUS, colour_affinity
from tests.planted.bound_before_merge import BoundBeforeMergeCounts
from tests.planted.colourless_offers import ColourlessOffersEngine
from tests.planted.forgetful_best_sellers import ForgetfulBestSellersEngine
from tests.planted.last_batch_dropped import LastBatchDroppedCounts
from tests.planted.repeated_rows import RepeatedRowsCounts
from tests.planted.small_baskets_only import SmallBasketsOnlyCounts
from tests.planted.unsettled_features import UnsettledFeaturesEngine
from tests.planted.unstarted_cells import UnstartedCellsCounts

POOL = [
    Item(
        sku=f"S{(k * 7) % 20:02d}",
        name=f"product {k}",
        category=f"c{k % 4}",
        brand=f"b{k % 3}",
        colour=("", "black", "white", "red", "navy")[k % 5],
        quantity=1,
        price=1.0,
    )
    for k in range(20)
]
BASKETS = st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=12), max_size=30)
KEEP, PARTNERS = 3, 4
IDS = st.lists(st.lists(st.integers(0, 14), max_size=10, unique=True), max_size=40)
FLUSHES = st.lists(st.booleans(), min_size=40, max_size=40)


def _hash(i: int) -> int:
    return (i * 2654435761) % (1 << 32)


Rows = dict[int, dict[int, int]]


def plain_pairs(
    ids: Sequence[int], partners: int, hash_of: Callable[[int], int]
) -> list[tuple[int, int]]:
    """The (owner, neighbour) pairs one basket of distinct *ids* counts, by a plain loop."""
    if len(ids) - 1 <= partners:
        return [(i, j) for i in ids for j in ids if i != j]
    groups = -(-(len(ids) - 1) // partners)
    return [(i, j) for i in ids for j in ids if i != j and (hash_of(i) + hash_of(j)) % groups == 0]


def _bump(rows: Rows, i: int, j: int) -> None:
    row = rows.setdefault(i, {})
    row[j] = row.get(j, 0) + 1


def plain_merge(rows: Rows, period: Rows, keep: int) -> None:
    """Add a period's counts to *rows*, then cut each row it touched to its *keep*
    largest counters, ties to the smaller neighbour."""
    for owner, counted in period.items():
        row = rows.setdefault(owner, {})
        for j, n in counted.items():
            row[j] = row.get(j, 0) + n
        if len(row) > keep:
            rows[owner] = dict(sorted(row.items(), key=lambda e: (-e[1], e[0]))[:keep])
    period.clear()


def plain_now(rows: Rows, period: Rows) -> Rows:
    """The counts as of now: the stored rows plus the period's so far."""
    now = {owner: dict(row) for owner, row in rows.items()}
    for owner, counted in period.items():
        row = now.setdefault(owner, {})
        for j, n in counted.items():
            row[j] = row.get(j, 0) + n
    return now


def _rows(counts: PairCounts, size: int) -> Rows:
    return {i: row for i in range(size) if (row := counts.row(i))}


def _stored(counts: PairCounts, size: int) -> Rows:
    """The stored counters as :meth:`PairCounts.rows` reads them for rows 0..size-1 (in
    a shuffled order, each asked twice), checked against what :meth:`PairCounts.row`
    reads of each one after a flush."""
    asked = np.array([*range(size - 1, -1, -2), *range(size), 0], dtype=np.int64)
    at, neighbours, counted = counts.rows(asked)
    found: dict[int, Rows] = {}
    for k, j, n in zip(at.tolist(), neighbours.tolist(), counted.tolist(), strict=True):
        found.setdefault(k, {}).setdefault(int(asked[k]), {})[j] = n
    rows: Rows = {}
    for k, i in enumerate(asked.tolist()):
        row = found.get(k, {}).get(i, {})
        assert rows.setdefault(i, row) == row  # the same row wherever it is asked
    return {i: row for i, row in rows.items() if row}


def _check(kind: type[PairCounts], baskets: list[list[int]], flushes: list[bool]) -> None:
    counts = kind(KEEP, PARTNERS, _hash)
    rows: Rows = {}
    period: Rows = {}
    for ids, flush in zip(baskets, flushes, strict=False):
        counts.add(ids)
        for i, j in plain_pairs(ids, PARTNERS, _hash):
            _bump(period, i, j)
        if flush:
            counts.flush()
            plain_merge(rows, period, KEEP)
            assert _stored(counts, 15) == rows  # the batch read of the stored rows
        assert _rows(counts, 15) == plain_now(rows, period)  # between flushes too
    counts.flush()
    plain_merge(rows, period, KEEP)
    assert _rows(counts, 15) == rows
    assert _stored(counts, 15) == rows


@settings(max_examples=150, deadline=None)
@given(IDS, FLUSHES)
def test_the_batched_counts_are_the_plain_loops(
    baskets: list[list[int]], flushes: list[bool]
) -> None:
    _check(PairCounts, baskets, flushes)


def test_the_check_catches_a_dropped_last_basket_and_a_bound_before_merging() -> None:
    # rows 0 and 1 are full after the first flush; the second period brings 5 and 6 to
    # row 0 twice each, 7 once: merged, 5 and 6 beat 2 and 3 (once each before)
    baskets = [[0, 1, 2, 3], [0, 1], [0, 5, 6, 7], [0, 5, 6], [1, 2]]
    flushes = [False, True, False, False, False]
    _check(PairCounts, baskets, flushes)
    with pytest.raises(AssertionError):
        _check(LastBatchDroppedCounts, baskets, flushes)
    # a big basket takes the partners' path; a bound before merging keeps other counters
    baskets = [[0, 1, 2, 3], [0, 1, 2, 3], [0, 4, 5, 6, 7], [0, 4, 5, 6, 8, 9, 10, 11], [0, 4]]
    flushes = [True, False, False, False, False]
    _check(PairCounts, baskets, flushes)
    with pytest.raises(AssertionError):
        _check(BoundBeforeMergeCounts, baskets, flushes)


def test_the_check_catches_rows_read_from_cells_that_do_not_start_at_the_row() -> None:
    # rows 0, 1, 2 hold two counters each after the first flush; the second merges
    # into them, read by their flat cells
    baskets = [[0, 1, 2], [0, 1, 2], [1, 2, 3], [0, 3]]
    flushes = [False, True, False, True]
    _check(PairCounts, baskets, flushes)
    with pytest.raises(AssertionError):
        _check(UnstartedCellsCounts, baskets, flushes)


def test_the_check_catches_rows_touched_twice_in_a_period_merged_twice() -> None:
    # row 0 is in both baskets of the second period: its stored counters once, not twice
    baskets = [[0, 1], [0, 2], [0, 3]]
    flushes = [True, False, True]
    _check(PairCounts, baskets, flushes)
    with pytest.raises(AssertionError):
        _check(RepeatedRowsCounts, baskets, flushes)


def test_a_self_pair_counts_in_its_own_row_and_reading_changes_nothing() -> None:
    counts = PairCounts(2, 4, _hash)
    counts.add([3, 1])
    counts.add_selves(np.array([3]))
    assert counts.row(3) == {1: 1, 3: 1}  # before the flush: read, not merged
    assert counts.row(3) == {1: 1, 3: 1}
    counts.flush()
    assert counts.row(3) == {1: 1, 3: 1} and counts.row(1) == {3: 1}
    assert counts.row(99) == {}


def test_pair_keys_too_wide_for_an_int64_are_refused_with_a_clear_error() -> None:
    counts = PairCounts(2, 4, _hash)
    counts.add([1 << 40, (1 << 40) + 1])  # 41-bit row numbers: an 82-bit pair key
    with pytest.raises(LocalProtocolError, match="needs 82 bits, more than 63"):
        counts.flush()
    small = PairCounts(2, 4, _hash)
    small.add([1 << 20, (1 << 20) + 1])  # 42 bits: fits
    small.flush()
    assert small.row(1 << 20) == {(1 << 20) + 1: 1}


def test_a_count_past_what_a_counter_holds_is_refused_not_wrapped() -> None:
    counts = PairCounts(2, 4, _hash)
    counts.add([1, 2])
    counts.flush()
    counts._counts[1, 0] = np.iinfo(np.int32).max  # as after 2**31 - 1 baskets with the pair
    counts.add([1, 2])
    with pytest.raises(LocalProtocolError, match="count reached 2147483648, more than"):
        counts.flush()


def _learned(
    baskets: list[list[Item]], refresh_every: int, kind: type[PairingEngine] = PairingEngine
) -> PairingEngine:
    config = EngineConfig(
        neighbours=3, category_neighbours=2, basket_partners=3, refresh_every=refresh_every
    )
    # few neighbours and partners: rows are cut often and big baskets take the partners' path
    engine = kind(catalog=Catalog(()), rules={}, config=config)
    for n, basket in enumerate(baskets):
        engine.learn(basket, f"phone-{n % 3}")
    engine.refresh()
    return engine


def plain_engine_rows(
    engine: PairingEngine, baskets: list[list[Item]], every: int
) -> tuple[Rows, Rows]:
    """The engine's product and category rows by the plain loop, from its baskets."""
    ids = engine._ids
    products, kinds = engine._products, engine._categories
    cfg = engine.config
    rows: Rows = {}
    period: Rows = {}
    related: Rows = {}
    related_period: Rows = {}
    for n, basket in enumerate(baskets, start=1):
        learned = sorted({ids[item.sku] for item in basket})
        for i, j in plain_pairs(learned, cfg.basket_partners, lambda i: products[i].hash):
            _bump(period, i, j)
        touched = [products[i].category for i in learned]
        distinct = sorted(set(touched))
        pairs = plain_pairs(distinct, cfg.basket_partners, lambda c: kinds[c].hash)
        pairs += [(c, c) for c in distinct if touched.count(c) > 1]
        for c, d in pairs:
            _bump(related_period, c, d)
        if n % every == 0:
            plain_merge(rows, period, 2 * cfg.neighbours)
            plain_merge(related, related_period, 2 * cfg.category_neighbours)
    plain_merge(rows, period, 2 * cfg.neighbours)
    plain_merge(related, related_period, 2 * cfg.category_neighbours)
    return rows, related


@settings(max_examples=60, deadline=None)
@given(BASKETS, st.integers(1, 4))
def test_the_engines_counts_are_the_plain_loops(baskets: list[list[Item]], every: int) -> None:
    engine = _learned(baskets, every)
    rows, related = plain_engine_rows(engine, baskets, every)
    assert _rows(engine._pair_counts, engine.products) == rows
    assert _rows(engine._category_counts, len(engine._categories)) == related


def plain_affinities(engine: PairingEngine, kind: int, brand: str, colour: str) -> list[float]:
    """The offer of category *kind* weighted for *brand* and *colour* by the plain loop."""
    js, bases = engine._offered[kind]
    values = []
    for j, base in zip(js.tolist(), bases.tolist(), strict=True):
        other = engine._products[j]
        affinity = 1.0 + (BRAND_BONUS if other.brand == brand else 0.0)
        if colour and other.colour:
            affinity += colour_affinity(colour, other.colour)
        values.append(base * affinity)
    return values


def _same_affinities(engine: PairingEngine) -> None:
    brands = [*sorted({p.brand for p in POOL}), "unknown"]
    colours = [*sorted({p.colour for p in POOL}), "olive"]
    for kind, brand, colour in itertools.product(range(len(engine._categories)), brands, colours):
        js, values = engine._affinities(kind, brand, colour)
        assert js.tolist() == engine._offered[kind][0].tolist()
        assert values.tolist() == plain_affinities(engine, kind, brand, colour)


@settings(max_examples=40, deadline=None)
@given(BASKETS)
def test_the_offers_affinities_are_the_plain_loop(baskets: list[list[Item]]) -> None:
    _same_affinities(_learned(baskets, 1))


def test_the_check_catches_offers_without_colour() -> None:
    baskets = [POOL[:10], POOL[5:15], POOL[10:], POOL[:20:2]]
    engine = _learned(baskets, 1)
    assert any(len(js) for js, _ in engine._offered)  # categories offer products
    _same_affinities(engine)
    with pytest.raises(AssertionError):  # the comparison sees the colour left out
        _same_affinities(_learned(baskets, 1, ColourlessOffersEngine))


# ---------------------------------------------------------------- settled in batches
# Learning only records each basket's ids; the refresh (and ``features``) counts them all at
# once (``PairingEngine._settle``): the same counts as a loop over the baskets.


def _check_batched(kind: type[PairCounts], baskets: list[list[int]]) -> None:
    """Baskets recorded at once by *kind* count as the same baskets added one by one."""
    one = PairCounts(KEEP, PARTNERS, _hash)
    for ids in baskets:
        one.add(ids)
    many = kind(KEEP, PARTNERS, _hash)
    flat = np.array([i for ids in baskets for i in ids], dtype=np.int64)
    many.add_baskets(flat, np.array([len(ids) for ids in baskets], dtype=np.int64))
    assert _rows(many, 15) == _rows(one, 15)  # read before the flush
    one.flush()
    many.flush()
    assert _stored(many, 15) == _stored(one, 15)


@settings(max_examples=150, deadline=None)
@given(IDS)
def test_baskets_recorded_at_once_count_as_one_by_one(baskets: list[list[int]]) -> None:
    _check_batched(PairCounts, baskets)


def test_the_check_catches_big_baskets_left_out_of_a_batch() -> None:
    baskets = [[0, 1], [2], [], list(range(3, 10)), [1, 2, 3]]  # 7 ids: past the partners
    _check_batched(PairCounts, baskets)
    with pytest.raises(AssertionError):
        _check_batched(SmallBasketsOnlyCounts, baskets)


def _check_best_sellers(kind: type[PairingEngine], baskets: list[list[Item]], every: int) -> None:
    """After each refresh, every category's best sellers are its top ``category_best``
    learned products by (count, then SKU), counted by a plain loop."""
    config = EngineConfig(category_best=2, refresh_every=every)
    engine = kind(catalog=Catalog(()), rules={}, config=config)
    counts: dict[str, int] = {}
    category = {item.sku: item.category for item in POOL}

    def check() -> None:
        for kind_of in engine._categories:
            mine = [sku for sku in counts if category[sku] == kind_of.name]
            expected = sorted(mine, key=lambda sku: (-counts[sku], sku))[: config.category_best]
            found = [engine._products[j].sku for j in kind_of.best]
            assert sorted(found, key=lambda sku: (-counts[sku], sku)) == expected

    for n, basket in enumerate(baskets, start=1):
        engine.learn(basket, None)
        for sku in {item.sku for item in basket}:
            counts[sku] = counts.get(sku, 0) + 1
        if n % every == 0:
            check()
    engine.refresh()
    check()


@settings(max_examples=80, deadline=None)
@given(BASKETS, st.integers(1, 4))
def test_the_best_sellers_are_the_top_by_count_then_sku(
    baskets: list[list[Item]], every: int
) -> None:
    _check_best_sellers(PairingEngine, baskets, every)


def test_the_check_catches_best_sellers_forgotten_when_not_bought() -> None:
    a, b, c = [item for item in POOL if item.category == "c0"][:3]
    baskets = [[a], [a], [b], [c], [a, b]]  # a stays best through periods without it
    _check_best_sellers(PairingEngine, baskets, 1)
    with pytest.raises(AssertionError):
        _check_best_sellers(ForgetfulBestSellersEngine, baskets, 1)


def _check_features_now(kind: type[PairingEngine], baskets: list[list[Item]]) -> None:
    """``features`` between refreshes reads the counts as of now: each candidate's
    confidence is its baskets with the asked product over the asked product's, by a plain
    count of every basket learned (no row bounded: neighbours past the pool)."""
    config = EngineConfig(neighbours=64, refresh_every=10_000)
    engine = kind(catalog=Catalog(()), rules={}, config=config)
    for n, basket in enumerate(baskets):
        engine.learn(basket, None)
        if n == 0:  # the rest learned after the last refresh
            engine.refresh()
    for asked in sorted({item.sku for basket in baskets for item in basket}):
        held = [{item.sku for item in basket} for basket in baskets]
        n = sum(asked in skus for skus in held)
        shared: dict[str, int] = {}
        for skus in held:
            if asked in skus:
                for sku in skus - {asked}:
                    shared[sku] = shared.get(sku, 0) + 1
        item = next(i for i in POOL if i.sku == asked)
        found = {sku: row[0] for sku, row in engine.features([item], None) if row[0]}
        assert found == {sku: count / n for sku, count in shared.items()}


@settings(max_examples=60, deadline=None)
@given(BASKETS)
def test_features_between_refreshes_read_the_counts_as_of_now(baskets: list[list[Item]]) -> None:
    _check_features_now(PairingEngine, baskets)


def test_the_check_catches_features_read_before_settling() -> None:
    baskets = [POOL[:3], POOL[1:3]]  # nothing new since the refresh: stale counts read
    _check_features_now(PairingEngine, baskets)
    with pytest.raises(AssertionError):
        _check_features_now(UnsettledFeaturesEngine, baskets)
