"""Tests of the learned pairing engine (protocol._reco._engine): each scoring part on small
hand-made baskets, promotions, memory bounds, determinism and replay (restart)."""

from __future__ import annotations

import pytest

from protocol import (
    COMPLEMENT_RULES,
    Catalog,
    EngineConfig,
    Item,
    LocalProtocolError,
    Offer,
    PairingEngine,
    Product,
    Promotions,
    PurchaseUpload,
    Reason,
    Recommender,
    builtin_catalog,
)
from protocol._reco._engine import FEATURES, _count, _count_in

MERCHANT = "shop-1"
ALICE = "+8613800000001"
BOB = "+8613800000002"
CATALOG = builtin_catalog()
EMPTY = Catalog(())


def product(sku: str, category: str, brand: str = "Acme", colour: str = "") -> Product:
    return Product(
        sku=sku,
        name=f"{brand} {category} {colour}".strip(),
        category=category,
        brand=brand,
        colour=colour,
        price=5.0,
    )


def item(sku: str, category: str = "misc", brand: str = "Acme", colour: str = "") -> Item:
    return Item(
        sku=sku,
        name=f"{brand} {category} {sku}",
        category=category,
        brand=brand,
        colour=colour,
        quantity=1,
        price=5.0,
    )


def upload(*items: Item, phone: str = ALICE, receipt: str = "r-1") -> PurchaseUpload:
    return PurchaseUpload(
        receipt_id=receipt,
        merchant_id=MERCHANT,
        pos_id="pos-1",
        phone_id=phone,
        items=items,
        purchased_at=0.0,
    )


def builtin_item(name: str) -> Item:
    (found,) = [p for p in CATALOG.products if p.name == name]
    return CATALOG.to_item(found)


def skus(engine: PairingEngine, *items: Item, phone: str | None = None, k: int = 5) -> list[str]:
    return [p.sku for p in engine.pair(items, phone, k)]


# --------------------------------------------------------------------------- cold start


def test_is_a_recommender() -> None:
    recommender: Recommender = PairingEngine()
    products = recommender.associate(upload(builtin_item("Hydra Gentle Face Wash 150ml")), None, 5)
    assert len(products) == 5


def test_face_wash_gets_lotion_and_cream_from_the_rules() -> None:
    engine = PairingEngine()
    products = engine.associate(upload(builtin_item("Hydra Gentle Face Wash 150ml")), None, 4)
    assert products[0].category == "lotion"
    assert {p.category for p in products} >= {"lotion", "cream"}
    assert all(p.reason is Reason.COMPLEMENT for p in products)
    assert products[0].brand == "Hydra"  # brand affinity
    targets = {target for target, _ in COMPLEMENT_RULES["face-wash"]}
    assert {p.category for p in products} <= targets


def test_red_top_gets_matching_trousers() -> None:
    catalog = Catalog(
        (
            product("TOP-RED", "top", "Acme", "red"),
            product("TR-OLIVE", "trousers", "Other", "olive"),
            product("TR-DENIM", "trousers", "Other", "denim-blue"),
            product("TR-WHITE", "trousers", "Other", "white"),
            product("TR-RED", "trousers", "Other", "red"),
        )
    )
    engine = PairingEngine(catalog, {"top": [("trousers", 1.0)]}, EngineConfig(diversity=1.0))
    top = catalog.to_item(catalog.products[0])
    # red + denim is a classic pair, the same red tonal, white a neutral, olive clashes
    assert skus(engine, top) == ["TR-DENIM", "TR-RED", "TR-WHITE", "TR-OLIVE"]


def test_a_product_never_seen_is_paired_through_its_category() -> None:
    engine = PairingEngine(EMPTY, {})
    for n in range(6):
        engine.learn([item(f"P{n}", "pasta"), item("S1", "sauce")], None)
    fresh = item("P-NEW", "pasta")
    assert skus(engine, fresh)[0] == "S1"
    assert engine.pair([fresh], None, 1)[0].reason is Reason.COMPLEMENT


def test_an_unknown_category_gets_nothing_but_promotions() -> None:
    engine = PairingEngine()
    gadget = item("GADGET-1", "gadget")
    promotions = Promotions(MERCHANT, popular=("FOOD-WN-001",))
    products = engine.associate(upload(gadget), promotions, 5)
    assert [(p.sku, p.reason) for p in products] == [("FOOD-WN-001", Reason.POPULAR)]


# --------------------------------------------------------------------------- co-purchase


