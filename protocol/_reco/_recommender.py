"""The recommender interface (steps 506 and 507) and the rule-based recommender.

A :class:`Recommender` is what the cloud calls to pair goods with associated products:

* :meth:`Recommender.observe` learns from a stored purchase (step 507: the matching
  relation "by usage habit, colour or brand");
* :meth:`Recommender.associate` answers step 506: up to ``limit`` ranked associated products
  (best first), then the merchant's promotions (special offers and popular items, at most
  ``limit`` of them). No SKU of the basket is recommended, no SKU appears twice, and the
  answer depends only on the inputs (ties are broken by SKU).

:class:`RuleRecommender` implements it with hand-written complement rules
(:data:`COMPLEMENT_RULES`: face wash -> lotion, cream; a top -> trousers, skirt, shoes;
pasta -> pasta sauce, cheese, wine; ...) plus colour and brand affinity. The score of a
candidate product ``p`` for a basket is::

    max over basket items i with a rule i.category -> p.category of
        rule weight (in [0.001, 1])
      + colour_affinity(i.colour, p.colour)   (0 .. COLOUR_CLASSIC_PAIR_BONUS)
      + BRAND_BONUS if p.brand == i.brand else 0

and the n-th best candidate of a category is ranked (and reported) at
``score * DIVERSITY_DECAY ** n`` so that the answer mixes the complementary categories
(pasta -> sauce, cheese, wine) instead of listing eight sauces.

It keeps no state: :meth:`RuleRecommender.observe` records nothing, so a later learning
engine can wrap it without the rule scores drifting.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

import attrs

from protocol._core._errors import LocalProtocolError
from protocol._core._messages import (
    AssociatedProduct,
    Offer,
    PromotionUpdate,
    PurchaseUpload,
    Reason,
)

from ._catalog import Catalog, Product, associated_product, builtin_catalog

__all__ = [
    "BRAND_BONUS",
    "CLASSIC_COLOUR_PAIRS",
    "COLOUR_CLASSIC_PAIR_BONUS",
    "COLOUR_NEUTRAL_BONUS",
    "COLOUR_NEUTRAL_PAIR_BONUS",
    "COLOUR_SAME_BONUS",
    "COMPLEMENT_RULES",
    "DIVERSITY_DECAY",
    "NEUTRAL_COLOURS",
    "PROMOTION_SCORE",
    "Promotions",
    "Recommender",
    "RuleRecommender",
    "colour_affinity",
]


# --------------------------------------------------------------------------- promotions


@attrs.frozen
class Promotions:
    """A merchant's current popular items (SKUs) and special offers."""

    merchant_id: str
    popular: tuple[str, ...] = ()
    offers: tuple[Offer, ...] = ()

    @classmethod
    def from_update(cls, update: PromotionUpdate) -> Promotions:
        """The promotions a merchant's :class:`PromotionUpdate` announces."""
        return cls(merchant_id=update.merchant_id, popular=update.popular, offers=update.offers)


# --------------------------------------------------------------------------- interface


class Recommender(Protocol):
    """What the cloud needs from a recommender (steps 506 and 507)."""

    def observe(self, purchase: PurchaseUpload) -> None:
        """Learn from a purchase the cloud has stored (step 507)."""
        ...

    def associate(
        self, purchase: PurchaseUpload, promotions: Promotions | None, limit: int
    ) -> tuple[AssociatedProduct, ...]:
        """Step 506: up to *limit* ranked products, then at most *limit* promoted ones."""
        ...


# --------------------------------------------------------------------------- weights

BRAND_BONUS = 0.15
"""Added when a candidate has the brand of the basket item it complements."""

COLOUR_CLASSIC_PAIR_BONUS = 0.15
"""Two colours that form a classic pair (see :data:`CLASSIC_COLOUR_PAIRS`)."""
COLOUR_SAME_BONUS = 0.10
"""The same colour (a tonal outfit)."""
COLOUR_NEUTRAL_PAIR_BONUS = 0.10
"""Two different neutral colours."""
COLOUR_NEUTRAL_BONUS = 0.05
"""One neutral colour with any other colour: neutrals go with everything."""

DIVERSITY_DECAY = 0.8
"""The n-th best candidate of a category is ranked at ``score * DIVERSITY_DECAY ** n``."""

PROMOTION_SCORE = 0.0
"""The score carried by promoted entries (they are not ranked, only appended)."""

