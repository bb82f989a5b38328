"""Tests of the recommender interface and the rule recommender (protocol._reco._recommender)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol._core._errors import LocalProtocolError
from protocol._core._messages import (
    MAX_PRODUCTS_PER_DELIVERY,
    AssociatedProduct,
    AssociationResponse,
    Item,
    Offer,
    PromotionUpdate,
    PurchaseUpload,
    Reason,
)
from protocol._reco._catalog import DEPARTMENTS, Catalog, Product, builtin_catalog
from protocol._reco._recommender import (
    BRAND_BONUS,
    COLOUR_CLASSIC_PAIR_BONUS,
    COLOUR_NEUTRAL_BONUS,
    COLOUR_NEUTRAL_PAIR_BONUS,
    COLOUR_SAME_BONUS,
    COMPLEMENT_RULES,
    DIVERSITY_DECAY,
    NEUTRAL_COLOURS,
    PROMOTION_SCORE,
    Promotions,
    Recommender,
    RuleRecommender,
    colour_affinity,
)
from tests.builders import ALICE, catalog_item

CATALOG = builtin_catalog()
RECOMMENDER = RuleRecommender()
MERCHANT = "shop-1"


def _sku(name: str) -> str:
    """The SKU of the built-in product called *name*."""
    (product,) = [p for p in CATALOG.products if p.name == name]
    return product.sku


def _purchase(*items: Item, merchant_id: str = MERCHANT) -> PurchaseUpload:
    return PurchaseUpload(
        receipt_id="r-1",
        merchant_id=merchant_id,
        pos_id="pos-1",
        phone_id=ALICE,
        items=items,
        purchased_at=0.0,
    )


def _buy(*skus: str) -> PurchaseUpload:
    return _purchase(*(catalog_item(sku) for sku in skus))


def _categories(products: tuple[AssociatedProduct, ...]) -> list[str]:
    return [p.category for p in products]


def _product(sku: str, category: str, brand: str, colour: str = "") -> Product:
    return Product(
        sku=sku,
        name=f"{brand} {category} {colour}".strip(),
        category=category,
        brand=brand,
        colour=colour,
        price=10.0,
    )


# --------------------------------------------------------------------------- rules


def test_recommender_protocol_is_satisfied() -> None:
    recommender: Recommender = RuleRecommender()
    assert recommender.associate(_buy("SKIN-FW-001"), None, 3)


def test_every_catalog_category_has_a_rule_to_catalog_categories() -> None:
    for category in CATALOG.categories():
        assert COMPLEMENT_RULES.get(category), category
    for source, complements in COMPLEMENT_RULES.items():
        assert source in CATALOG.categories()
        targets = [target for target, _ in complements]
        assert len(targets) == len(set(targets)), source
        for target, weight in complements:
            assert target in CATALOG.categories(), (source, target)
            assert 0.0 < weight <= 1.0
            assert target != source


def test_rules_stay_within_a_department() -> None:
    department_of = {c: d for d, cs in DEPARTMENTS.items() for c in cs}
    for source, complements in COMPLEMENT_RULES.items():
        for target, _ in complements:
            assert department_of[source] == department_of[target], (source, target)


def test_patent_rules() -> None:
    def targets(category: str) -> set[str]:
        return {target for target, _ in COMPLEMENT_RULES[category]}

    assert {"lotion", "cream"} <= targets("face-wash")
    for clothing in ("top", "shirt", "jacket"):
        assert {"trousers", "skirt", "shoes"} <= targets(clothing)
    assert {"trousers", "skirt", "jeans", "shoes"} <= targets("top")
    assert {"pasta-sauce", "cheese", "wine"} <= targets("pasta")
    assert {"butter", "jam", "cheese"} <= targets("bread")
    assert {"milk", "biscuits"} <= targets("coffee")
    assert {"potatoes", "salad", "wine"} <= targets("steak")


def test_invalid_rule_weights_are_refused() -> None:
    for weight in (0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(LocalProtocolError, match="weight of 'top' -> 'trousers'"):
            RuleRecommender(rules={"top": [("trousers", weight)]})


def test_promotions_from_update() -> None:
    offer = Offer(sku="SKIN-LO-001", description="2 for 1", price=4.0)
    update = PromotionUpdate(merchant_id=MERCHANT, popular=("FOOD-WN-001",), offers=(offer,))
    assert Promotions.from_update(update) == Promotions(MERCHANT, ("FOOD-WN-001",), (offer,))
    assert Promotions(MERCHANT) == Promotions(MERCHANT, (), ())


# --------------------------------------------------------------------------- colour


def test_colour_affinity_table() -> None:
    assert colour_affinity("", "navy") == 0.0
    assert colour_affinity("red", "") == 0.0
    assert colour_affinity("", "") == 0.0
    assert colour_affinity("red", "red") == COLOUR_SAME_BONUS
    assert colour_affinity("navy", "white") == COLOUR_CLASSIC_PAIR_BONUS
    assert colour_affinity("denim-blue", "white") == COLOUR_CLASSIC_PAIR_BONUS
    assert colour_affinity("olive", "beige") == COLOUR_CLASSIC_PAIR_BONUS
    assert colour_affinity("navy", "beige") == COLOUR_NEUTRAL_PAIR_BONUS
    assert colour_affinity("navy", "red") == COLOUR_NEUTRAL_BONUS
    assert colour_affinity("red", "olive") == 0.0
    assert colour_affinity("purple", "orange") == 0.0
    assert colour_affinity("purple", "black") == COLOUR_NEUTRAL_BONUS
    assert {"white", "black", "grey", "beige", "navy"} <= NEUTRAL_COLOURS
    assert COLOUR_CLASSIC_PAIR_BONUS >= COLOUR_NEUTRAL_PAIR_BONUS > COLOUR_NEUTRAL_BONUS > 0


COLOURS = st.sampled_from(
    ["", "navy", "white", "black", "beige", "grey", "red", "olive", "denim-blue", "pink"]
)


@given(COLOURS, COLOURS)
def test_colour_affinity_is_symmetric_and_bounded(a: str, b: str) -> None:
    assert colour_affinity(a, b) == colour_affinity(b, a)
    assert 0.0 <= colour_affinity(a, b) <= COLOUR_CLASSIC_PAIR_BONUS
    if a in NEUTRAL_COLOURS and b:
        assert colour_affinity(a, b) > 0.0  # neutrals go with everything


# --------------------------------------------------------------------------- the patent's examples


def test_face_wash_gets_lotion_and_cream_first() -> None:
    products = RECOMMENDER.associate(_buy(_sku("Hydra Gentle Face Wash 150ml")), None, 10)
    assert len(products) == 10
    assert set(_categories(products[:2])) == {"lotion", "cream"}
    assert products[0].category == "lotion"
    assert all(p.reason is Reason.COMPLEMENT for p in products)
    # brand affinity: Hydra's own lotion and cream lead
    assert products[0].brand == products[1].brand == "Hydra"
    assert products[0].score == round(1.0 + BRAND_BONUS, 4)
    assert set(_categories(products)) <= {"lotion", "cream", "toner", "serum", "sunscreen"}


def test_top_gets_trousers_skirt_and_shoes() -> None:
    for name in ("Crew-Neck Tee navy", "Relaxed Knit Top beige", "Breton Stripe Top red"):
        products = RECOMMENDER.associate(_buy(_sku(name)), None, 8)
        top_categories = set(_categories(products))
        assert {"trousers", "skirt", "shoes"} <= top_categories, name
        assert products[0].category == "trousers", name
        assert top_categories <= set(DEPARTMENTS["clothing"])


def test_jacket_gets_trousers_skirt_and_shoes() -> None:
    products = RECOMMENDER.associate(_buy(_sku("Field Jacket olive")), None, 8)
    assert {"trousers", "skirt", "shoes"} <= set(_categories(products))
    assert products[0].category == "trousers"


def test_pasta_gets_sauce_and_cheese() -> None:
    products = RECOMMENDER.associate(_buy(_sku("Nonna Rosa Penne 500g")), None, 6)
    assert products[0].category == "pasta-sauce"
    assert products[0].brand == "Nonna Rosa"
    assert {"pasta-sauce", "cheese", "wine"} <= set(_categories(products))


def test_other_foods() -> None:
    steak = RECOMMENDER.associate(_buy(_sku("Butcher's Block Ribeye Steak 250g")), None, 5)
    assert {"potatoes", "salad", "wine"} <= set(_categories(steak))
    coffee = RECOMMENDER.associate(_buy(_sku("Highland Roast Espresso Beans 250g")), None, 2)
    assert _categories(coffee) == ["milk", "biscuits"]
    bread = RECOMMENDER.associate(_buy(_sku("Hearth & Mill Sourdough Loaf 400g")), None, 5)
    assert set(_categories(bread[:2])) == {"butter", "jam"}
    assert set(_categories(bread)) == {"butter", "jam", "cheese"}


def test_mixed_basket_serves_every_department() -> None:
    purchase = _buy(
        _sku("Hydra Gentle Face Wash 150ml"),
        _sku("Crew-Neck Tee navy"),
        _sku("Nonna Rosa Penne 500g"),
    )
    products = RECOMMENDER.associate(purchase, None, 9)
    categories = set(_categories(products))
    assert categories & {"lotion", "cream"}
    assert categories & {"trousers", "skirt"}
    assert "pasta-sauce" in categories


# --------------------------------------------------------------------------- colour and brand


def test_colour_affinity_orders_same_brand_trousers() -> None:
    # Navy Breton top by Northline; Northline's chinos come in white, beige and red.
    purchase = _buy(_sku("Breton Stripe Top navy"))
    products = RECOMMENDER.associate(purchase, None, 60)
    order = [p.sku for p in products]
    white = order.index(_sku("Slim Chino Trousers white"))
    beige = order.index(_sku("Slim Chino Trousers beige"))
    red = order.index(_sku("Slim Chino Trousers red"))
    assert white < beige < red


def test_colour_affinity_orders_candidates_exactly() -> None:
    catalog = Catalog(
        (
            _product("TOP-1", "top", "Acme", "navy"),
            _product("TR-RED", "trousers", "Other", "red"),
            _product("TR-BEIGE", "trousers", "Other", "beige"),
            _product("TR-WHITE", "trousers", "Other", "white"),
            _product("TR-PLAIN", "trousers", "Other", ""),
        )
    )
    recommender = RuleRecommender(catalog, {"top": [("trousers", 1.0)]})
    products = recommender.associate(_purchase(catalog_item("TOP-1", catalog)), None, 4)
    assert [p.sku for p in products] == ["TR-WHITE", "TR-BEIGE", "TR-RED", "TR-PLAIN"]
    assert products[0].score == 1.0 + COLOUR_CLASSIC_PAIR_BONUS
    d = DIVERSITY_DECAY
    assert products[1].score == round((1.0 + COLOUR_NEUTRAL_PAIR_BONUS) * d, 4)
    assert products[2].score == round((1.0 + COLOUR_NEUTRAL_BONUS) * d * d, 4)
    assert products[3].score == round(1.0 * d**3, 4)


def test_brand_affinity_ranks_same_brand_first() -> None:
    catalog = Catalog(
        (
            _product("FW-1", "face-wash", "Hydra"),
            _product("LO-A", "lotion", "Aqualis"),
            _product("LO-H", "lotion", "Hydra"),
            _product("LO-Z", "lotion", "Zest"),
        )
    )
    recommender = RuleRecommender(catalog, {"face-wash": [("lotion", 0.5)]})
    products = recommender.associate(_purchase(catalog_item("FW-1", catalog)), None, 3)
    assert [p.sku for p in products] == ["LO-H", "LO-A", "LO-Z"]  # then ties by SKU
    assert products[0].score == 0.5 + BRAND_BONUS


def test_brand_affinity_in_builtin_catalog() -> None:
    for name, brand in (
        ("Aqualis Foaming Face Wash 150ml", "Aqualis"),
        ("Verdant Botanics Clarifying Gel Cleanser 150ml", "Verdant Botanics"),
    ):
        products = RECOMMENDER.associate(_buy(_sku(name)), None, 2)
        assert [p.brand for p in products] == [brand, brand]
        assert {p.category for p in products} == {"lotion", "cream"}


def test_diversity_mixes_categories() -> None:
    products = RECOMMENDER.associate(_buy(_sku("Nonna Rosa Penne 500g")), None, 4)
    assert len(set(_categories(products))) >= 2
    scores = [p.score for p in products]
    assert scores == sorted(scores, reverse=True)


def test_best_item_of_the_basket_counts() -> None:
    # Two tops: each trousers candidate takes its best score over both.
    catalog = Catalog(
        (
            _product("TOP-N", "top", "Acme", "navy"),
            _product("TOP-R", "top", "Other", "red"),
            _product("TR-1", "trousers", "Other", "red"),
        )
    )
    recommender = RuleRecommender(catalog, {"top": [("trousers", 0.5)]})
    basket = _purchase(catalog_item("TOP-N", catalog), catalog_item("TOP-R", catalog))
    (product,) = recommender.associate(basket, None, 5)
    assert product.score == 0.5 + COLOUR_SAME_BONUS + BRAND_BONUS


# --------------------------------------------------------------------------- edges


def test_unknown_category_gets_promotions_only() -> None:
    gadget = Item(
        sku="GADGET-1",
        name="Phone Charger",
        category="gadget",
        brand="Volt",
        colour="black",
        quantity=1,
        price=19.0,
    )
    promotions = Promotions(MERCHANT, popular=("FOOD-WN-001",))
    products = RECOMMENDER.associate(_purchase(gadget), promotions, 5)
    assert [(p.sku, p.reason) for p in products] == [("FOOD-WN-001", Reason.POPULAR)]
    assert RECOMMENDER.associate(_purchase(gadget), None, 5) == ()


def test_basket_skus_are_never_recommended() -> None:
    # Trousers + top: each is a complement of the other.
    purchase = _buy(_sku("Slim Chino Trousers navy"), _sku("Crew-Neck Tee white"))
    basket = {item.sku for item in purchase.items}
    products = RECOMMENDER.associate(purchase, None, 100)
    assert products
    assert not basket & {p.sku for p in products}


def test_limit_zero_and_negative() -> None:
    promotions = Promotions(MERCHANT, popular=("FOOD-WN-001",))
    assert RECOMMENDER.associate(_buy("SKIN-FW-001"), promotions, 0) == ()
    with pytest.raises(LocalProtocolError, match="limit"):
        RECOMMENDER.associate(_buy("SKIN-FW-001"), None, -1)


def test_promotions_of_another_merchant_are_refused() -> None:
    with pytest.raises(LocalProtocolError, match="merchant"):
        RECOMMENDER.associate(_buy("SKIN-FW-001"), Promotions("shop-2"), 5)


def test_observe_changes_nothing() -> None:
    recommender = RuleRecommender()
    purchase = _buy(_sku("Crew-Neck Tee navy"))
    before = recommender.associate(purchase, None, 10)
    for _ in range(3):
        recommender.observe(purchase)
    assert recommender.associate(purchase, None, 10) == before


def test_quantity_and_repeated_lines_do_not_matter() -> None:
    once = RECOMMENDER.associate(_buy("FOOD-PA-001"), None, 8)
    twice = RECOMMENDER.associate(
        _purchase(catalog_item("FOOD-PA-001", quantity=3), catalog_item("FOOD-PA-001")), None, 8
    )
    assert once == twice


# --------------------------------------------------------------------------- promotions


def test_promotions_follow_ranked_products() -> None:
    wine, cheese = _sku("Vineyard Hill Chianti 750ml"), _sku("Alpine Dairy Gruyere 200g")
    promotions = Promotions(
        MERCHANT,
        popular=("NOT-IN-CATALOG", wine, "SKIN-FW-001", wine, "CLTH-TP-001"),
        offers=(Offer(sku=cheese, description="20% off", price=3.59),),
    )
    products = RECOMMENDER.associate(_buy("SKIN-FW-001"), promotions, 3)
    assert [p.reason for p in products] == [Reason.COMPLEMENT] * 3 + [
        Reason.OFFER,
        Reason.POPULAR,
        Reason.POPULAR,
    ]
    offer, popular = products[3], products[4]
    assert (offer.sku, offer.offer, offer.price, offer.score) == (
        cheese,
        "20% off",
        3.59,
        PROMOTION_SCORE,
    )
    assert (popular.sku, popular.offer, popular.name) == (wine, None, "Vineyard Hill Chianti 750ml")
    assert products[5].sku == "CLTH-TP-001"  # the basket SKU and the repeat were skipped


def test_promotions_are_capped_at_limit() -> None:
    popular = tuple(p.sku for p in CATALOG.in_category("wine"))
    products = RECOMMENDER.associate(_buy("SKIN-FW-001"), Promotions(MERCHANT, popular), 2)
    assert len(products) == 4
    assert [p.sku for p in products[2:]] == list(popular[:2])


def test_ranked_product_on_offer_carries_the_offer() -> None:
    first = RECOMMENDER.associate(_buy("SKIN-FW-001"), None, 3)
    offer = Offer(sku=first[0].sku, description="2 for 1", price=1.0)
    promotions = Promotions(MERCHANT, popular=(first[0].sku,), offers=(offer,))
    products = RECOMMENDER.associate(_buy("SKIN-FW-001"), promotions, 3)
    assert [p.sku for p in products] == [p.sku for p in first]  # not listed twice
    assert products[0].reason is Reason.COMPLEMENT
    assert (products[0].offer, products[0].price) == ("2 for 1", 1.0)
    assert products[1:] == first[1:]


# --------------------------------------------------------------------------- properties

FOREIGN = Item(
    sku="GADGET-1",
    name="Phone Charger",
    category="gadget",
    brand="Volt",
    colour="black",
    quantity=1,
    price=19.0,
)
SKUS = st.sampled_from([p.sku for p in CATALOG.products] + ["NOT-IN-CATALOG", "GADGET-1"])


@st.composite
def purchases(draw: st.DrawFn) -> PurchaseUpload:
    products = draw(
        st.lists(st.sampled_from(CATALOG.products), min_size=1, max_size=6, unique=True)
    )
    items = [CATALOG.to_item(p, draw(st.integers(1, 3))) for p in products]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), FOREIGN)
    return _purchase(*items)


@st.composite
def promotion_sets(draw: st.DrawFn) -> Promotions | None:
    if draw(st.booleans()):
        return None
    offers = draw(
        st.lists(
            st.builds(Offer, sku=SKUS, description=st.just("special"), price=st.floats(0.5, 50.0)),
            max_size=6,
        )
    )
    return Promotions(MERCHANT, tuple(draw(st.lists(SKUS, max_size=8))), tuple(offers))


LIMITS = st.integers(min_value=0, max_value=20)


@settings(max_examples=200)
@given(purchases(), promotion_sets(), LIMITS)
def test_associate_properties(
    purchase: PurchaseUpload, promotions: Promotions | None, limit: int
) -> None:
    products = RECOMMENDER.associate(purchase, promotions, limit)
    skus = [p.sku for p in products]
    basket = {item.sku for item in purchase.items}
    # never a basket SKU, never a SKU twice, only catalog products
    assert not basket & set(skus)
    assert len(skus) == len(set(skus))
    assert all(CATALOG.by_sku(sku) is not None for sku in skus)
    # ranked products first, then at most `limit` promotions
    ranked = [p for p in products if not p.reason.is_promotion]
    promoted = [p for p in products if p.reason.is_promotion]
    assert products == (*ranked, *promoted)
    assert len(ranked) <= limit
    assert len(promoted) <= limit
    assert all(p.reason is Reason.COMPLEMENT for p in ranked)
    # best first, ties by SKU
    keys = [(-p.score, p.sku) for p in ranked]
    assert keys == sorted(keys)
    # every ranked product complements something in the basket
    basket_categories = {item.category for item in purchase.items}
    for p in ranked:
        assert any(
            p.category == target
            for source in basket_categories
            for target, _ in COMPLEMENT_RULES.get(source, ())
        )
    # promotions are the merchant's, marked as such
    for p in promoted:
        assert promotions is not None
        if p.reason is Reason.OFFER:
            offer = next(o for o in promotions.offers if o.sku == p.sku)
            assert (p.offer, p.price) == (offer.description, offer.price)
        else:
            assert p.sku in promotions.popular
            assert p.offer is None
    # the answer fits in a response
    if len(products) <= MAX_PRODUCTS_PER_DELIVERY:
        AssociationResponse(request_id=1, receipt_id="r-1", products=products, merchant_id="shop-a")


@given(purchases(), promotion_sets(), LIMITS)
def test_associate_is_deterministic(
    purchase: PurchaseUpload, promotions: Promotions | None, limit: int
) -> None:
    first = RECOMMENDER.associate(purchase, promotions, limit)
    assert RuleRecommender().associate(purchase, promotions, limit) == first
    reordered = _purchase(*reversed(purchase.items))
    assert RECOMMENDER.associate(reordered, promotions, limit) == first


@given(purchases(), st.integers(min_value=0, max_value=15))
def test_a_longer_answer_extends_a_shorter_one(purchase: PurchaseUpload, limit: int) -> None:
    shorter = RECOMMENDER.associate(purchase, None, limit)
    longer = RECOMMENDER.associate(purchase, None, limit + 1)
    assert longer[: len(shorter)] == shorter
    assert len(shorter) <= len(longer) <= len(shorter) + 1


# --------------------------------------------------------------------------- the reference


def _reference_ranking(
    recommender: RuleRecommender, purchase: PurchaseUpload, limit: int
) -> list[tuple[str, float]]:
    """The ranking of the class docstring computed the plain way: score every candidate
    of every basket item's complementary categories (best over the basket), drop the
    basket's SKUs, decay the n-th of each category, merge, take *limit*."""
    best: dict[str, dict[str, int]] = {}
    for item in purchase.items:
        for category, weight in COMPLEMENT_RULES.get(item.category, ()):
            scores = best.setdefault(category, {})
            for product in recommender.catalog.in_category(category):
                score = round(weight * 10_000) + round(
                    colour_affinity(item.colour, product.colour) * 10_000 if item.colour else 0
                )
                if product.brand == item.brand:
                    score += round(BRAND_BONUS * 10_000)
                if score > scores.get(product.sku, 0):
                    scores[product.sku] = score
    basket = {item.sku for item in purchase.items}
    ranked: list[tuple[int, str]] = []
    for scores in best.values():
        ordered = sorted((-score, sku) for sku, score in scores.items() if sku not in basket)
        floor: int | None = None
        for n, (negative, sku) in enumerate(ordered):
            key = round(negative * DIVERSITY_DECAY**n)
            floor = key if floor is None or key >= floor else floor
            ranked.append((floor, sku))
    return [(sku, -key / 10_000) for key, sku in sorted(ranked)[:limit]]


