"""The pairing engine's vectorised ranking (numpy: the merge of the basket's pairing
lists, the phone's parts looked up in one sorted table, the ordering) answers bit for bit
as a plain loop over the same refreshed model: the same candidates, the same float sums in
the same order, ties in the order a dict of the candidates would list them."""

from __future__ import annotations

from bisect import insort
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import EngineConfig, Item, PairingEngine, PurchaseUpload, Reason
from protocol._reco._engine import FEATURES
from tests.planted.answered_basket import AnsweredBasketEngine
from tests.planted.colourless_rank import ColourlessEngine
from tests.planted.impersonal_rank import ImpersonalEngine
from tests.protocol.test_engine_properties import CATALOG, HISTORIES, PRODUCTS, baskets

BLOCK = 1 << 40  # the key blocks of a profile's lookup table (protocol/_reco/_engine.py)


def plain_pair(
    engine: PairingEngine, items: Sequence[Item], phone_id: str | None, limit: int
) -> list[tuple[str, float, Reason]]:
    """The engine's answer by plain dict loops over its refreshed model."""
    if limit <= 0:
        return []
    basket: dict[str, Item] = {}
    for item in items:
        basket.setdefault(item.sku, item)
    co: dict[int, float] = {}
    near: dict[int, float] = {}
    excluded = []
    for name in sorted(basket):
        index = engine._ids.get(name)
        if index is None:
            found = engine._compute_list(None, basket[name])
        else:
            excluded.append(index)
            found = engine._lists[index]
        ids, parts_co, parts_near = found.tolist()
        for j, a, b in zip(map(int, ids), parts_co, parts_near, strict=True):
            if j in co:
                co[j] += a
                near[j] += b
            else:
                co[j] = a
                near[j] = b
    profile = engine._profiles.get(phone_id) if phone_id is not None else None
    parts: dict[int, float] = {}
    personal: dict[int, float] | None = None
    if profile is not None:
        parts = dict(zip(profile.parts[0].tolist(), profile.parts[1].tolist(), strict=True))
        for j in map(int, profile.top[0].tolist()):
            if j not in co:
                co[j] = near[j] = 0.0
        personal = _plain_personal(engine, profile.together, excluded)
        for j in personal or {}:
            if j not in co:
                co[j] = near[j] = 0.0
    for j in excluded:
        if j in co:
            del co[j], near[j]
    return _plain_rank(
        engine, co, near, parts if profile is not None else None, limit, personal=personal
    )


def _plain_personal(
    engine: PairingEngine, together: tuple[Any, ...], basket: list[int]
) -> dict[int, float] | None:
    """The phone's products with their weighted personal part for *basket* (in SKU order),
    None when none has one: summed from 0.0 over the basket's products the phone bought
    in its window, each share the baskets with both over those with the basket product."""
    words = dict(zip(together[0].tolist(), together[1].tolist(), strict=True))
    shares = dict.fromkeys(words, 0.0)
    for i in basket:
        mine = words.get(i, 0)
        if mine:
            for j, word in words.items():
                shares[j] = shares[j] + (word & mine).bit_count() / mine.bit_count()
    weight = engine.config.personal_weight
    found = {j: weight * share for j, share in shares.items() if share}
    return found or None


def _plain_rank(
    engine: PairingEngine,
    co: dict[int, float],
    near: dict[int, float],
    parts: dict[int, float] | None,
    limit: int,
    *,
    personal: dict[int, float] | None = None,
) -> list[tuple[str, float, Reason]]:
    products = engine._products
    words = engine._word_ids
    popularity = engine._popularity
    scores: dict[int, float] = {}
    habit: dict[int, float] = {}
    for j, a in co.items():
        p = products[j]
        s = a + near[j] + popularity[j]
        if parts is not None:
            h = parts.get(j, 0.0) + parts.get(BLOCK + p.category, 0.0)
            if personal is not None:
                h = h + personal.get(j, 0.0)
            habit[j] = h
            s = s + h + parts.get(2 * BLOCK + words[p.brand], 0.0)
            s += parts.get(3 * BLOCK + words[p.colour], 0.0)
        scores[j] = s
    order = sorted((j for j in scores if scores[j] > 0), key=scores.__getitem__, reverse=True)
    best: list[tuple[float, str, int]] = []
    seen: dict[int, int] = {}
    decay = engine.config.diversity
    for j in order:
        negative = -scores[j]
        if len(best) == limit and negative > best[-1][0]:
            break
        n = seen.get(products[j].category, 0)
        seen[products[j].category] = n + 1
        key = (negative * decay**n if n else negative, products[j].sku, j)
        if len(best) < limit:
            insort(best, key)
        elif key < best[-1]:
            best.pop()
            insort(best, key)
    result = []
    for negative, sku, j in best:
        a, b, h = co[j], near[j], habit.get(j, 0.0)
        reason = (
            Reason.HABIT if h > a and h > b else Reason.CO_PURCHASE if a >= b else Reason.COMPLEMENT
        )
        result.append((sku, -negative, reason))
    return result