NEUTRAL_COLOURS: frozenset[str] = frozenset(
    {"white", "black", "grey", "beige", "navy", "denim-blue", "brown"}
)
"""Colours that go with everything: the classic neutrals, plus denim and brown leather."""

CLASSIC_COLOUR_PAIRS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("navy", "white"),
        ("denim-blue", "white"),
        ("black", "white"),
        ("olive", "beige"),
        ("olive", "white"),
        ("grey", "navy"),
        ("brown", "beige"),
        ("red", "denim-blue"),
    )
)
"""Pairs of colours that are known to look good together."""


def colour_affinity(a: str, b: str) -> float:
    """The colour-harmony bonus of wearing colours *a* and *b* together.

    0 when either colour is empty (skin care, food) or the colours clash (two different
    non-neutral colours that are no classic pair, e.g. red and olive).
    """
    if not a or not b:
        return 0.0
    if a == b:
        return COLOUR_SAME_BONUS
    if frozenset((a, b)) in CLASSIC_COLOUR_PAIRS:
        return COLOUR_CLASSIC_PAIR_BONUS
    neutrals = (a in NEUTRAL_COLOURS) + (b in NEUTRAL_COLOURS)
    if neutrals == 2:
        return COLOUR_NEUTRAL_PAIR_BONUS
    if neutrals == 1:
        return COLOUR_NEUTRAL_BONUS
    return 0.0


# --------------------------------------------------------------------------- rules


COMPLEMENT_RULES: Mapping[str, tuple[tuple[str, float], ...]] = types.MappingProxyType(
    {
        # skin care: the patent's face wash -> moisturising lotion, moisturising cream
        "face-wash": (
            ("lotion", 1.0),
            ("cream", 0.95),
            ("toner", 0.8),
            ("serum", 0.7),
            ("sunscreen", 0.5),
        ),
        "toner": (("serum", 0.9), ("lotion", 0.85), ("cream", 0.8), ("face-wash", 0.6)),
        "lotion": (("sunscreen", 0.8), ("cream", 0.7), ("face-wash", 0.6), ("serum", 0.6)),
        "cream": (("serum", 0.8), ("face-wash", 0.7), ("lotion", 0.6), ("sunscreen", 0.6)),
        "serum": (("cream", 0.9), ("lotion", 0.7), ("sunscreen", 0.7), ("toner", 0.6)),
        "sunscreen": (("lotion", 0.7), ("face-wash", 0.6), ("cream", 0.5)),
        "shampoo": (("conditioner", 1.0),),
        "conditioner": (("shampoo", 1.0),),
        # clothing: the patent's jacket/top -> trousers, a skirt, or shoes
        "top": (
            ("trousers", 1.0),
            ("skirt", 0.95),
            ("jeans", 0.9),
            ("shoes", 0.8),
            ("jacket", 0.6),
            ("scarf", 0.4),
        ),
        "shirt": (
            ("trousers", 1.0),
            ("jeans", 0.9),
            ("skirt", 0.8),
            ("shoes", 0.8),
            ("belt", 0.6),
            ("jacket", 0.6),
        ),
        "jacket": (
            ("trousers", 1.0),
            ("skirt", 0.9),
            ("jeans", 0.9),
            ("shoes", 0.85),
            ("top", 0.7),
            ("scarf", 0.6),
        ),
        "trousers": (("shoes", 1.0), ("belt", 0.9), ("top", 0.8), ("shirt", 0.8), ("socks", 0.5)),
        "skirt": (("top", 1.0), ("shoes", 0.9), ("jacket", 0.6), ("bag", 0.6), ("scarf", 0.4)),
        "jeans": (("top", 1.0), ("shirt", 0.9), ("shoes", 0.9), ("belt", 0.8), ("jacket", 0.6)),
        "shoes": (("socks", 0.9), ("trousers", 0.7), ("jeans", 0.7), ("bag", 0.5)),
        "belt": (("trousers", 0.9), ("jeans", 0.9), ("shoes", 0.6)),
        "scarf": (("jacket", 0.9), ("top", 0.6), ("bag", 0.5)),
        "socks": (("shoes", 1.0), ("trousers", 0.4)),
        "bag": (("shoes", 0.7), ("scarf", 0.6), ("belt", 0.6)),
        # food: foods that combine well
        "pasta": (("pasta-sauce", 1.0), ("cheese", 0.9), ("wine", 0.7), ("salad", 0.6)),
        "pasta-sauce": (("pasta", 1.0), ("cheese", 0.8), ("wine", 0.6)),
        "cheese": (("wine", 0.9), ("bread", 0.9), ("pasta", 0.5), ("fruit", 0.5)),
        "wine": (("cheese", 1.0), ("steak", 0.7), ("pasta", 0.6), ("bread", 0.5)),
        "bread": (("butter", 1.0), ("jam", 0.9), ("cheese", 0.8)),
        "butter": (("bread", 1.0), ("jam", 0.7), ("potatoes", 0.4)),
        "jam": (("bread", 1.0), ("butter", 0.9), ("yogurt", 0.5), ("tea", 0.4)),
        "coffee": (("milk", 1.0), ("biscuits", 0.9)),
        "milk": (("cereal", 1.0), ("coffee", 0.8), ("tea", 0.8), ("biscuits", 0.6)),
        "tea": (("milk", 1.0), ("biscuits", 0.9)),
        "biscuits": (("tea", 1.0), ("coffee", 0.9), ("milk", 0.7)),
        "cereal": (("milk", 1.0), ("fruit", 0.8), ("yogurt", 0.8)),
        "fruit": (("yogurt", 1.0), ("cereal", 0.8)),
        "yogurt": (("fruit", 1.0), ("cereal", 0.9), ("jam", 0.4)),
        "steak": (("potatoes", 1.0), ("salad", 0.9), ("wine", 0.8), ("butter", 0.5)),
        "salad": (("steak", 0.7), ("cheese", 0.6), ("bread", 0.6)),
        "potatoes": (("steak", 1.0), ("butter", 0.8), ("salad", 0.7)),
    }
)
"""Purchased category -> complementary categories, each with a weight in (0, 1]."""


