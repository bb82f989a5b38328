"""Tests of the pairing engine's refreshed model (protocol._reco._engine): answers are read
from the model of the last refresh (every ``refresh_every`` learned baskets), so whatever
was asked before, an engine answers exactly as a fresh engine that learned the same
baskets and was never asked anything, and learning between refreshes changes no answer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import (
    Catalog,
    EngineConfig,
    Item,
    PairingEngine,
    PurchaseUpload,
    builtin_catalog,
)
from tests.builders import PHONES
from tests.planted.eager_engine import EagerEngine

CATALOG = builtin_catalog()
MERCHANT = "shop-1"
# Few products and categories, so that baskets share neighbours and categories.
PRODUCTS = CATALOG.products[::7]
NEW = tuple(
    Item(
        sku=f"NEW-{n}",
        name=f"New thing {n}",
        category=("gadget", "sunscreen", "misc")[n % 3],
        brand=("Volt", "Acme")[n % 2],
        colour=("black", "", "red")[n % 3],
        quantity=1,
        price=9.0,
    )
    for n in range(6)
)


@st.composite
def baskets(draw: st.DrawFn) -> tuple[Item, ...]:
    chosen = draw(st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=6, unique=True))
    items = [CATALOG.to_item(p, draw(st.integers(1, 3))) for p in chosen]
    items += draw(st.lists(st.sampled_from(NEW), max_size=2, unique=True))
    return tuple(items)


# A step: learn a basket (with co-purchases or habits only) or ask about one.
LEARN = st.tuples(st.just("learn"), baskets(), st.sampled_from((None, *PHONES)), st.booleans())
ASK = st.tuples(st.just("ask"), baskets(), st.sampled_from((None, *PHONES)), st.just(True))
STEPS = st.lists(st.one_of(LEARN, ASK), min_size=1, max_size=24)
CONFIGS = st.sampled_from(
    (
        EngineConfig(),
        # Tiny bounds: rows, categories and phones are cut back all the time.
        EngineConfig(neighbours=2, category_neighbours=2, habit_items=2, category_best=1),
        EngineConfig(pairings=3, complements=2, refresh_every=3),
        EngineConfig(cosine_weight=1.0, recency_weight=0.5, diversity=0.5, refresh_every=2),
    )
)


def _fresh(
    history: list[tuple[tuple[Item, ...], str | None, bool]], config: EngineConfig
) -> PairingEngine:
    engine = PairingEngine(config=config)
    for items, phone, co_purchase in history:
        engine.learn(items, phone, co_purchase=co_purchase)
    return engine


def _answers(engine: PairingEngine, items: tuple[Item, ...], phone: str | None) -> object:
    upload = PurchaseUpload(
        receipt_id="r-q",
        merchant_id=MERCHANT,
        pos_id="pos-1",
        phone_id=phone if phone is not None else PHONES[0],
        items=items,
        purchased_at=0.0,
    )
    return (
        engine.pair(items, phone, 5),
        engine.pair(items, None, 3),
        engine.associate(upload, None, 4),
    )


@settings(max_examples=60, deadline=None)
@given(STEPS, CONFIGS)
def test_an_engine_asked_between_learning_answers_as_a_fresh_one(
    steps: list[tuple[str, tuple[Item, ...], str | None, bool]], config: EngineConfig
) -> None:
    live = PairingEngine(config=config)
    history: list[tuple[tuple[Item, ...], str | None, bool]] = []
    for action, items, phone, co_purchase in steps:
        if action == "learn":
            live.learn(items, phone, co_purchase=co_purchase)
            history.append((items, phone, co_purchase))
        else:
            assert _answers(live, items, phone) == _answers(_fresh(history, config), items, phone)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(baskets(), min_size=1, max_size=8),
    st.lists(baskets(), min_size=1, max_size=8),
    st.lists(baskets(), min_size=1, max_size=4),
    CONFIGS,
)
def test_learned_a_asked_learned_b_answers_as_an_engine_that_learned_a_and_b(
    first: list[tuple[Item, ...]],
    then: list[tuple[Item, ...]],
    asked: list[tuple[Item, ...]],
    config: EngineConfig,
) -> None:
    live = PairingEngine(config=config)
    for n, items in enumerate(first):
        live.learn(items, PHONES[n % 3])
    for items in asked:  # fills every derived state
        for phone in (None, *PHONES):
            live.pair(items, phone, 5)
    for n, items in enumerate(then):
        live.learn(items, PHONES[n % 2])
    fresh = PairingEngine(config=config)
    for n, items in enumerate(first):
        fresh.learn(items, PHONES[n % 3])
    for n, items in enumerate(then):
        fresh.learn(items, PHONES[n % 2])
    for items in asked:
        for phone in (None, *PHONES):
            assert live.pair(items, phone, 5) == fresh.pair(items, phone, 5)


def _item(sku: str, category: str) -> Item:
    return Item(
        sku=sku, name=sku, category=category, brand="Acme", colour="", quantity=1, price=1.0
    )


def _answers_come_from_the_last_refresh(kind: type[PairingEngine]) -> None:
    engine = kind(Catalog(()), {}, EngineConfig(refresh_every=3))
    bread, butter, jam = _item("BREAD", "bakery"), _item("BUTTER", "dairy"), _item("JAM", "jam")
    for _ in range(3):
        engine.learn([bread, butter])
    assert [p.sku for p in engine.pair([bread], None, 5)] == ["BUTTER"]
    engine.learn([bread, jam])
    engine.learn([bread, jam], "+8613800000001")
    assert [p.sku for p in engine.pair([bread], None, 5)] == ["BUTTER"]  # not refreshed yet
    assert engine.pair([bread], "+8613800000001", 5) == engine.pair([bread], None, 5)
    engine.learn([bread, jam])  # the third basket since the refresh: a refresh
    assert [p.sku for p in engine.pair([bread], None, 5)] == ["BUTTER", "JAM"]  # 3 and 3
    engine.learn([bread, butter])
    before = engine.pair([bread], None, 5)
    engine.refresh()  # on demand: everything learned so far
    assert engine.pair([bread], None, 5) != before


def test_answers_come_from_the_last_refresh() -> None:
    _answers_come_from_the_last_refresh(PairingEngine)


def test_an_engine_answering_from_everything_learned_is_caught() -> None:
    with pytest.raises(AssertionError):
        _answers_come_from_the_last_refresh(EagerEngine)


def test_habits_only_learning_changes_no_answer_without_habits() -> None:
    a, b, c = _item("A", "misc"), _item("B", "misc"), _item("C", "misc")
    engine = PairingEngine(Catalog(()), {})
    engine.learn([a, b])
    before = engine.pair([a], None, 5)
    engine.learn([a, c], PHONES[0], co_purchase=False)
    assert engine.pair([a], None, 5) == before
    assert "C" in [p.sku for p in engine.pair([a], PHONES[0], 5)]


def test_a_new_best_seller_of_a_related_category_is_offered() -> None:
    # One best seller kept per category: when another product of the related category
    # overtakes it, the category parts offer the new one.
    config = EngineConfig(category_best=1)
    engine = PairingEngine(Catalog(()), {}, config)
    pasta = _item("PASTA", "pasta")
    red, green = _item("SAUCE-RED", "sauce"), _item("SAUCE-GREEN", "sauce")
    engine.learn([pasta, red])
    assert [p.sku for p in engine.pair([_item("PASTA-2", "pasta")], None, 5)] == ["SAUCE-RED"]
    for _ in range(2):
        engine.learn([green])
    assert [p.sku for p in engine.pair([_item("PASTA-2", "pasta")], None, 5)] == ["SAUCE-GREEN"]


def test_a_full_refresh_recomputes_lists_a_partial_one_kept() -> None:
    # Bread's list is recomputed only when bread is learned: its neighbours' popularity
    # (the cosine and popularity parts) is the one of that refresh until a full refresh.
    config = EngineConfig(cosine_weight=1.0, confidence_weight=0.0, category_weight=0.0)
    engine = PairingEngine(Catalog(()), {}, config)
    bread, butter, jam = _item("BREAD", "bakery"), _item("BUTTER", "dairy"), _item("JAM", "jam")
    engine.learn([bread, butter])
    engine.learn([bread, jam])
    for _ in range(3):
        engine.learn([butter])  # butter is more popular: a smaller cosine with bread
    kept = engine.pair([bread], None, 5)
    assert [p.sku for p in kept] == ["BUTTER", "JAM"]  # the tie of bread's last refresh
    engine.refresh(full=True)
    assert [p.sku for p in engine.pair([bread], None, 5)] == ["JAM", "BUTTER"]