def test_co_purchase_learned_from_baskets_beats_the_rules() -> None:
    engine = PairingEngine()
    face_wash = builtin_item("Hydra Gentle Face Wash 150ml")
    sunscreen = builtin_item("Solara Daily Sunscreen SPF30 50ml")
    for n in range(20):
        engine.observe(upload(face_wash, sunscreen, receipt=f"r-{n}"))
    first = engine.pair([face_wash], None, 3)[0]
    assert (first.sku, first.reason) == (sunscreen.sku, Reason.CO_PURCHASE)


def test_strongest_neighbour_first() -> None:
    engine = PairingEngine(EMPTY, {})
    a, b, c = item("A"), item("B"), item("C")
    for _ in range(5):
        engine.learn([a, b], None)
    for _ in range(2):
        engine.learn([a, c], None)
    assert skus(engine, a) == ["B", "C"]
    scores = [p.score for p in engine.pair([a], None, 2)]
    assert scores[0] > scores[1] > 0


def test_a_basket_sums_its_products_evidence() -> None:
    engine = PairingEngine(EMPTY, {}, EngineConfig(category_prior=0.0))
    a, b, x, y = item("A"), item("B"), item("X"), item("Y")
    for _ in range(3):
        engine.learn([a, x], None)
        engine.learn([b, x], None)
    for _ in range(4):
        engine.learn([a, y], None)
    assert skus(engine, a, k=1) == ["Y"]
    assert skus(engine, a, b, k=1) == ["X"]  # backed by both products of the basket


# --------------------------------------------------------------------------- habits


def test_habits_bring_the_phones_repeat_purchases() -> None:
    engine = PairingEngine(EMPTY, {})
    coffee = item("COFFEE", "coffee")
    for n in range(5):
        engine.learn([coffee, item(f"X{n}", "misc")], ALICE)
    bread = item("BREAD", "bread")
    alice = engine.pair([bread], ALICE, 3)
    assert (alice[0].sku, alice[0].reason) == ("COFFEE", Reason.HABIT)
    assert engine.pair([bread], None, 3) == []  # no habits asked: nothing known
    assert engine.pair([bread], BOB, 3) == []  # another phone's habits are not Bob's


def test_private_label_buyer_gets_private_label() -> None:
    engine = PairingEngine(EMPTY, {})
    bread = item("BREAD", "bread", "National")
    butter_national = item("BUTTER-N", "butter", "National")
    butter_private = item("BUTTER-P", "butter", "Private")
    for n in range(4):  # others buy both butters with bread, equally
        engine.learn([bread, butter_national], None)
        engine.learn([bread, butter_private], None)
        engine.learn([item(f"PL{n}", "misc", "Private")], ALICE)  # Alice buys private label
        engine.learn([item(f"NB{n}", "misc", "National")], BOB)
    assert skus(engine, bread, phone=ALICE, k=2) == ["BUTTER-P", "BUTTER-N"]
    assert skus(engine, bread, phone=BOB, k=2) == ["BUTTER-N", "BUTTER-P"]


def test_colour_habit_prefers_the_phones_colours() -> None:
    engine = PairingEngine(EMPTY, {})
    bag = item("BAG", "bag")
    for n in range(3):
        engine.learn([bag, item("CUP-PINK", "cup", colour="pink")], None)
        engine.learn([bag, item("CUP-BLUE", "cup", colour="blue")], None)
        engine.learn([item(f"PINK{n}", "misc", colour="pink")], ALICE)
    assert skus(engine, bag, phone=ALICE, k=1) == ["CUP-PINK"]


def test_learning_habits_only_leaves_the_co_purchase_model_alone() -> None:
    engine = PairingEngine(EMPTY, {})
    a, b = item("A"), item("B")
    engine.learn([a, b], None)
    before = engine.pair([a], None, 5)
    engine.learn([a, item("C")], ALICE, co_purchase=False)
    assert engine.baskets == 1
    assert engine.pair([a], None, 5) == before
    assert "C" in skus(engine, a, phone=ALICE)


# --------------------------------------------------------------------------- promotions


def test_promotions_are_appended_and_marked() -> None:
    engine = PairingEngine()
    face_wash = builtin_item("Hydra Gentle Face Wash 150ml")
    wine = builtin_item("Vineyard Hill Chianti 750ml")
    cheese = builtin_item("Alpine Dairy Gruyere 200g")
    promotions = Promotions(
        MERCHANT,
        popular=("NOT-KNOWN", wine.sku, face_wash.sku, wine.sku),
        offers=(Offer(cheese.sku, "20% off", 3.59),),
    )
    products = engine.associate(upload(face_wash), promotions, 3)
    assert [p.reason for p in products] == [Reason.COMPLEMENT] * 3 + [Reason.OFFER, Reason.POPULAR]
    assert (products[3].sku, products[3].offer, products[3].price) == (cheese.sku, "20% off", 3.59)
    assert products[4].sku == wine.sku  # unknown, basket and repeated SKUs skipped


