"""The refresh's pairing lists and phone profiles, computed for many products (phones) at
once with array arithmetic (``PairingEngine._compute_lists``, ``_compute_profiles``), are
bit for bit what a plain loop over one product's (phone's) counters gives: the same
candidates in the same order (best first, ties by SKU), the same parts, whatever the
weights, the refresh points and the order in which products were first seen (which
differs from their SKUs' order here)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, EngineConfig, Item, PairingEngine
from protocol._reco import _engine
from protocol._reco._engine import FEATURES
from tests.planted.backward_names import BackwardNamesEngine
from tests.planted.colourless_groups import ColourlessGroupsEngine
from tests.planted.numbered_ties import NumberedTiesEngine
from tests.planted.reordered_habits import ReorderedHabitsEngine
from tests.planted.short_contenders import short_contenders
from tests.planted.short_shift import ShortShiftEngine
from tests.planted.strict_contenders import strict_contenders

# SKUs whose order is not the order they are first learned in; few categories and brands,
# so that candidates tie and categories offer each other's products
POOL = [
    Item(
        sku=f"S{(k * 7) % 12:02d}",
        name=f"product {k}",
        category=f"c{k % 3}",
        brand=f"b{k % 2}",
        colour=("", "black", "white", "red")[k % 4],
        quantity=1,
        price=1.0,
    )
    for k in range(12)
]
STRANGER = Item(
    sku="NEW-1", name="new", category="c1", brand="b0", colour="red", quantity=1, price=1.0
)
RULES = {"c0": (("c1", 0.5),), "c2": (("c0", 1.0), ("c1", 0.25))}

WEIGHTS = st.lists(st.floats(-0.5, 3.0), min_size=len(FEATURES), max_size=len(FEATURES))
BLOCK = 1 << 40  # the key blocks of a profile's lookup table (protocol/_reco/_engine.py)
BASKETS = st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=6), max_size=25)


def plain_list(engine: PairingEngine, index: int | None, item: Item) -> np.ndarray:
    """One product's pairing list by dict loops over the engine's counters and refreshed
    popularity, as the engine computed it before its lists were vectorised."""
    cfg = engine.config
    products = engine._products
    popularity = engine._popularity.tolist()
    roots = engine._roots.tolist()
    co: dict[int, float] = {}
    total: dict[int, float] = {}
    n = 0
    if index is not None:
        n = int(engine._counts[index])
        if n and cfg.cosine_weight == 0.0 and cfg.confidence_weight != 0.0:
            for j, c in engine._pair_counts.row(index).items():
                v = co[j] = cfg.confidence_weight * (c / n)
                total[j] = v + popularity[j]
        elif n:
            root = 1.0 / math.sqrt(n)
            for j, c in engine._pair_counts.row(index).items():
                v = co[j] = cfg.confidence_weight * (c / n) + cfg.cosine_weight * (
                    c * root / roots[j]
                )
                total[j] = v + popularity[j]
    near: dict[int, float] = {}
    kind = engine._category_ids.get(item.category)
    m = cfg.category_prior
    if kind is not None and m > 0:
        shrink = m / (n + m)
        js, values = engine._affinities(kind, item.brand, item.colour)
        for j, value in zip(js.tolist(), values.tolist(), strict=True):
            if j != index:
                v = near[j] = cfg.category_weight * (shrink * value)
                total[j] = total.get(j, popularity[j]) + v
    chosen = sorted(total, key=lambda j: (-total[j], products[j].sku))[: cfg.pairings]
    return np.array(
        (chosen, [co.get(j, 0.0) for j in chosen], [near.get(j, 0.0) for j in chosen]),
        dtype=np.float64,
    ).reshape(3, len(chosen))


def plain_profile(engine: PairingEngine, phone: str) -> tuple[list[int], dict[float, float]]:
    """One phone's best products and lookup table by dict loops over its counters, as the
    engine computed them before its profiles were vectorised."""
    cfg = engine.config
    habits = engine._habits[phone]
    baskets = habits.baskets
    lines = habits.lines or 1
    newest = baskets - 1
    r = cfg.decay
    scale = cfg.decayed_weight * (1 - r) / (1 - r**baskets) if r < 1 else 0.0
    habit = {
        j: cfg.habit_weight / baskets * n
        + cfg.recency_weight / (1 + newest - habits.last[j])
        + scale * habits.decayed[j] * r ** (newest - habits.last[j])
        for j, n in habits.items.items()
    }
    skus = engine._skus
    top = sorted(habit, key=lambda j: (-habit[j], skus[j]))[: cfg.habit_candidates]
    parts: dict[float, float] = {float(j): v for j, v in habit.items()}
    word = engine._word_ids
    for c, n in habits.categories.items():
        parts[float(BLOCK + c)] = cfg.habit_category_weight / baskets * n
    for b, n in habits.brands.items():
        parts[float(2 * BLOCK + word[b])] = cfg.brand_weight * n / lines
    for colour, n in habits.colours.items():
        parts[float(3 * BLOCK + word[colour])] = cfg.colour_weight * n / lines
    return top, parts


def plain_offered(engine: PairingEngine, category: int) -> list[tuple[int, float]]:
    """What a category's related categories offer, by the dict loop the engine used before
    its offers were vectorised."""
    offered: dict[int, float] = {}
    for d, p in engine._related[category]:
        kind = engine._categories[d]
        total = kind.sales + kind.size
        base = p / total if total else 0.0
        for j in dict.fromkeys((*kind.best, *kind.catalog)):
            value = base * (int(engine._counts[j]) + 1)
            if value > offered.get(j, 0.0):
                offered[j] = value
    return list(offered.items())


def plain_related(engine: PairingEngine, category: int) -> tuple[tuple[int, float], ...]:
    """A category's related categories by the dict loop the engine used before they were
    computed in batches: best first, ties by name."""
    kind = engine._categories[category]
    prior = engine.config.rule_prior
    total = kind.count + (prior if kind.rules else 0.0)
    if total <= 0:
        return ()
    weights = {d: n / total for d, n in engine._category_counts.row(category).items()}
    for d, weight in kind.rules:
        weights[d] = weights.get(d, 0.0) + prior * weight / total
    names = {d: engine._categories[d].name for d in weights}
    chosen = sorted(weights, key=lambda d: (-weights[d], names[d]))
    return tuple((d, weights[d]) for d in chosen[: engine.config.complements])


def _same_offer(engine: PairingEngine, category: int) -> None:
    assert engine._related[category] == plain_related(engine, category)
    js, values = engine._offered[category]
    assert list(zip(js.tolist(), values.tolist(), strict=True)) == plain_offered(engine, category)


def _same(engine: PairingEngine, index: int | None, item: Item, found: np.ndarray) -> None:
    expected = plain_list(engine, index, item)
    assert found.shape == expected.shape
    assert found.tobytes() == expected.tobytes()  # bit for bit, the sign of a nought too


def _same_profile(engine: PairingEngine, phone: str) -> None:
    top, parts = plain_profile(engine, phone)
    profile = engine._profiles[phone]
    assert profile.top[0].tolist() == top
    assert not profile.top[1:].any()
    keys, values = profile.parts
    assert keys.tolist() == sorted(parts)
    expected = np.array([parts[k] for k in sorted(parts)], dtype=np.float64)
    assert values.tobytes() == expected.tobytes()


def _check(
    kind: type[PairingEngine],
    baskets: list[list[Item]],
    weights: list[float],
    *,
    pairings: int,
    prior: float,
    refresh_at: set[int],
    complements: int = 4,
    habit_items: int = 48,
) -> None:
    config = EngineConfig(
        refresh_every=1000,
        pairings=pairings,
        neighbours=3,
        category_prior=prior,
        complements=complements,
        habit_items=habit_items,
    ).with_weights(weights)
    engine = kind(catalog=Catalog(()), rules=RULES, config=config)
    for n, basket in enumerate(baskets):
        engine.learn(basket, f"phone-{n % 3}")
        if n in refresh_at:  # a partial refresh: the changed products' lists and phones
            engine._settle()  # the baskets learned since counted: what is marked changed
            changed = sorted(engine._dirty_products)
            phones = sorted(engine._dirty_phones)
            categories = sorted(engine._dirty_categories)
            engine.refresh()
            for c in categories:
                _same_offer(engine, c)
            for i in changed:
                _same(engine, i, engine._products[i].item, engine._lists[i])
            for phone in phones:
                _same_profile(engine, phone)
    engine.refresh(full=True)
    for i, product in enumerate(engine._products):
        _same(engine, i, product.item, engine._lists[i])
    for phone in engine._habits:
        _same_profile(engine, phone)
    for c in range(len(engine._categories)):
        _same_offer(engine, c)
    _same(engine, None, STRANGER, engine._compute_list(None, STRANGER))


@settings(max_examples=80, deadline=None)
@given(
    BASKETS,
    WEIGHTS,
    st.integers(1, 6),
    st.tuples(st.sampled_from([0.0, 1.0, 3.0]), st.integers(1, 4), st.sampled_from([1, 2, 48])),
    st.sets(st.integers(0, 24)),
)
def test_the_batched_lists_are_the_plain_loop(
    baskets: list[list[Item]],
    weights: list[float],
    pairings: int,
    bounds: tuple[float, int, int],
    refresh_at: set[int],
) -> None:
    # the category prior, related categories kept, products remembered per phone (a
    # bound of 1 or 2 cuts a phone's counters often)
    prior, complements, habit_items = bounds
    _check(
        PairingEngine,
        baskets,
        weights,
        pairings=pairings,
        prior=prior,
        refresh_at=refresh_at,
        complements=complements,
        habit_items=habit_items,
    )


def test_the_check_catches_a_phone_whose_counters_are_out_of_step() -> None:
    # phone-0 buys S07 (number 0), S09 (2), then S02 (1): its items not in number order
    baskets = [[POOL[1]], [POOL[2]], [POOL[3]], [POOL[3]], [POOL[4]], [POOL[4]], [POOL[2]]]
    weights = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    _check(PairingEngine, baskets, weights, pairings=4, prior=1.0, refresh_at=set())
    with pytest.raises(AssertionError):  # the profile read another product's last basket
        _check(ReorderedHabitsEngine, baskets, weights, pairings=4, prior=1.0, refresh_at=set())


def test_the_check_catches_related_categories_tied_by_the_larger_name() -> None:
    # c1 has no rule and shares one basket with c0 and one with c2: a tie, c0 by name
    baskets = [[POOL[0], POOL[1], POOL[2]]]
    weights = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    _check(PairingEngine, baskets, weights, pairings=4, prior=1.0, refresh_at=set(), complements=1)
    with pytest.raises(AssertionError):  # c1's one related category is c2
        _check(
            BackwardNamesEngine,
            baskets,
            weights,
            pairings=4,
            prior=1.0,
            refresh_at=set(),
            complements=1,
        )


def test_the_check_catches_lists_that_break_ties_by_learning_order() -> None:
    # S07 is learned before S00; with S04 both share one basket: a tie in S04's list
    baskets = [[POOL[1], POOL[0], POOL[4]]]
    weights = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    _check(PairingEngine, baskets, weights, pairings=1, prior=0.0, refresh_at=set())
    with pytest.raises(AssertionError):  # the comparison sees ties broken by learning order
        _check(NumberedTiesEngine, baskets, weights, pairings=1, prior=0.0, refresh_at=set())


def test_the_check_catches_lists_whose_offers_are_grouped_without_colour() -> None:
    # S00 (no colour) and S06 (white): one category and brand, different colour harmony
    baskets = [[POOL[0], POOL[1]], [POOL[6], POOL[4]], [POOL[2], POOL[3], POOL[5]]]
    weights = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    _check(PairingEngine, baskets, weights, pairings=6, prior=1.0, refresh_at=set())
    with pytest.raises(AssertionError):  # S06's list read S00's offer
        _check(ColourlessGroupsEngine, baskets, weights, pairings=6, prior=1.0, refresh_at=set())


def test_the_check_catches_profiles_that_break_ties_by_learning_order() -> None:
    config = EngineConfig(habit_candidates=1)
    for kind, caught in ((PairingEngine, False), (NumberedTiesEngine, True)):
        engine = kind(catalog=Catalog(()), rules={}, config=config)
        engine.learn([POOL[1]], "phone-1")  # S07, then S00: a tie in the phone's habits
        engine.learn([POOL[0]], "phone-1")
        engine.refresh()
        try:
            _same_profile(engine, "phone-1")
        except AssertionError:
            assert caught, "a correct profile failed the check"
        else:
            assert not caught, "the comparison missed a profile's ties by learning order"


def test_lists_computed_in_halves_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # a sort key of few bits: the lists are computed in halves, down to one product each
    baskets = [[POOL[k % 12], POOL[(k * 5) % 12], POOL[(k * 7 + 3) % 12]] for k in range(30)]
    weights = [1.0, 0.5, 1.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    monkeypatch.setattr(_engine, "_KEY_BITS", 12)
    halved: list[int] = []
    compute = PairingEngine._compute_lists

    def counted(self: PairingEngine, entries: Sequence[tuple[int | None, Item]]) -> Any:
        halved.append(len(entries))
        return compute(self, entries)

    monkeypatch.setattr(PairingEngine, "_compute_lists", counted)
    _check(PairingEngine, baskets, weights, pairings=3, prior=1.0, refresh_at={9, 19})
    assert 1 in halved and max(halved) > 1  # it did compute some lists in halves


def test_the_check_catches_lists_cut_one_candidate_short(monkeypatch: pytest.MonkeyPatch) -> None:
    # S07 shares 3 baskets with S00, 2 with S09, 1 with S02: its 2 best by distinct totals
    baskets = [
        [POOL[1], POOL[0], POOL[2], POOL[3]],
        [POOL[1], POOL[0], POOL[2]],
        [POOL[1], POOL[0]],
    ]
    weights = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    _check(PairingEngine, baskets, weights, pairings=2, prior=0.0, refresh_at=set())
    monkeypatch.setattr(_engine, "_contenders", short_contenders)
    with pytest.raises(AssertionError):  # the cut before the sort dropped S09
        _check(PairingEngine, baskets, weights, pairings=2, prior=0.0, refresh_at=set())


def test_the_check_catches_lists_cut_before_their_ties(monkeypatch: pytest.MonkeyPatch) -> None:
    # S07 shares 2 baskets with S00 and with S02, 1 with S09: its best is a tie, S00 by SKU
    baskets = [
        [POOL[1], POOL[0], POOL[2], POOL[3]],
        [POOL[1], POOL[0], POOL[2]],
    ]
    weights = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    _check(PairingEngine, baskets, weights, pairings=1, prior=0.0, refresh_at=set())
    monkeypatch.setattr(_engine, "_contenders", strict_contenders)
    with pytest.raises(AssertionError):  # the cut dropped both tied candidates
        _check(PairingEngine, baskets, weights, pairings=1, prior=0.0, refresh_at=set())


def _numbered(count: int) -> list[Item]:
    """*count* products whose SKUs' order is not their learning order."""
    return [
        Item(
            sku=f"N{(k * 37) % 1009:04d}",
            name=f"numbered {k}",
            category=f"c{k % 3}",
            brand=f"b{k % 2}",
            colour=("", "black", "white", "red")[k % 4],
            quantity=1,
            price=1.0,
        )
        for k in range(count)
    ]


