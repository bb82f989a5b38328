"""Tests of the pairing engine's derived state (protocol._reco._engine): pairing lists, related
categories and category parts are kept between questions and recomputed only when what
they were derived from changed. Whatever was asked before, an engine answers exactly as
a fresh engine that learned the same baskets and was never asked anything."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import protocol._reco._engine as engine_module
from protocol import (
    Catalog,
    EngineConfig,
    Item,
    Pairing,
    PairingEngine,
    PurchaseUpload,
    builtin_catalog,
)
from tests.builders import PHONES

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
        EngineConfig(related_habits=True, pairings=3, complements=2),
        EngineConfig(popularity_damping=0.0, diversity=0.5),
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


def test_learning_an_unrelated_basket_keeps_a_pairing_list() -> None:
    engine = PairingEngine(Catalog(()), {})
    bread, butter = _item("BREAD", "bakery"), _item("BUTTER", "dairy")
    nail, hammer = _item("NAIL", "hardware"), _item("HAMMER", "tools")
    engine.learn([bread, butter])
    engine.learn([nail, hammer])
    before = engine.pair([bread], None, 5)
    kept = engine._memo[engine._ids["BREAD"]]
    engine.learn([nail, hammer])  # shares no product and no category with bread's list
    assert engine.pair([bread], None, 5) == before
    assert engine._memo[engine._ids["BREAD"]] is kept
    engine.learn([butter, _item("MILK", "dairy")])  # butter's count (damping) changed
    after = engine.pair([bread], None, 5)
    assert engine._memo[engine._ids["BREAD"]] is not kept
    assert after != before  # butter is more popular: damped a little more
    assert [p.sku for p in after] == ["BUTTER", "MILK"]


def test_habits_only_learning_changes_no_answer_without_habits() -> None:
    # A product first seen in a habits-only basket joins its category's statistics only
    # when learned with co-purchases: the co-purchase model stays as it was, whether or
    # not the question was asked before.
    a, b, c = _item("A", "misc"), _item("B", "misc"), _item("C", "misc")
    asked = PairingEngine(Catalog(()), {})
    asked.learn([a, b])
    before = asked.pair([a], None, 5)
    never_asked = PairingEngine(Catalog(()), {})
    never_asked.learn([a, b])
    for engine in (asked, never_asked):
        engine.learn([a, c], PHONES[0], co_purchase=False)
        assert engine.pair([a], None, 5) == before
    asked.learn([c])  # now C counts: the category's size and sales change the scores
    assert asked.pair([a], None, 5) != before


def test_forgetting_pairing_lists_changes_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "_MEMO_LIMIT", 4)
    products = [CATALOG.to_item(p) for p in CATALOG.products[:30]]
    small = PairingEngine()
    baskets_ = [tuple(products[n : n + 4]) for n in range(0, 26, 2)]
    for basket in baskets_:
        small.learn(basket, PHONES[0])
    answers = [small.pair(basket[:2], PHONES[0], 5) for basket in baskets_]
    assert len(small._memo) <= 4
    monkeypatch.setattr(engine_module, "_MEMO_LIMIT", 1 << 15)
    big = PairingEngine()
    for basket in baskets_:
        big.learn(basket, PHONES[0])
    assert [big.pair(basket[:2], PHONES[0], 5) for basket in baskets_] == answers
    assert all(isinstance(p, Pairing) for answer in answers for p in answer)


def test_a_neighbour_learned_elsewhere_changes_the_list() -> None:
    # Jam's category is not among bread's related categories (one kept): only jam's own
    # count (its popularity damping) says that bread's list changed.
    engine = PairingEngine(Catalog(()), {}, EngineConfig(complements=1))
    bread, butter = _item("BREAD", "bakery"), _item("BUTTER", "dairy")
    jam, tea = _item("JAM", "preserves"), _item("TEA", "drinks")
    for _ in range(3):
        engine.learn([bread, butter])
    engine.learn([bread, jam])
    before = engine.pair([bread], None, 5)
    engine.learn([jam, tea])
    fresh = PairingEngine(Catalog(()), {}, EngineConfig(complements=1))
    for basket in ([bread, butter],) * 3 + ([bread, jam], [jam, tea]):
        fresh.learn(basket)
    assert engine.pair([bread], None, 5) == fresh.pair([bread], None, 5) != before


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