# --------------------------------------------------------------------------- recommender

# Scores are computed in exact integer units of 0.0001, so that ties are exact.
_UNITS = 10_000
_BRAND_UNITS = round(BRAND_BONUS * _UNITS)
_MIN_WEIGHT = 0.001  # so that no weight rounds to nothing


def _units(value: float) -> int:
    return round(value * _UNITS)


def offers_for(
    who: str, purchase: PurchaseUpload, promotions: Promotions | None, limit: int
) -> dict[str, Offer]:
    """The special offers of ``promotions`` by SKU (the first one of each), after checking
    the arguments of a ``Recommender.associate`` call: raises
    :class:`~protocol.LocalProtocolError` if ``limit`` is negative or ``promotions`` belong
    to another merchant than ``purchase``."""
    if limit < 0:
        raise LocalProtocolError(f"{who}.associate: limit must be >= 0, got {limit}")
    if promotions is not None and promotions.merchant_id != purchase.merchant_id:
        raise LocalProtocolError(
            f"{who}.associate: promotions of merchant {promotions.merchant_id!r}"
            f" for a purchase at {purchase.merchant_id!r}"
        )
    offers: dict[str, Offer] = {}
    if promotions is not None:
        for offer in promotions.offers:
            offers.setdefault(offer.sku, offer)
    return offers


_Found = TypeVar("_Found")


def promoted(
    promotions: Promotions,
    limit: int,
    offers: Mapping[str, Offer],
    listed: set[str],
    lookup: Callable[[str], _Found | None],
) -> list[tuple[_Found, Reason, Offer | None]]:
    """The merchants' items a ``Recommender.associate`` appends (step 506): special offers
    first (``Reason.OFFER``, with their offer), then popular items (``Reason.POPULAR``),
    each in the merchant's order, at most *limit*, skipping SKUs already *listed* (which
    grows) and those *lookup* does not know; each with what *lookup* found for it."""
    candidates = [(offer.sku, Reason.OFFER) for offer in promotions.offers]
    candidates += [(sku, Reason.POPULAR) for sku in promotions.popular]
    chosen: list[tuple[_Found, Reason, Offer | None]] = []
    for sku, reason in candidates:
        if len(chosen) >= limit:
            break
        if sku in listed:
            continue
        found = lookup(sku)
        if found is None:
            continue
        chosen.append((found, reason, offers[sku] if reason is Reason.OFFER else None))
        listed.add(sku)
    return chosen


