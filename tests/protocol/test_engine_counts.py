"""The online counts and the category offers' weighting, made faster, are what the plain
loops they replaced give: every neighbour and related-category counter with the same value
in the same order (a cut keeps the earlier inserted of equal counters, so the order is part
of the model), and every offer's brand and colour affinity the same float."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, EngineConfig, Item, PairingEngine
from protocol._reco import _engine
from protocol._reco._recommender import BRAND_BONUS, colour_affinity
from tests.planted.backward_counts import BackwardCountsEngine
from tests.planted.colourless_offers import ColourlessOffersEngine

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
# few neighbours and partners: rows are cut often and big baskets take the partners' path
CONFIG = EngineConfig(neighbours=3, category_neighbours=2, basket_partners=3)
BASKETS = st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=12), max_size=30)


class PlainCountsEngine(PairingEngine):
    """Counts a basket's pairs as the engine did before (two slices per row; the partners'
    group copied without the id itself)."""

    def _count_pairs(
        self, ids: list[int], rows: list[dict[int, int]], hashes: list[int], cap: int
    ) -> list[dict[int, int]]:
        keep = cap // _engine._SLACK
        partners = self.config.basket_partners
        count = _engine._count
        strongest = _engine._strongest
        out: list[dict[int, int]] = []
        if len(ids) - 1 <= partners:
            last = len(ids) - 1
            for k, row in enumerate(rows):
                if k:
                    count(row, ids[:k])
                if k < last:
                    count(row, ids[k + 1 :])
                out.append(strongest(row, keep) if len(row) > cap else row)
            return out
        groups = -(-(len(ids) - 1) // partners)
        by_group: list[list[int]] = [[] for _ in range(groups)]
        for i, h in zip(ids, hashes, strict=True):
            by_group[h % groups].append(i)
        for i, h, row in zip(ids, hashes, rows, strict=True):
            group = by_group[-h % groups]
            count(row, [j for j in group if j != i])
            out.append(strongest(row, keep) if len(row) > cap else row)
        return out


def _learned(kind: type[PairingEngine], baskets: list[list[Item]]) -> PairingEngine:
    engine = kind(catalog=Catalog(()), rules={}, config=CONFIG)
    for n, basket in enumerate(baskets):
        engine.learn(basket, f"phone-{n % 3}")
    engine.refresh()
    return engine


def _counters(engine: PairingEngine) -> list[list[tuple[int, int]]]:
    rows = [list(p.row.items()) for p in engine._products]
    return rows + [list(c.related.items()) for c in engine._categories]


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


@settings(max_examples=60, deadline=None)
@given(BASKETS)
def test_the_counts_are_the_plain_loops_in_value_and_order(baskets: list[list[Item]]) -> None:
    assert _counters(_learned(PairingEngine, baskets)) == _counters(
        _learned(PlainCountsEngine, baskets)
    )


def test_the_check_catches_counters_in_another_order() -> None:
    baskets = [POOL[:12], POOL[4:10], POOL[8:20], POOL[:6] + POOL[14:]]
    plain = _counters(_learned(PlainCountsEngine, baskets))
    assert any(len(row) > 1 for row in plain)  # rows were counted, some cut
    assert _counters(_learned(PairingEngine, baskets)) == plain
    assert _counters(_learned(BackwardCountsEngine, baskets)) != plain


@settings(max_examples=40, deadline=None)
@given(BASKETS)
def test_the_offers_affinities_are_the_plain_loop(baskets: list[list[Item]]) -> None:
    _same_affinities(_learned(PairingEngine, baskets))


def test_the_check_catches_offers_without_colour() -> None:
    baskets = [POOL[:10], POOL[5:15], POOL[10:], POOL[:20:2]]
    engine = _learned(PairingEngine, baskets)
    assert any(len(js) for js, _ in engine._offered)  # categories offer products
    _same_affinities(engine)
    with pytest.raises(AssertionError):  # the comparison sees the colour left out
        _same_affinities(_learned(ColourlessOffersEngine, baskets))