WEIGHTS = st.lists(st.floats(-0.5, 3.0), min_size=len(FEATURES), max_size=len(FEATURES))


def _engine(
    kind: type[PairingEngine], history: list[PurchaseUpload], weights: list[float], every: int
) -> PairingEngine:
    config = EngineConfig(refresh_every=every, diversity=0.7).with_weights(weights)
    engine = kind(config=config)
    for purchase in history:
        engine.observe(purchase)
    return engine


def _same(engine: PairingEngine, questions: Sequence[tuple[tuple[Item, ...], str | None]]) -> None:
    for items, phone in questions:
        for limit in (1, 5, 30):
            got = [(p.sku, p.score, p.reason) for p in engine.pair(items, phone, limit)]
            assert got == plain_pair(engine, items, phone, limit)


PHONE = st.sampled_from([None, "+8613800000001", "+8613800000002", "+8613800000003"])


@settings(max_examples=60, deadline=None)
@given(HISTORIES, WEIGHTS, st.integers(1, 4), st.lists(st.tuples(baskets(), PHONE), max_size=6))
def test_the_vectorised_ranking_is_the_plain_loop(
    history: list[PurchaseUpload],
    weights: list[float],
    every: int,
    questions: list[tuple[tuple[Item, ...], str | None]],
) -> None:
    _same(_engine(PairingEngine, history, weights, every), questions)


def test_the_check_catches_a_ranking_that_forgets_a_part() -> None:
    coloured = [p for p in PRODUCTS if p.colour][:4]
    assert len(coloured) == 4
    phone = "+8613800000001"
    history = [
        PurchaseUpload(
            receipt_id=f"r-{n}",
            merchant_id="shop-1",
            pos_id="pos-1",
            phone_id=phone,
            items=(CATALOG.to_item(product),),
            purchased_at=0.0,
        )
        for n, product in enumerate(coloured)
    ]
    weights = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]  # colour counts
    questions = [((CATALOG.to_item(p),), phone) for p in PRODUCTS]
    _same(_engine(PairingEngine, history, weights, 1), questions)
    planted = _engine(ColourlessEngine, history, weights, 1)
    with pytest.raises(AssertionError):  # the comparison sees the forgotten colour part
        _same(planted, questions)


def test_the_check_catches_a_ranking_that_forgets_the_personal_part() -> None:
    phone = "+8613800000001"
    first, second, third = PRODUCTS[:3]
    history = [
        PurchaseUpload(
            receipt_id=f"r-{n}",
            merchant_id="shop-1",
            pos_id="pos-1",
            phone_id=phone,
            items=tuple(CATALOG.to_item(p) for p in basket),
            purchased_at=0.0,
        )
        for n, basket in enumerate([(first, second), (first, third), (first, second)])
    ]
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index("personal")] = 1.0
    questions = [((CATALOG.to_item(p),), phone) for p in PRODUCTS[:3]]
    _same(_engine(PairingEngine, history, weights, 1), questions)
    planted = _engine(ImpersonalEngine, history, weights, 1)
    with pytest.raises(AssertionError):  # the comparison sees the forgotten personal part
        _same(planted, questions)


def test_the_check_catches_a_ranking_that_answers_a_basket_product() -> None:
    first, second = PRODUCTS[:2]
    history = [
        PurchaseUpload(
            receipt_id=f"r-{n}",
            merchant_id="shop-1",
            pos_id="pos-1",
            phone_id="+8613800000001",
            items=(CATALOG.to_item(first), CATALOG.to_item(second)),
            purchased_at=0.0,
        )
        for n in range(3)
    ]
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index("confidence")] = 1.0
    # each is in the other's list: asked together, neither may be an answer
    questions = [((CATALOG.to_item(first), CATALOG.to_item(second)), None)]
    _same(_engine(PairingEngine, history, weights, 1), questions)
    planted = _engine(AnsweredBasketEngine, history, weights, 1)
    with pytest.raises(AssertionError):  # the comparison sees a basket product answered
        _same(planted, questions)
