"""The built-in product catalog: what the simulated shops sell and the cloud can recommend.

The catalog is generated deterministically (no randomness) from compact tables below, in
three departments that cover the patent's examples (face wash -> lotion/cream, a top ->
trousers/skirt/shoes, foods -> foods they combine with):

* ``skin-care``: products named ``"{brand} {variant} {size}"``, colour ``""``;
* ``clothing``: products named ``"{variant} {colour}"``, one product per variant and colour;
* ``food``: products named ``"{brand} {variant} {size}"``, colour ``""``.

Brands are shared across related categories (a skin-care brand making face wash, lotion
and cream; a fashion brand making tops and trousers; an Italian food brand making pasta and
sauce) so that brand affinity matters to the recommender. SKUs look like ``SKIN-FW-001``:
department code, category code, and the product's position in its category's table; they
are stable across runs as long as the tables are only appended to.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping

import attrs

from protocol._core._errors import LocalProtocolError
from protocol._core._ids import token_validator
from protocol._core._messages import (
    MAX_PRICE,
    MAX_TEXT_LENGTH,
    AssociatedProduct,
    Item,
    Offer,
    Reason,
)
from protocol._core._trusted import answer_from_line
from protocol._core._validators import finite_number, text

__all__ = ["DEPARTMENTS", "Catalog", "Product", "associated_product", "builtin_catalog"]


@attrs.frozen
class Product:
    """One product the shops sell: the goods information a POS puts in an :class:`Item`."""

    sku: str = attrs.field(validator=token_validator)
    name: str = attrs.field(validator=text(MAX_TEXT_LENGTH))
    category: str = attrs.field(validator=text(MAX_TEXT_LENGTH))
    brand: str = attrs.field(validator=text(MAX_TEXT_LENGTH))
    colour: str = attrs.field(validator=text(MAX_TEXT_LENGTH, allow_empty=True))
    # At most what a purchase line and an answer hold: a dearer product could be sold but
    # never recommended (its answer would be refused inside the cloud's step).
    price: float = attrs.field(validator=finite_number(maximum=MAX_PRICE))


@attrs.frozen
class Catalog:
    """An immutable set of products, indexed by SKU and by category.

    Raises :class:`~protocol.LocalProtocolError` if two products share a SKU.
    """

    products: tuple[Product, ...]
    _by_sku: Mapping[str, Product] = attrs.field(init=False, repr=False, eq=False)
    _by_category: Mapping[str, tuple[Product, ...]] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_sku: dict[str, Product] = {}
        by_category: dict[str, list[Product]] = {}
        for product in self.products:
            if product.sku in by_sku:
                raise LocalProtocolError(f"Catalog: duplicate SKU {product.sku!r}")
            by_sku[product.sku] = product
            by_category.setdefault(product.category, []).append(product)
        object.__setattr__(self, "_by_sku", types.MappingProxyType(by_sku))
        object.__setattr__(
            self,
            "_by_category",
            types.MappingProxyType({c: tuple(ps) for c, ps in sorted(by_category.items())}),
        )

    def by_sku(self, sku: str) -> Product | None:
        """The product with this SKU, or None."""
        return self._by_sku.get(sku)

    def in_category(self, category: str) -> tuple[Product, ...]:
        """The products of *category*, in catalog order (empty for an unknown category)."""
        return self._by_category.get(category, ())

    def categories(self) -> tuple[str, ...]:
        """All categories that have at least one product, sorted."""
        return tuple(self._by_category)

    def __len__(self) -> int:
        return len(self.products)

    def to_item(self, product: Product, quantity: int = 1) -> Item:
        """The purchase line a POS would upload for *quantity* of *product*."""
        return Item(
            sku=product.sku,
            name=product.name,
            category=product.category,
            brand=product.brand,
            colour=product.colour,
            quantity=quantity,
            price=product.price,
        )


@functools.lru_cache(maxsize=1 << 17)
def associated_product(
    goods: Product | Item, reason: Reason, score: float, offer: Offer | None
) -> AssociatedProduct:
    """*goods* (a catalog product, or a purchase line the engine learnt) recommended for
    *reason* with *score*; on *offer*, at the offer's price and with its description.

    The Product -> AssociatedProduct conversion of every recommender, cached: the same
    goods with the same score and reason is built once (by
    :func:`~protocol._core._trusted.answer_from_line`: a catalog product validated, a
    learned purchase line's goods fields copied)."""
    return answer_from_line(goods, reason, score, offer)


# --------------------------------------------------------------------------- tables
#
# Packaged goods (skin care, food): category -> (category code, sizes with a price factor,
# variants as (variant name, brand, base price)). One product per variant and size.
# Clothing: category -> (category code, variants as (variant name, brand, price, colours)).
# One product per variant and colour.

_Sizes = tuple[tuple[str, float], ...]
_Packaged = Mapping[str, tuple[str, _Sizes, tuple[tuple[str, str, float], ...]]]
_Clothing = Mapping[str, tuple[str, tuple[tuple[str, str, float, str], ...]]]

_ML_S: _Sizes = (("150ml", 1.0), ("300ml", 1.7))
_ML_M: _Sizes = (("200ml", 1.0), ("400ml", 1.6))
_ML_JAR: _Sizes = (("50ml", 1.0), ("100ml", 1.7))
_ML_DROP: _Sizes = (("30ml", 1.0), ("50ml", 1.5))
_ML_HAIR: _Sizes = (("250ml", 1.0), ("500ml", 1.7))

_SKIN_CARE: _Packaged = {
    "face-wash": (
        "FW",
        _ML_S,
        (
            ("Gentle Face Wash", "Hydra", 6.49),
            ("Foaming Face Wash", "Aqualis", 5.99),
            ("Clarifying Gel Cleanser", "Verdant Botanics", 8.99),
            ("Cream Cleanser", "Pure Basics", 3.49),
            ("Micellar Face Wash", "Lumen", 7.49),
        ),
    ),
    "toner": (
        "TN",
        _ML_M,
        (
            ("Hydrating Toner", "Hydra", 7.99),
            ("Rose Water Toner", "Verdant Botanics", 9.49),
            ("Balancing Toner", "Pure Basics", 3.99),
            ("Pore Refining Toner", "Lumen", 8.99),
        ),
    ),
    "lotion": (
        "LO",
        _ML_M,
        (
            ("Moisturising Lotion", "Hydra", 8.49),
            ("Daily Moisture Lotion", "Aqualis", 7.49),
            ("Oat Moisturising Lotion", "Verdant Botanics", 9.99),
            ("Light Lotion SPF15", "Solara", 10.99),
            ("Everyday Lotion", "Pure Basics", 3.99),
        ),
    ),
    "cream": (
        "CR",
        _ML_JAR,
        (
            ("Moisturising Cream", "Hydra", 12.99),
            ("Night Cream", "Aqualis", 14.99),
            ("Rich Repair Cream", "Verdant Botanics", 16.49),
            ("Day Cream", "Lumen", 13.99),
            ("Soft Moisturising Cream", "Pure Basics", 4.99),
        ),
    ),
    "serum": (
        "SE",
        _ML_DROP,
        (
            ("Hyaluronic Serum", "Hydra", 18.99),
            ("Vitamin C Serum", "Lumen", 21.99),
            ("Niacinamide Serum", "Verdant Botanics", 17.49),
            ("Hydrating Serum", "Pure Basics", 7.99),
        ),
    ),
    "sunscreen": (
        "SS",
        _ML_JAR,
        (
            ("Daily Sunscreen SPF30", "Solara", 9.99),
            ("Sport Sunscreen SPF50", "Solara", 11.99),
            ("Hydrating Sunscreen SPF50", "Hydra", 13.49),
            ("Sunscreen SPF30", "Pure Basics", 4.99),
            ("Mineral Sunscreen SPF30", "Aqualis", 12.49),
        ),
    ),
    "shampoo": (
        "SH",
        _ML_HAIR,
        (
            ("Volume Shampoo", "Silkroot", 5.49),
            ("Repair Shampoo", "Silkroot", 5.99),
            ("Herbal Shampoo", "Verdant Botanics", 7.49),
            ("Gentle Shampoo", "Pure Basics", 2.49),
            ("Moisture Shampoo", "Aqualis", 6.49),
        ),
    ),
    "conditioner": (
        "CO",
        _ML_HAIR,
        (
            ("Volume Conditioner", "Silkroot", 5.49),
            ("Repair Conditioner", "Silkroot", 5.99),
            ("Herbal Conditioner", "Verdant Botanics", 7.49),
            ("Gentle Conditioner", "Pure Basics", 2.49),
            ("Moisture Conditioner", "Aqualis", 6.49),
        ),
    ),
}

_CLOTHING: _Clothing = {
    "top": (
        "TP",
        (
            ("Crew-Neck Tee", "Urban Thread", 14.99, "white black navy red grey olive"),
            ("Relaxed Knit Top", "Atelier Nine", 29.99, "beige navy black red white"),
            ("Breton Stripe Top", "Northline", 24.99, "navy white red"),
            ("Slim Polo Top", "Northline", 27.99, "white navy olive grey"),
        ),
    ),
    "shirt": (
        "SH",
        (
            ("Oxford Shirt", "Harbour & Co", 39.99, "white navy denim-blue"),
            ("Linen Shirt", "Northline", 34.99, "white beige olive navy"),
            ("Denim Shirt", "Urban Thread", 32.99, "denim-blue black"),
            ("Poplin Shirt", "Atelier Nine", 36.99, "white black red"),
        ),
    ),
    "jacket": (
        "JK",
        (
            ("Field Jacket", "Northline", 89.00, "olive navy beige"),
            ("Bomber Jacket", "Urban Thread", 79.00, "black olive navy"),
            ("Wool Blazer", "Harbour & Co", 129.00, "navy grey black"),
            ("Trench Coat", "Atelier Nine", 149.00, "beige black navy"),
            ("Denim Jacket", "Urban Thread", 69.00, "denim-blue black"),
        ),
    ),
    "trousers": (
        "TR",
        (
            ("Slim Chino Trousers", "Northline", 44.99, "navy white beige black grey olive red"),
            ("Wide-Leg Trousers", "Atelier Nine", 54.99, "black beige white red"),
            ("Cargo Trousers", "Urban Thread", 49.99, "olive black beige grey"),
            ("Tailored Trousers", "Harbour & Co", 69.99, "navy grey black beige"),
        ),
    ),
    "skirt": (
        "SK",
        (
            ("Pleated Midi Skirt", "Atelier Nine", 39.99, "black navy beige red"),
            ("A-Line Skirt", "Northline", 34.99, "navy olive white"),
            ("Denim Mini Skirt", "Urban Thread", 29.99, "denim-blue black"),
            ("Pencil Skirt", "Harbour & Co", 44.99, "black grey navy"),
        ),
    ),
    "jeans": (
        "JN",
        (
            ("Straight Jeans", "Urban Thread", 49.99, "denim-blue black grey"),
            ("Skinny Jeans", "Northline", 44.99, "denim-blue black white"),
            ("Relaxed Jeans", "Basics Co", 24.99, "denim-blue grey"),
        ),
    ),
    "shoes": (
        "SO",
        (
            ("Leather Sneakers", "Stride", 69.99, "white black"),
            ("Canvas Sneakers", "Urban Thread", 39.99, "white navy red olive"),
            ("Derby Shoes", "Leatherworks", 89.99, "black brown"),
            ("Chelsea Boots", "Leatherworks", 109.99, "black brown beige"),
            ("Ballet Flats", "Atelier Nine", 49.99, "black beige red"),
            ("Running Shoes", "Stride", 79.99, "grey navy white"),
        ),
    ),
    "belt": (
        "BT",
        (
            ("Leather Belt", "Leatherworks", 29.99, "black brown"),
            ("Woven Belt", "Harbour & Co", 24.99, "navy beige olive"),
            ("Canvas Belt", "Basics Co", 9.99, "black navy olive"),
            ("Slim Leather Belt", "Northline", 27.99, "brown black"),
        ),
    ),
    "scarf": (
        "SC",
        (
            ("Wool Scarf", "Northline", 29.99, "grey navy red beige"),
            ("Silk Scarf", "Atelier Nine", 39.99, "red navy white"),
            ("Knit Scarf", "Basics Co", 12.99, "black grey olive"),
        ),
    ),
    "socks": (
        "SX",
        (
            ("Cotton Socks 3-Pack", "Basics Co", 8.99, "white black grey navy"),
            ("Sport Socks", "Stride", 9.99, "white black"),
            ("Wool Socks", "Northline", 12.99, "grey olive red"),
        ),
    ),
    "bag": (
        "BG",
        (
            ("Leather Tote Bag", "Leatherworks", 119.00, "black brown beige"),
            ("Canvas Tote Bag", "Basics Co", 14.99, "beige navy olive"),
            ("Crossbody Bag", "Atelier Nine", 69.00, "black red beige"),
            ("Backpack", "Urban Thread", 49.99, "black grey olive navy"),
        ),
    ),
}

_G_SMALL: _Sizes = (("500g", 1.0), ("1kg", 1.8))
_ONE_BOTTLE: _Sizes = (("750ml", 1.0),)

_FOOD: _Packaged = {
    "pasta": (
        "PA",
        _G_SMALL,
        (
            ("Penne", "Nonna Rosa", 1.49),
            ("Spaghetti", "Nonna Rosa", 1.49),
            ("Fusilli", "Casa Verde", 1.79),
            ("Tagliatelle", "Casa Verde", 2.49),
            ("Wholewheat Penne", "Daily Value", 0.99),
        ),
    ),
    "pasta-sauce": (
        "PS",
        (("400g", 1.0), ("700g", 1.6)),
        (
            ("Tomato & Basil Sauce", "Nonna Rosa", 2.29),
            ("Arrabbiata Sauce", "Nonna Rosa", 2.49),
            ("Pesto Genovese", "Casa Verde", 2.99),
            ("Bolognese Sauce", "Casa Verde", 2.79),
            ("Tomato Pasta Sauce", "Daily Value", 0.99),
        ),
    ),
    "cheese": (
        "CH",
        (("200g", 1.0), ("400g", 1.8)),
        (
            ("Parmigiano Reggiano", "Casa Verde", 4.99),
            ("Mature Cheddar", "Alpine Dairy", 2.99),
            ("Buffalo Mozzarella", "Casa Verde", 2.49),
            ("Gruyere", "Alpine Dairy", 4.49),
            ("Grated Hard Cheese", "Daily Value", 1.99),
        ),
    ),
    "wine": (
        "WN",
        _ONE_BOTTLE,
        (
            ("Chianti", "Vineyard Hill", 9.99),
            ("Montepulciano", "Casa Verde", 7.99),
            ("Sauvignon Blanc", "Vineyard Hill", 8.49),
            ("Rioja Reserva", "Vineyard Hill", 12.99),
            ("Pinot Grigio", "Casa Verde", 6.99),
            ("Red Table Wine", "Daily Value", 4.49),
            ("Malbec", "Vineyard Hill", 10.49),
            ("Prosecco", "Casa Verde", 9.49),
        ),
    ),
    "bread": (
        "BR",
        (("400g", 1.0), ("800g", 1.7)),
        (
            ("Sourdough Loaf", "Hearth & Mill", 2.79),
            ("Wholemeal Loaf", "Golden Crust", 1.49),
            ("Seeded Loaf", "Hearth & Mill", 2.29),
            ("Farmhouse White Loaf", "Daily Value", 0.89),
        ),
    ),
    "butter": (
        "BU",
        (("250g", 1.0), ("500g", 1.9)),
        (
            ("Salted Butter", "Alpine Dairy", 2.49),
            ("Unsalted Butter", "Alpine Dairy", 2.49),
            ("Spreadable Butter", "Daily Value", 1.79),
            ("Organic Butter", "Green Valley", 3.29),
        ),
    ),
    "jam": (
        "JM",
        (("340g", 1.0), ("454g", 1.3)),
        (
            ("Strawberry Jam", "Orchard Farm", 2.49),
            ("Raspberry Jam", "Orchard Farm", 2.69),
            ("Apricot Jam", "Hearth & Mill", 2.59),
            ("Orange Marmalade", "Orchard Farm", 2.29),
            ("Mixed Fruit Jam", "Daily Value", 0.99),
        ),
    ),
    "coffee": (
        "CF",
        (("250g", 1.0), ("500g", 1.8)),
        (
            ("Espresso Beans", "Highland Roast", 5.49),
            ("Ground Filter Coffee", "Highland Roast", 3.99),
            ("Colombian Ground Coffee", "Highland Roast", 4.49),
            ("Italian Roast Coffee", "Casa Verde", 4.99),
            ("Ground Coffee", "Daily Value", 2.19),
        ),
    ),
    "milk": (
        "MK",
        (("1l", 1.0), ("2l", 1.8)),
        (
            ("Whole Milk", "Alpine Dairy", 1.09),
            ("Semi-Skimmed Milk", "Alpine Dairy", 0.99),
            ("Oat Drink", "Green Valley", 1.79),
            ("Organic Whole Milk", "Green Valley", 1.49),
            ("Skimmed Milk", "Daily Value", 0.79),
        ),
    ),
    "tea": (
        "TE",
        (("40 bags", 1.0), ("80 bags", 1.8)),
        (
            ("English Breakfast Tea", "Highland Roast", 2.49),
            ("Earl Grey Tea", "Highland Roast", 2.79),
            ("Green Tea", "Green Valley", 2.29),
            ("Peppermint Tea", "Green Valley", 1.99),
            ("Everyday Tea", "Daily Value", 0.99),
        ),
    ),
    "biscuits": (
        "BI",
        (("200g", 1.0), ("400g", 1.8)),
        (
            ("Butter Shortbread", "Golden Crust", 1.99),
            ("Digestive Biscuits", "Daily Value", 0.89),
            ("Oat Biscuits", "Golden Crust", 1.49),
            ("Almond Biscotti", "Casa Verde", 2.49),
            ("Chocolate Chip Cookies", "Golden Crust", 1.79),
        ),
    ),
    "cereal": (
        "CE",
        (("375g", 1.0), ("750g", 1.8)),
        (
            ("Crunchy Granola", "Morning Harvest", 3.49),
            ("Bran Flakes", "Morning Harvest", 1.99),
            ("Porridge Oats", "Morning Harvest", 1.29),
            ("Swiss Muesli", "Green Valley", 2.79),
            ("Corn Flakes", "Daily Value", 0.99),
        ),
    ),
    "fruit": (
        "FR",
        (("500g", 1.0), ("1kg", 1.8)),
        (
            ("Fairtrade Bananas", "Daily Value", 0.89),
            ("Apples", "Orchard Farm", 1.49),
            ("Strawberries", "Orchard Farm", 2.49),
            ("Blueberries", "Orchard Farm", 2.99),
            ("Oranges", "Green Valley", 1.69),
        ),
    ),
    "yogurt": (
        "YO",
        (("500g", 1.0), ("1kg", 1.8)),
        (
            ("Greek Yogurt", "Alpine Dairy", 1.99),
            ("Natural Yogurt", "Alpine Dairy", 1.29),
            ("Strawberry Yogurt", "Morning Harvest", 1.49),
            ("Vanilla Yogurt", "Morning Harvest", 1.49),
            ("Natural Yogurt", "Daily Value", 0.89),
        ),
    ),
    "steak": (
        "ST",
        (("250g", 1.0), ("500g", 1.9)),
        (
            ("Ribeye Steak", "Butcher's Block", 6.99),
            ("Sirloin Steak", "Butcher's Block", 5.99),
            ("Fillet Steak", "Butcher's Block", 9.99),
            ("Rump Steak", "Daily Value", 3.99),
            ("Grass-Fed Flank Steak", "Green Valley", 5.49),
        ),
    ),
    "salad": (
        "SA",
        (("150g", 1.0), ("300g", 1.8)),
        (
            ("Mixed Leaf Salad", "Green Valley", 1.29),
            ("Rocket Salad", "Green Valley", 1.19),
            ("Baby Spinach", "Green Valley", 1.39),
            ("Caesar Salad Kit", "Daily Value", 2.49),
            ("Tomato & Mozzarella Salad", "Casa Verde", 2.99),
        ),
    ),
    "potatoes": (
        "PO",
        (("1kg", 1.0), ("2.5kg", 2.2)),
        (
            ("Baby Potatoes", "Green Valley", 1.49),
            ("Maris Piper Potatoes", "Green Valley", 1.29),
            ("Sweet Potatoes", "Green Valley", 1.79),
            ("Roasting Potatoes", "Butcher's Block", 1.59),
            ("Oven Chips", "Daily Value", 1.49),
        ),
    ),
}

DEPARTMENTS: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
    {"skin-care": tuple(_SKIN_CARE), "clothing": tuple(_CLOTHING), "food": tuple(_FOOD)}
)
"""Department name -> the categories of that department, in table order."""