class RuleRecommender:
    """Complement rules plus colour and brand affinity over a catalog.

    Learns nothing: an answer depends only on the catalog, the rules and the purchase.
    What it derives from a basket item's (category, brand, colour), and from a basket's
    set of those, is kept (a few thousand of each) so the same kinds of basket are
    answered faster; tests check every answer against the plain computation.

    *rules* default to :data:`COMPLEMENT_RULES`, *catalog* to the built-in catalog. Raises
    :class:`~protocol.LocalProtocolError` if a rule weight is not in [0.001, 1]. Rules
    naming a category the catalog lacks are kept but never produce candidates.

    Ranking: each candidate gets the affinity score of the module docstring, rounded to 4
    decimals; so that one complementary category does not fill the whole answer (pasta ->
    eight pasta sauces), the n-th best candidate of a category (n = 0, 1, ...) is ranked by
    ``score * DIVERSITY_DECAY ** n`` (rounded to 4 decimals), and that ranking score is the
    one reported. The best candidate of each category keeps its plain affinity score.
    """

    __slots__ = ("_baskets", "_catalog", "_colour_rows", "_profiles", "_targets")

    def __init__(
        self,
        catalog: Catalog | None = None,
        rules: Mapping[str, Sequence[tuple[str, float]]] | None = None,
    ) -> None:
        self._catalog = builtin_catalog() if catalog is None else catalog
        table: Mapping[str, Sequence[tuple[str, float]]] = (
            COMPLEMENT_RULES if rules is None else rules
        )
        # Purchased category -> (complementary category, weight in units, its products),
        # precomputed so associate() only looks at the candidates of the basket's categories.
        targets: dict[str, tuple[tuple[str, int, tuple[Product, ...]], ...]] = {}
        for source, complements in table.items():
            entries: list[tuple[str, int, tuple[Product, ...]]] = []
            for target, weight in complements:
                if not (math.isfinite(weight) and _MIN_WEIGHT <= weight <= 1.0):
                    raise LocalProtocolError(
                        f"RuleRecommender: weight of {source!r} -> {target!r} must be in "
                        f"[{_MIN_WEIGHT}, 1], got {weight!r}"
                    )
                candidates = self._catalog.in_category(target)
                if candidates:
                    entries.append((target, _units(weight), candidates))
            targets[source] = tuple(entries)
        self._targets = targets
        # Basket colour -> catalog colour -> colour_affinity in units, for catalog colours.
        colours = sorted({product.colour for product in self._catalog.products})
        self._colour_rows = {colour: self._colour_row(colour, colours) for colour in colours}
        self._profiles: dict[tuple[str, str, str], _Candidates] = {}
        self._baskets: dict[tuple[frozenset[tuple[str, str, str]], int], tuple[_Ordered, ...]] = {}

    @staticmethod
    def _colour_row(colour: str, colours: Iterable[str]) -> dict[str, int]:
        return {other: _units(colour_affinity(colour, other)) for other in colours}

    @property
    def catalog(self) -> Catalog:
        """The catalog recommendations are drawn from."""
        return self._catalog

    def observe(self, purchase: PurchaseUpload) -> None:
        """Record nothing: the rules are fixed (a learning engine builds on top of them)."""

    def associate(
        self, purchase: PurchaseUpload, promotions: Promotions | None, limit: int
    ) -> tuple[AssociatedProduct, ...]:
        """Step 506: up to *limit* complements, best first, then at most *limit* promotions.

        Promotions go after the ranked products: special offers first (``Reason.OFFER``,
        with the offer's description and price), then popular items (``Reason.POPULAR``),
        each in the merchant's order, skipping SKUs not in the catalog, in the basket, or
        already listed. A ranked product that is also on offer keeps its place and reason
        but carries the offer's description and price. Raises
        :class:`~protocol.LocalProtocolError` if *limit* is negative or *promotions* belong
        to another merchant than the purchase.
        """
        offers = offers_for("RuleRecommender", purchase, promotions, limit)
        if limit == 0:
            return ()
        result = self._ranked(purchase, limit, offers)
        if promotions is not None:
            listed = {item.sku for item in purchase.items} | {entry.sku for entry in result}
            result.extend(
                associated_product(product, reason, PROMOTION_SCORE, offer)
                for product, reason, offer in promoted(
                    promotions, limit, offers, listed, self._catalog.by_sku
                )
            )
        return tuple(result)

    def _profile(self, profile: tuple[str, str, str]) -> _Candidates:
        """The candidates a basket item of *profile* (category, brand, colour) offers:
        per complementary category, (-affinity score in units, SKU) best first. A pure
        function of the profile, so kept (bounded)."""
        found = self._profiles.get(profile)
        if found is not None:
            return found
        category, brand, colour = profile
        row = self._colour_rows.get(colour) if colour else _NO_COLOUR
        if row is None:  # a colour the catalog does not use
            row = self._colour_row(colour, self._colour_rows)
        entries = []
        for target, weight, candidates in self._targets.get(category, ()):
            scores: dict[str, int] = {}
            for product in candidates:
                score = weight + row.get(product.colour, 0)
                if product.brand == brand:
                    score += _BRAND_UNITS
                if score > scores.get(product.sku, 0):
                    scores[product.sku] = score
            entries.append((target, tuple(sorted((-score, sku) for sku, score in scores.items()))))
        if len(self._profiles) >= _PROFILES_KEPT:
            self._profiles.clear()
        found = self._profiles[profile] = tuple(entries)
        return found

    def _candidates(self, purchase: PurchaseUpload, window: int) -> tuple[_Ordered, ...]:
        """Per complementary category of the basket's items, its *window* best candidates
        as (-score in units, SKU), best first, each scored by the basket item that likes
        it best (basket items included). A pure function of the basket's profiles and
        *window*, so kept (bounded)."""
        profiles = frozenset((item.category, item.brand, item.colour) for item in purchase.items)
        key = (profiles, window)
        found = self._baskets.get(key)
        if found is not None:
            return found
        if len(profiles) == 1:
            (profile,) = profiles
            found = tuple(ordered[:window] for _, ordered in self._profile(profile))
        else:
            # The best `window` of a category over several items are among the best
            # `window` of each item: whatever ranks above a candidate for the item that
            # scores it highest ranks above it in the merged order too.
            best: dict[str, dict[str, int]] = {}
            for profile in profiles:  # the best score of each: the order does not matter
                for category, ordered in self._profile(profile):
                    merged = best.setdefault(category, {})
                    for negative, sku in ordered[:window]:
                        if negative < merged.get(sku, 0):
                            merged[sku] = negative
            found = tuple(
                tuple(sorted((negative, sku) for sku, negative in merged.items())[:window])
                for merged in best.values()
            )
        if len(self._baskets) >= _BASKETS_KEPT:
            self._baskets.clear()
        self._baskets[key] = found
        return found

    def _ranked(
        self, purchase: PurchaseUpload, limit: int, offers: Mapping[str, Offer]
    ) -> list[AssociatedProduct]:
        """The *limit* best complements of the basket, best first, ties by SKU."""
        basket = {item.sku for item in purchase.items}
        # A category contributes at most `limit` candidates: its best ones not in the
        # basket, each ranked at its score times DIVERSITY_DECAY ** n (n = 0, 1, ...).
        window = limit + len(basket)
        ranked: list[tuple[int, str]] = []
        for ordered in self._candidates(purchase, window):
            n = 0
            floor = 0
            for negative, sku in ordered:
                if sku in basket:
                    continue
                key = round(negative * (_DECAY[n] if n < len(_DECAY) else DIVERSITY_DECAY**n))
                if n and key < floor:  # rounding must not lift it above the one before
                    key = floor
                floor = key
                ranked.append((key, sku))
                n += 1
                if n == limit:
                    break
        ranked.sort()
        result: list[AssociatedProduct] = []
        by_sku = self._catalog.by_sku
        for negative, sku in ranked[:limit]:
            product = by_sku(sku)
            assert product is not None  # candidates come from the catalog
            score = -negative / _UNITS
            result.append(associated_product(product, Reason.COMPLEMENT, score, offers.get(sku)))
        return result


_Ordered = tuple[tuple[int, str], ...]  # (-score in units, SKU), best first
_Candidates = tuple[tuple[str, _Ordered], ...]  # per complementary category
_NO_COLOUR: dict[str, int] = {}
_PROFILES_KEPT = 4096  # (category, brand, colour) profiles kept per recommender
_BASKETS_KEPT = 4096  # baskets' sets of profiles kept per recommender (a few MB at most)
_DECAY = tuple(DIVERSITY_DECAY**n for n in range(64))  # the powers the ranking uses