def test_promotions_are_capped_and_a_ranked_offer_keeps_its_place() -> None:
    engine = PairingEngine()
    face_wash = upload(builtin_item("Hydra Gentle Face Wash 150ml"))
    first = engine.associate(face_wash, None, 2)
    popular = tuple(p.sku for p in CATALOG.in_category("wine"))
    offer = Offer(first[0].sku, "2 for 1", 1.0)
    products = engine.associate(face_wash, Promotions(MERCHANT, popular, (offer,)), 2)
    assert [p.sku for p in products] == [first[0].sku, first[1].sku, *popular[:2]]
    assert (products[0].reason, products[0].offer, products[0].price) == (
        Reason.COMPLEMENT,
        "2 for 1",
        1.0,
    )


def test_bad_limit_and_foreign_promotions_are_refused() -> None:
    engine = PairingEngine()
    purchase = upload(builtin_item("Hydra Gentle Face Wash 150ml"))
    assert engine.associate(purchase, Promotions(MERCHANT, ("FOOD-WN-001",)), 0) == ()
    with pytest.raises(LocalProtocolError, match="limit"):
        engine.associate(purchase, None, -1)
    with pytest.raises(LocalProtocolError, match="merchant"):
        engine.associate(purchase, Promotions("shop-2"), 5)


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("neighbours", 0, "EngineConfig.neighbours: must be at least 1, got 0"),
        ("habit_items", True, "habit_items: expected a whole number, got True"),
        ("category_prior", -1.0, "category_prior: must be at least 0, got -1.0"),
        ("habit_weight", float("nan"), "habit_weight: must be a finite number, got nan"),
        ("diversity", 1.5, "diversity: must be a fraction from 0 to 1, got 1.5"),
        ("refresh_every", 0, "refresh_every: must be at least 1, got 0"),
        ("recency_weight", "1", "recency_weight: expected a number, got '1'"),
    ],
)
def test_bad_configuration_is_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        EngineConfig(**{field: value})  # type: ignore[arg-type]  # ill-typed on purpose


def test_bad_rule_weight_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="weight of rule 'top' -> 'trousers'"):
        PairingEngine(rules={"top": [("trousers", 0.0)]})


# --------------------------------------------------------------------------- memory bounds


def test_memory_stays_bounded() -> None:
    config = EngineConfig(neighbours=4, category_neighbours=3, habit_items=5, category_best=2)
    engine = PairingEngine(EMPTY, {}, config)
    hub = item("HUB", "hub")
    for n in range(200):
        engine.learn([hub, item(f"P{n}", f"cat{n % 50}")], ALICE)
    rows = engine._pair_counts
    assert max(len(rows.row(i)) for i in range(engine.products)) <= 2 * config.neighbours
    related = engine._category_counts
    kinds = range(len(engine._categories))
    assert max(len(related.row(c)) for c in kinds) <= 2 * config.category_neighbours
    assert max(len(c.best) for c in engine._categories) <= config.category_best
    habits = engine._habits[ALICE]
    assert len(habits.items) <= 2 * config.habit_items
    assert len(habits.categories) <= 2 * config.habit_items
    assert set(habits.last) == set(habits.items)
    assert len(engine.pair([hub], ALICE, 5)) == 5


def test_big_baskets_pair_each_product_with_a_bounded_symmetric_sample() -> None:
    engine = PairingEngine(EMPTY, {}, EngineConfig(basket_partners=8, neighbours=1000))
    products = [item(f"P{n:03d}") for n in range(100)]
    engine.learn(products, None)
    rows = [engine._pair_counts.row(i) for i in range(engine.products)]
    ids = [engine._ids[p.sku] for p in products]
    sizes = [len(rows[i]) for i in ids]
    assert max(sizes) < 40 and sum(sizes) / len(sizes) <= 12
    for i in ids:
        for j in rows[i]:
            assert rows[j][i] == rows[i][j] == 1