def _packed_edges(kind: type[PairingEngine], count: int) -> None:
    """An engine of *count* products, each bought with its two next (so the last ones
    are candidates of the first): every list and a stranger's is the plain loop's."""
    items = _numbered(count)
    config = EngineConfig(refresh_every=1000, pairings=5, neighbours=4, category_prior=1.0)
    engine = kind(catalog=Catalog(()), rules=RULES, config=config)
    for k in range(count):
        engine.learn({items[k], items[(k + 1) % count], items[(k + 2) % count]}, "phone-0")
    engine.refresh(full=True)
    assert len(engine._products) == count
    for i, product in enumerate(engine._products):
        _same(engine, i, product.item, engine._lists[i])
    _same(engine, None, STRANGER, engine._compute_list(None, STRANGER))
    if count == 0:
        assert engine.pair([STRANGER], "phone-0", 5) == []


# each (list, candidate) is packed by a shift of the product count's bits: the counts
# at a power of two and one past it, the fewest, and the batches halved by a sort key
# held to few bits (down to one list each, its keys at the top of the bits allowed)
@pytest.mark.parametrize("key_bits", [_engine._KEY_BITS, 14])
@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33, 64, 65, 128, 129])
def test_lists_of_every_product_count_are_the_plain_loop(
    count: int, key_bits: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_engine, "_KEY_BITS", key_bits)
    _packed_edges(PairingEngine, count)


@pytest.mark.parametrize("count", [5, 9, 17, 33, 65, 129])
def test_the_check_catches_keys_packed_one_bit_short(count: int) -> None:
    _packed_edges(PairingEngine, count)
    with pytest.raises(AssertionError):  # the last product's number ran into its list's
        _packed_edges(ShortShiftEngine, count)


def test_the_edges_pack_keys_up_to_the_top_bit_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    # 33 products under a 14-bit sort key: some batch's keys, packed with their places by
    # _distinct, fill all 14 bits (the halving's bound is exact there), lists unchanged
    widest: list[int] = []
    distinct = _engine._distinct

    def measured(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(values):
            widest.append(int(values.max()).bit_length() + len(values).bit_length())
        return distinct(values)

    monkeypatch.setattr(_engine, "_KEY_BITS", 14)
    monkeypatch.setattr(_engine, "_distinct", measured)
    _packed_edges(PairingEngine, 33)
    assert max(widest) == 14
