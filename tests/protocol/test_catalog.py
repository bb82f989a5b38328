"""Tests of the built-in product catalog (protocol._reco._catalog)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol._core._errors import InvalidMessage, LocalProtocolError
from protocol._core._ids import is_token
from protocol._core._messages import MAX_PRICE, AssociatedProduct, Item, Offer, Reason
from protocol._reco._catalog import (
    DEPARTMENTS,
    Catalog,
    Product,
    associated_product,
    builtin_catalog,
)

CATALOG = builtin_catalog()
CLOTHING_COLOURS = {
    "navy",
    "white",
    "black",
    "beige",
    "grey",
    "red",
    "olive",
    "denim-blue",
    "brown",
}
SKU_SHAPE = re.compile(r"(SKIN|CLTH|FOOD)-[A-Z]{2}-[0-9]{3}")
DEPARTMENT_CODES = {"skin-care": "SKIN", "clothing": "CLTH", "food": "FOOD"}


def _product(sku: str, category: str = "lotion", brand: str = "Hydra") -> Product:
    return Product(
        sku=sku, name=f"{brand} {category}", category=category, brand=brand, colour="", price=1.0
    )


def test_size_and_categories() -> None:
    assert 300 <= len(CATALOG) <= 450
    assert len(CATALOG.categories()) >= 24
    assert list(CATALOG.categories()) == sorted(CATALOG.categories())
    assert sum(len(CATALOG.in_category(c)) for c in CATALOG.categories()) == len(CATALOG)


def test_departments_partition_the_categories() -> None:
    assert set(DEPARTMENTS) == {"skin-care", "clothing", "food"}
    every = [category for categories in DEPARTMENTS.values() for category in categories]
    assert len(every) == len(set(every))
    assert sorted(every) == list(CATALOG.categories())
    assert {"face-wash", "lotion", "cream", "toner", "serum"} <= set(DEPARTMENTS["skin-care"])
    assert {"top", "jacket", "trousers", "skirt", "shoes"} <= set(DEPARTMENTS["clothing"])
    assert {"pasta", "pasta-sauce", "cheese", "wine", "bread"} <= set(DEPARTMENTS["food"])
    for categories in DEPARTMENTS.values():
        assert len(categories) >= 8


def test_products_are_well_formed() -> None:
    department_of = {c: d for d, cs in DEPARTMENTS.items() for c in cs}
    for product in CATALOG.products:
        assert is_token(product.sku)
        assert SKU_SHAPE.fullmatch(product.sku), product.sku
        assert product.sku.startswith(DEPARTMENT_CODES[department_of[product.category]] + "-")
        assert 0 < len(product.name) <= 200
        assert product.brand
        assert product.price > 0
        if department_of[product.category] == "clothing":
            assert product.colour in CLOTHING_COLOURS, product
            assert product.name.endswith(" " + product.colour)
        else:
            assert product.colour == ""


def test_skus_and_names_unique() -> None:
    assert len({p.sku for p in CATALOG.products}) == len(CATALOG)
    assert len({p.name for p in CATALOG.products}) == len(CATALOG)


def test_each_category_has_three_to_five_brands() -> None:
    for category in CATALOG.categories():
        brands = {p.brand for p in CATALOG.in_category(category)}
        assert 3 <= len(brands) <= 5, (category, brands)


def test_brands_shared_across_related_categories() -> None:
    def categories_of(brand: str) -> set[str]:
        return {p.category for p in CATALOG.products if p.brand == brand}

    assert {"face-wash", "lotion", "cream"} <= categories_of("Hydra")
    assert {"top", "trousers", "skirt"} <= categories_of("Northline")
    assert {"pasta", "pasta-sauce"} <= categories_of("Nonna Rosa")


def test_a_category_code_per_category() -> None:
    for category in CATALOG.categories():
        prefixes = {p.sku[:7] for p in CATALOG.in_category(category)}
        assert len(prefixes) == 1, (category, prefixes)
        numbers = [int(p.sku[-3:]) for p in CATALOG.in_category(category)]
        assert numbers == list(range(1, len(numbers) + 1))


def test_stable_skus() -> None:
    face_wash = CATALOG.by_sku("SKIN-FW-001")
    assert face_wash is not None
    assert face_wash.name == "Hydra Gentle Face Wash 150ml"
    assert (face_wash.category, face_wash.brand, face_wash.colour) == ("face-wash", "Hydra", "")
    chinos = CATALOG.by_sku("CLTH-TR-001")
    assert chinos is not None
    assert chinos.name == "Slim Chino Trousers navy"
    assert (chinos.category, chinos.brand, chinos.colour) == ("trousers", "Northline", "navy")
    penne = CATALOG.by_sku("FOOD-PA-001")
    assert penne is not None
    assert (penne.name, penne.category) == ("Nonna Rosa Penne 500g", "pasta")


def test_builtin_catalog_is_cached_and_deterministic() -> None:
    assert builtin_catalog() is CATALOG
    rebuilt = builtin_catalog.__wrapped__()  # built again, bypassing the cache
    assert rebuilt is not CATALOG
    assert rebuilt == CATALOG


def test_lookups_of_unknown_keys() -> None:
    assert CATALOG.by_sku("NOPE-1") is None
    assert CATALOG.in_category("gadget") == ()


def test_small_catalog_indexes() -> None:
    a = _product("A-1", "lotion")
    b = _product("B-1", "cream")
    c = _product("C-1", "lotion")
    catalog = Catalog((a, b, c))
    assert len(catalog) == 3
    assert catalog.categories() == ("cream", "lotion")
    assert catalog.in_category("lotion") == (a, c)
    assert catalog.by_sku("B-1") is b
    assert Catalog(()).categories() == ()
    assert len(Catalog(())) == 0


def test_catalog_rejects_duplicate_skus() -> None:
    with pytest.raises(LocalProtocolError, match="duplicate SKU 'A-1'"):
        Catalog((_product("A-1"), _product("A-1", "cream")))


def test_catalog_equality_ignores_indexes() -> None:
    products = (_product("A-1"), _product("B-1", "cream"))
    assert Catalog(products) == Catalog(products)
    assert hash(Catalog(products)) == hash(Catalog(products))
    assert Catalog(products) != Catalog(products[:1])


def test_product_validates_sku_and_name() -> None:
    with pytest.raises(InvalidMessage, match="sku"):
        _product("bad sku")
    with pytest.raises(InvalidMessage, match="name"):
        Product(sku="A-1", name="x" * 201, category="c", brand="b", colour="", price=1.0)


def test_a_product_is_priced_as_a_purchase_line_can_be() -> None:
    # A dearer product could be sold but never recommended: its answer would be refused
    # inside the cloud's step. So the catalog refuses it, in the same words as an Item.
    fields = {"sku": "A-1", "name": "n", "category": "c", "brand": "b", "colour": ""}
    top = Product(**fields, price=MAX_PRICE)
    associated_product(top, Reason.CO_PURCHASE, 1.0, None)  # answerable at the bound
    with pytest.raises(InvalidMessage, match=r"Product\.price: must be at most 1e\+09"):
        Product(**fields, price=MAX_PRICE * 2)
    with pytest.raises(InvalidMessage, match=r"Item\.price: must be at most 1e\+09"):
        Item(**fields, quantity=1, price=MAX_PRICE * 2)


def test_to_item() -> None:
    product = CATALOG.in_category("top")[0]
    item = CATALOG.to_item(product)
    assert isinstance(item, Item)
    assert (item.sku, item.name, item.category, item.brand, item.colour, item.price) == (
        product.sku,
        product.name,
        product.category,
        product.brand,
        product.colour,
        product.price,
    )
    assert item.quantity == 1
    assert CATALOG.to_item(product, quantity=3).quantity == 3
    with pytest.raises(InvalidMessage, match="quantity"):
        CATALOG.to_item(product, quantity=0)


@given(st.sampled_from(CATALOG.products), st.integers(min_value=1, max_value=99))
def test_every_product_is_indexed_and_becomes_an_item(product: Product, quantity: int) -> None:
    assert CATALOG.by_sku(product.sku) is product
    assert product in CATALOG.in_category(product.category)
    assert product.category in CATALOG.categories()
    item = CATALOG.to_item(product, quantity)
    assert (item.sku, item.quantity, item.colour) == (product.sku, quantity, product.colour)


@given(st.sampled_from(CATALOG.products), st.integers(1, 5))
def test_one_conversion_to_an_associated_product(product: Product, quantity: int) -> None:
    """A catalog product and the purchase line of it (what the engine keeps) become the
    same associated product; an offer changes only its price and description."""
    plain = associated_product(product, Reason.COMPLEMENT, 0.5, None)
    assert plain == AssociatedProduct(
        sku=product.sku,
        name=product.name,
        category=product.category,
        brand=product.brand,
        colour=product.colour,
        price=product.price,
        reason=Reason.COMPLEMENT,
        score=0.5,
        offer=None,
    )
    line = CATALOG.to_item(product, quantity)
    assert associated_product(line, Reason.COMPLEMENT, 0.5, None) == plain
    offer = Offer(product.sku, "2 for 1", 0.25)
    on_offer = associated_product(line, Reason.OFFER, 1.0, offer)
    assert (on_offer.price, on_offer.offer, on_offer.reason) == (0.25, "2 for 1", Reason.OFFER)