def test_the_phones_categories_weigh_its_candidates() -> None:
    config = EngineConfig(habit_category_weight=1.0)
    engine = PairingEngine(EMPTY, {}, config)
    bread = item("BREAD", "bread")
    for _ in range(3):  # others buy bread with two butters equally
        engine.learn([bread, item("BUTTER-1", "butter")], None)
        engine.learn([bread, item("JAM-1", "jam")], None)
    for n in range(4):  # Alice buys jams, never these
        engine.learn([item(f"JAM-{n + 2}", "jam")], ALICE)
    assert skus(engine, bread, k=1) == ["BUTTER-1"]  # tie: by SKU
    assert skus(engine, bread, phone=ALICE, k=1)[0].startswith("JAM")
    plain = PairingEngine(EMPTY, {}, EngineConfig(habit_category_weight=0.0, habit_weight=0.0))
    for _ in range(3):
        plain.learn([bread, item("BUTTER-1", "butter")], None)
        plain.learn([bread, item("JAM-1", "jam")], None)
    for n in range(4):
        plain.learn([item(f"JAM-{n + 2}", "jam")], ALICE)
    assert skus(plain, bread, phone=ALICE, k=1) == ["BUTTER-1"]


def test_recency_prefers_what_the_phone_bought_last() -> None:
    config = EngineConfig(habit_weight=0.0, recency_weight=1.0)
    engine = PairingEngine(EMPTY, {}, config)
    engine.learn([item("OLD", "a")], ALICE)
    engine.learn([item("NEW", "b")], ALICE)
    assert skus(engine, item("ASKED", "c"), phone=ALICE) == ["NEW", "OLD"]
    scores = [p.score for p in engine.pair([item("ASKED", "c")], ALICE, 2)]
    # 1 / (1 + baskets since), plus the brand part: every line Alice bought was Acme
    assert scores == pytest.approx([1.0 + 0.1, 0.5 + 0.1])


def test_the_decayed_share_counts_recent_baskets_more() -> None:
    config = EngineConfig(habit_weight=0.0, decayed_weight=1.0, brand_weight=0.0, decay=0.5)
    engine = PairingEngine(EMPTY, {}, config)
    for sku in ("X", "X", "Y", "Y", "Z"):
        engine.learn([item(sku, sku.lower())], ALICE)
    # X: 0.5 ** 4 + 0.5 ** 3, Y: 0.5 ** 2 + 0.5, Z: 1, over 1 + 0.5 + ... + 0.5 ** 4
    total = sum(0.5**k for k in range(5))
    expected = [1 / total, (0.25 + 0.5) / total, (0.0625 + 0.125) / total]
    found = engine.pair([item("ASKED", "a")], ALICE, 3)
    assert [p.sku for p in found] == ["Z", "Y", "X"]
    assert [p.score for p in found] == pytest.approx(expected)
    assert all(p.reason is Reason.HABIT for p in found)


def test_learning_reads_any_iterable_once_and_interns_new_products_in_line_order() -> None:
    lines = [item("K1", "a"), item("NEW2", "b"), item("K1", "a"), item("NEW1", "c")]
    engine = PairingEngine(EMPTY, {})
    engine.learn([item("K1", "a")], ALICE)
    engine.learn(iter(lines), ALICE)  # an iterator: read once
    assert [p.sku for p in engine._products] == ["K1", "NEW2", "NEW1"]
    assert engine._counts.tolist() == [2, 1, 1]
    assert engine._pair_counts.row(0) == {1: 1, 2: 1}
    assert engine._habits[ALICE].items == {0: 2, 1: 1, 2: 1}
    assert engine._habits[ALICE].last == {0: 1, 1: 1, 2: 1}
    engine.learn((), ALICE)  # nothing to learn
    assert engine.baskets == 2


def test_weights_in_the_order_of_the_features() -> None:
    config = EngineConfig()
    assert len(config.weights) == len(FEATURES)
    changed = config.with_weights(range(len(FEATURES)))
    assert changed.weights == tuple(float(n) for n in range(len(FEATURES)))
    assert changed.recency_weight == FEATURES.index("recency")
    with pytest.raises(LocalProtocolError, match=f"{len(FEATURES)} weights, got 2"):
        config.with_weights([1.0, 2.0])


def test_the_counting_loop_matches_its_python_fallback() -> None:
    fast: dict[int, int] = {5: 2, 1: 1}
    slow = dict(fast)
    _count(fast, [3, 1, 7, 3])
    _count_in(slow, [3, 1, 7, 3])
    assert list(fast.items()) == list(slow.items()) == [(5, 2), (1, 2), (3, 2), (7, 1)]