COLOURED_ITEMS = st.builds(
    lambda product, colour, brand, quantity: Item(
        product.sku, product.name, product.category, brand, colour, quantity, product.price
    ),
    st.sampled_from(CATALOG.products),
    st.sampled_from([*sorted({p.colour for p in CATALOG.products}), "", "mauve"]),
    st.sampled_from([*sorted({p.brand for p in CATALOG.products}), "Nobody"]),
    st.integers(1, 3),
)


@settings(max_examples=300)
@given(st.lists(COLOURED_ITEMS, min_size=1, max_size=8), LIMITS, st.booleans())
def test_ranking_is_the_plain_computation_of_the_docstring(
    items: list[Item], limit: int, fresh: bool
) -> None:
    # Kept candidates per (category, brand, colour) profile change nothing: a fresh
    # recommender and one that has answered many baskets give the reference's answer.
    recommender = RuleRecommender() if fresh else RECOMMENDER
    purchase = _purchase(*{item.sku: item for item in items}.values())
    answer = recommender.associate(purchase, None, limit)
    assert [(p.sku, p.score) for p in answer] == _reference_ranking(recommender, purchase, limit)


def _top_candidates(item: Item, count: int) -> list[Item]:
    """The *count* best candidates the reference ranks for a basket of *item* alone."""
    ranked = _reference_ranking(RECOMMENDER, _purchase(item), count)
    return [catalog_item(sku) for sku, _ in ranked]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_ranking_with_the_best_candidates_in_the_basket_is_the_reference(limit: int) -> None:
    # The basket holds the best candidates of its first item, and a second product of that
    # item's category (another profile for the same complementary categories): what is
    # ranked comes from further down each category, merged over both profiles.
    for product in CATALOG.products:
        first = CATALOG.to_item(product, 1)
        others = [p for p in CATALOG.in_category(product.category) if p.sku != product.sku]
        items = [first, *_top_candidates(first, 3), *[CATALOG.to_item(p, 1) for p in others[:1]]]
        purchase = _purchase(*{item.sku: item for item in items}.values())
        answer = RECOMMENDER.associate(purchase, None, limit)
        assert [(p.sku, p.score) for p in answer] == _reference_ranking(
            RECOMMENDER, purchase, limit
        ), product.sku