def _shelf_price(base: float, factor: float) -> float:
    """A price ending in 9 cents: ``base * factor`` rounded down to 10 cents, plus 0.09."""
    if factor == 1.0:
        return base
    return round(int(base * factor * 10) / 10 + 0.09, 2)


def _packaged(
    dept: str, category: str, spec: tuple[str, _Sizes, tuple[tuple[str, str, float], ...]]
) -> list[Product]:
    code, sizes, variants = spec
    products: list[Product] = []
    for variant, brand, base in variants:
        for size, factor in sizes:
            products.append(
                Product(
                    sku=f"{dept}-{code}-{len(products) + 1:03d}",
                    name=f"{brand} {variant} {size}",
                    category=category,
                    brand=brand,
                    colour="",
                    price=_shelf_price(base, factor),
                )
            )
    return products


def _clothing(
    dept: str, category: str, spec: tuple[str, tuple[tuple[str, str, float, str], ...]]
) -> list[Product]:
    code, variants = spec
    products: list[Product] = []
    for variant, brand, price, colours in variants:
        for colour in colours.split():
            products.append(
                Product(
                    sku=f"{dept}-{code}-{len(products) + 1:03d}",
                    name=f"{variant} {colour}",
                    category=category,
                    brand=brand,
                    colour=colour,
                    price=price,
                )
            )
    return products


@functools.cache
def builtin_catalog() -> Catalog:
    """The built-in catalog (about 400 products in 36 categories), built once and cached."""
    products: list[Product] = []
    for category, spec in _SKIN_CARE.items():
        products.extend(_packaged("SKIN", category, spec))
    for category, clothing_spec in _CLOTHING.items():
        products.extend(_clothing("CLTH", category, clothing_spec))
    for category, spec in _FOOD.items():
        products.extend(_packaged("FOOD", category, spec))
    return Catalog(tuple(products))
