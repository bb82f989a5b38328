"""The cloud's learned pairing engine (steps 506 and 507, unit 803).

:class:`PairingEngine` is a :class:`~protocol.Recommender` that learns, from every purchase
the cloud stores, the matching relation between goods "by usage habit, colour or brand"
(step 507) and pairs a new purchase with the products that go with it (step 506). Pure and
sans-I/O like the cloud machine: no clock, no randomness, no files. Its learned state is a
function of the sequence of purchases it observed and nothing else, so a cloud that
replays its stored bindings into :meth:`PairingEngine.observe` after a restart answers
exactly as before.

What it knows, and the :class:`~protocol.Reason` each part gives an answer:

1. **Co-purchase** (``Reason.CO_PURCHASE``): how many baskets held each product, and for
   each product the baskets it shared with its strongest neighbours. Memory is bounded:
   a product keeps at most ``2 * neighbours`` counters and, when it has more, drops all
   but the ``neighbours`` strongest, by count times ``(n(j) + 1) ** -popularity_damping``
   (a lossy top-N count: strong and specific relations survive, a pair seen once is
   forgotten). In a basket of more than ``basket_partners`` + 1 products each product is
   paired with about ``basket_partners`` of the others (a stable hash of the SKUs picks
   them), so a wholesale order of 1,000 lines costs 64,000 counts, not a million.
2. **Attribute knowledge** (``Reason.COMPLEMENT``): the same statistics one level up, by
   category (which categories are bought together: face wash with lotion, pasta with
   sauce), blended with the complement rules (:data:`~protocol.COMPLEMENT_RULES` by
   default) as the cold start; within a complementary category, its best sellers and the
   catalog's products, preferring the colour that goes with the purchased item's
   (:func:`~protocol.colour_affinity`) and its brand. A category written as a path
   (``"GROCERY > BAKED BREAD > BREAD:ITALIAN"``) is used whole; a product never seen
   before is paired through its category alone.
3. **Habits** (``Reason.HABIT``): what this phone bought before (its products, brands
   and colours), bounded to ``2 * habit_items`` counters per phone. A phone's
   ``habit_candidates`` most bought products are candidates (with ``related_habits``:
   only those of the basket's categories and the categories that go with them), and its
   brand and colour shares weigh every candidate: a private-label buyer gets
   private-label suggestions.
4. **Promotions** (``Reason.OFFER``, ``Reason.POPULAR``): the merchant's special offers
   and popular items are appended after the ranked products, as the rule recommender does.

The score of a candidate product ``j`` for a basket ``B`` and a phone ``u``::

    pair(i, j)  = (co(i, j) + m * P(D | C) * P(j | D) * affinity(i, j))
                  * (n(j) + 1) ** -beta / (n(i) + m)
    habit(u, j) = h * n_u(j) / (n_u + s)
    score(j)    = (sum over i in B of pair(i, j) + habit(u, j))
                  * (1 + b * brand_share(u, j) + c * colour_share(u, j))

where ``n(i)`` counts the baskets with ``i``, ``co(i, j)`` those with both, ``C`` and ``D``
are the categories of ``i`` and ``j``, ``P(D | C)`` is the category relation (learned
counts plus ``rule_prior`` times the rule weight, over the category's baskets plus
``rule_prior``), ``P(j | D)`` the share of ``j`` among its category's sales (Laplace
smoothed over the category's catalog products and those learned from co-purchases),
``affinity`` is 1 plus the colour harmony and brand bonuses of the rule
recommender, ``m`` is ``category_prior`` (the fewer baskets a product was seen in, the
more its category speaks for it), ``beta`` is ``popularity_damping`` (0 ranks a
product's neighbours by co-occurrence count, 0.5 as cosine similarity does: milk and
bananas go with everything, the damping lets the specific complements through; the
phone's own habits are not damped: its staples are its staples). Each basket product
contributes only its ``pairings`` best candidates; answers are ranked with the rule
recommender's diversity decay (the n-th candidate of a category at
``score * diversity ** n``), ties by SKU.

What a question reads is derived at the first question that needs it and kept: a
product's pairing list, a category's related categories, the category parts a category
offers a (brand, colour). Learning a basket stamps the products and categories it
changed with a new clock value, and a kept value is recomputed only if something it was
derived from carries a later stamp: a pairing list depends on its product's counters,
its neighbours' counts (their damping), its category and the related ones. An answer is
therefore the same whatever was asked before (the popular products and categories of a
basket still reach many lists: they are neighbours and related categories of most).
"""

from __future__ import annotations

import collections
import itertools
import math
import operator
import zlib
from array import array
from bisect import insort
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

import attrs

from protocol._core._errors import LocalProtocolError
from protocol._core._messages import AssociatedProduct, Item, PurchaseUpload, Reason
from protocol._core._validators import ConfigValidators

from ._catalog import Catalog, associated_product, builtin_catalog
from ._recommender import (
    BRAND_BONUS,
    COMPLEMENT_RULES,
    PROMOTION_SCORE,
    Promotions,
    colour_affinity,
    offers_for,
    promoted,
)

__all__ = ["EngineConfig", "Pairing", "PairingEngine"]


_check = ConfigValidators(LocalProtocolError)
_count_bound = _check.whole_number(1)
_weight = _check.non_negative_number()
_fraction = _check.fraction()


@attrs.frozen
class EngineConfig:
    """The knobs of :class:`PairingEngine`: memory bounds first, then the score's weights.

    The weights were chosen on the training part of both datasets (see
    ``docs/recommender.md``). Raises :class:`~protocol.LocalProtocolError` on a bad value.
    """

    neighbours: int = attrs.field(default=32, validator=_count_bound)
    """Co-purchase neighbours kept per product (at most twice as many counters)."""
    category_neighbours: int = attrs.field(default=12, validator=_count_bound)
    """Related categories kept per category (at most twice as many counters)."""
    category_best: int = attrs.field(default=6, validator=_count_bound)
    """Best sellers kept per category, the candidates a category relation offers."""
    complements: int = attrs.field(default=4, validator=_count_bound)
    """Related categories a basket product draws candidates from."""
    pairings: int = attrs.field(default=8, validator=_count_bound)
    """Candidates each basket product contributes."""
    basket_partners: int = attrs.field(default=64, validator=_count_bound)
    """In a basket of more products, each is paired with about this many of the others
    (chosen by a stable hash of the two SKUs), so a wholesale order of 1,000 lines costs
    64,000 counts instead of a million and weighs less per pair."""
    habit_items: int = attrs.field(default=48, validator=_count_bound)
    """Products remembered per phone (at most twice as many counters)."""
    habit_candidates: int = attrs.field(default=4, validator=_count_bound)
    """A phone's most bought products offered as candidates."""
    category_prior: float = attrs.field(default=1.0, validator=_weight)
    """``m``: baskets' worth of weight the category estimate has against a product's own."""
    rule_prior: float = attrs.field(default=2.0, validator=_weight)
    """Baskets' worth of weight a complement rule has against a category's own counts."""
    habit_weight: float = attrs.field(default=0.15, validator=_weight)
    """``h``: weight of a phone's own repeat purchases."""
    related_habits: bool = attrs.field(default=False, validator=_check.flag())
    """Offer the phone's products of the basket's categories and of the categories that
    go with them (its favourite yogurt, its usual sauce); False: its most bought at all."""
    habit_smoothing: float = attrs.field(default=2.0, validator=_weight)
    """``s``: baskets added to a phone's count, so one purchase is no habit yet."""
    brand_weight: float = attrs.field(default=0.3, validator=_weight)
    """``b``: weight of the phone's share of purchases in the candidate's brand."""
    colour_weight: float = attrs.field(default=0.3, validator=_weight)
    """``c``: weight of the phone's share of purchases in the candidate's colour."""
    popularity_damping: float = attrs.field(default=0.35, validator=_fraction)
    """``beta``: basket-derived parts are divided by ``(n(j) + 1) ** beta``: 0 ranks a
    product's neighbours by co-occurrence count, 0.5 as cosine similarity does."""
    diversity: float = attrs.field(default=0.8, validator=_fraction)
    """The n-th candidate of a category is ranked at ``score * diversity ** n``."""


class Pairing(NamedTuple):
    """One ranked product of :meth:`PairingEngine.pair`: its SKU, score and reason."""

    sku: str
    score: float
    reason: Reason


class _Habits:
    """One phone's purchases: baskets, products (bounded), brands and colours."""

    __slots__ = ("baskets", "brands", "colours", "items", "lines", "memo")

    def __init__(self) -> None:
        self.baskets = 0
        self.lines = 0
        self.items: dict[int, int] = {}
        self.brands: dict[str, int] = {}
        self.colours: dict[str, int] = {}
        self.memo: _HabitMemo | None = None  # derived at the first question after learning


class _HabitMemo(NamedTuple):
    """What questions read from a phone's habits, derived once per change."""

    top: tuple[int, ...]  # its most bought products
    by_category: dict[int, tuple[int, ...]]  # its most bought products of each category
    scale: float  # habit weight per basket of a product
    brands: dict[str, float]  # brand -> 1 + brand weight * share
    colours: dict[str, float]  # colour -> colour weight * share


_SLACK = 2
"""A row of counters grows to ``_SLACK`` times what it keeps before it is cut back."""


def _count_in(mapping: dict[Any, int], keys: Iterable[Any]) -> None:
    """Add 1 to ``mapping[key]`` (0 if absent) for each of *keys*, in order."""
    get = mapping.get
    for key in keys:
        mapping[key] = get(key, 0) + 1


_count: Callable[[dict[Any, int], Iterable[Any]], None] = vars(collections).get(
    "_count_elements", _count_in
)
"""``collections.Counter``'s own counting loop (in C: ``mapping[key] = mapping.get(key, 0)
+ 1`` for each key, in order) applied to plain dicts; :func:`_count_in` if it is absent."""

_HABIT = Reason.HABIT
_CO_PURCHASE = Reason.CO_PURCHASE
_COMPLEMENT = Reason.COMPLEMENT

_MEMO_LIMIT = 1 << 15
"""Pairing lists kept at most; past it the oldest quarter is forgotten (recomputed if asked)."""


class _Pairings:
    """A basket product's pairing list: its best candidates, their co-purchase parts and
    their category parts, and the clock at which they were last known to be exact.

    A list depends on the product's own counters, on its neighbours' counts (their
    popularity damping), on its category (the related categories) and on each related
    category's counters. :meth:`PairingEngine._fresh` checks their stamps against the
    list's, so learning a basket recomputes only the lists that basket touched."""

    __slots__ = ("co", "ids", "kinds", "near", "stamp")

    def __init__(
        self,
        stamp: int,
        ids: tuple[int, ...],
        co: tuple[float, ...],
        near: tuple[float, ...],
        kinds: tuple[int, ...],
    ) -> None:
        self.stamp = stamp
        self.ids = ids
        self.co = co
        self.near = near
        self.kinds = kinds  # the product's category, then the related ones it drew from


class _Block:
    """What a category offers as a related category: its best sellers and catalog
    products (``members``) and their affinities to a basket product's (brand, colour),
    derived when its best sellers change."""

    __slots__ = ("affinity", "members", "stamp")

    def __init__(
        self,
        stamp: int,
        members: tuple[int, ...],
        affinity: dict[tuple[str, str], tuple[float, ...]],
    ) -> None:
        self.stamp = stamp
        self.members = members
        self.affinity = affinity


class _Near(NamedTuple):
    """The category parts a category offers a product of a (brand, colour)."""

    stamp: int  # the clock at which they were derived
    kinds: tuple[int, ...]  # the category, then its related categories
    values: dict[int, float]  # candidate -> category part, before dividing by n(i) + m


class PairingEngine:
    """A learned :class:`~protocol.Recommender`: co-purchase, attributes, habits, promotions.

    *catalog* (default: the built-in catalog) lists products known before any purchase:
    candidates of the complement *rules* (default :data:`~protocol.COMPLEMENT_RULES`) from
    the start. ``PairingEngine(catalog=Catalog(()), rules={})`` knows nothing until it
    learns. Products seen in purchases join the candidates as they come.

    Deterministic: the answer depends only on the configuration, the catalog, the rules,
    the sequence of observed purchases and the question. Learning does not depend on the
    order of the lines of a basket, and, while no product, category or phone has reached
    its memory bound, not on the order of the baskets either.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        rules: Mapping[str, Sequence[tuple[str, float]]] | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        self.config = config if config is not None else EngineConfig()
        cfg = self.config
        self._catalog = builtin_catalog() if catalog is None else catalog
        # Products: interned ids and per-id attributes.
        self._ids: dict[str, int] = {}
        self._sku: list[str] = []
        self._item: list[Item] = []
        self._category: list[int] = []
        self._brand: list[str] = []
        self._colour: list[str] = []
        self._words: dict[str, str] = {}  # one string object per brand or colour: faster keys
        self._count: list[int] = []
        self._neighbours: list[dict[int, int]] = []
        self._hash: list[int] = []  # stable hash of the SKU (pairing in big baskets)
        # (count + 1) ** -popularity_damping; a list: map(list.__getitem__) beats an array's
        self._damping: list[float] = []
        self._powers: list[float] = []  # n -> (n + 1) ** -popularity_damping, as computed
        # Categories.
        self._category_ids: dict[str, int] = {}
        self._category_name: list[str] = []
        self._category_count: list[int] = []  # baskets with the category
        self._category_sales: list[int] = []  # sum of its products' basket counts
        self._category_size: list[int] = []  # its catalog products and those learned
        self._category_related: list[dict[int, int]] = []
        self._category_best: list[list[int]] = []  # best sellers, at most category_best
        self._category_floor: list[int] = []  # a lower bound of their smallest count
        self._category_hash: list[int] = []
        self._category_catalog: list[tuple[int, ...]] = []
        self._rules: list[tuple[tuple[int, float], ...]] = []
        # Phones.
        self._habits: dict[str, _Habits] = {}
        self._baskets = 0
        # Derived state, recomputed at a question when what it was derived from changed:
        # every change of a product or a category stamps it with a new clock value.
        self._clock = 0
        self._stamp = array("q")  # product -> clock of its last counted basket
        self._category_stamp: list[int] = []  # category -> clock of its last change
        self._best_stamp: list[int] = []  # category -> clock its best sellers last changed
        self._memo: dict[int, _Pairings] = {}
        self._related_memo: dict[int, tuple[int, list[tuple[int, float]], tuple[int, ...]]] = {}
        self._blocks: dict[int, _Block] = {}
        self._nears: dict[tuple[int, str, str], _Near] = {}
        self._answers: dict[tuple[int, float, Reason], AssociatedProduct] = {}
        self._neighbour_cap = _SLACK * cfg.neighbours
        self._related_cap = _SLACK * cfg.category_neighbours
        self._habit_cap = _SLACK * cfg.habit_items

        for product in self._catalog.products:
            self._intern(self._catalog.to_item(product), catalog=True)
        self._catalog_end = len(self._sku)  # the catalog's products are the first ids
        table = COMPLEMENT_RULES if rules is None else rules
        for source, complements in sorted(table.items()):
            entries: list[tuple[int, float]] = []
            for target, weight in complements:
                if not (math.isfinite(weight) and 0.0 < weight <= 1.0):
                    raise LocalProtocolError(
                        f"PairingEngine: weight of rule {source!r} -> {target!r} must be in "
                        f"(0, 1], got {weight!r}"
                    )
                entries.append((self._category_id(target), weight))
            self._rules[self._category_id(source)] = tuple(entries)

    # ------------------------------------------------------------------ interning

    def _category_id(self, name: str) -> int:
        found = self._category_ids.get(name)
        if found is not None:
            return found
        index = len(self._category_name)
        self._category_ids[name] = index
        self._category_name.append(name)
        self._category_count.append(0)
        self._category_sales.append(0)
        self._category_size.append(0)
        self._category_related.append({})
        self._category_best.append([])
        self._category_floor.append(0)
        self._category_hash.append(zlib.crc32(name.encode()))
        self._category_catalog.append(())
        self._rules.append(())
        self._category_stamp.append(self._clock)
        self._best_stamp.append(self._clock)
        return index

    def _intern(self, item: Item, *, catalog: bool = False) -> int:
        found = self._ids.get(item.sku)
        if found is not None:
            return found
        index = len(self._sku)
        category = self._category_id(item.category)
        self._ids[item.sku] = index
        self._sku.append(item.sku)
        self._item.append(item if item.quantity == 1 else attrs.evolve(item, quantity=1))
        self._category.append(category)
        self._brand.append(self._words.setdefault(item.brand, item.brand))
        self._colour.append(self._words.setdefault(item.colour, item.colour))
        self._count.append(0)
        self._neighbours.append({})
        self._hash.append(zlib.crc32(item.sku.encode()))
        self._damping.append(1.0)
        self._stamp.append(0)
        if catalog:
            self._category_size[category] += 1
            self._category_catalog[category] += (index,)
        return index

    # ------------------------------------------------------------------ learning (507)

    @property
    def baskets(self) -> int:
        """Baskets learned from (co-purchase statistics)."""
        return self._baskets

    @property
    def products(self) -> int:
        """Products known: the catalog's and every one seen in a purchase."""
        return len(self._sku)

    def observe(self, purchase: PurchaseUpload) -> None:
        """Step 507: learn the purchase's co-purchases and the phone's habits."""
        self.learn(purchase.items, purchase.phone_id)

    def learn(
        self, items: Iterable[Item], phone_id: str | None = None, *, co_purchase: bool = True
    ) -> None:
        """Learn one basket: its *items* (repeats count once) bought by *phone_id*.

        ``co_purchase=False`` learns the phone's habits only (an evaluation's shopper
        history over a frozen model): the co-purchase model stays as it was, a product
        first seen there joins its category's statistics when learned with co-purchases.
        ``phone_id=None`` learns no habit.
        """
        items = tuple(items)
        known = set(map(self._ids.get, map(_sku_of, items)))
        if None in known:  # a product first seen: intern in the order of the lines
            intern = self._intern
            ids = sorted({intern(item) for item in items})
        else:
            ids = sorted(cast("set[int]", known))
        if not ids:
            return
        if co_purchase:
            self._learn_pairs(ids)
        if phone_id is not None:
            self._learn_habits(phone_id, ids)

    def _learn_pairs(self, ids: list[int]) -> None:
        self._baskets += 1
        clock = self._clock = self._clock + 1
        stamp = self._stamp
        category_stamp = self._category_stamp
        count = self._count
        category_of = self._category
        sales = self._category_sales
        floor = self._category_floor
        categories: dict[int, int] = {}
        beta = -self.config.popularity_damping
        damping = self._damping
        powers = self._powers
        catalog_end = self._catalog_end
        size = self._category_size
        for i in ids:
            n = count[i] = count[i] + 1
            stamp[i] = clock
            if beta:
                while len(powers) <= n:  # computed once per count, as it always was
                    powers.append((len(powers) + 1) ** beta)
                damping[i] = powers[n]
            c = category_of[i]
            category_stamp[c] = clock
            if n == 1 and i >= catalog_end:
                size[c] += 1  # a product joins its category's size when first learned
            sales[c] += 1
            categories[c] = categories.get(c, 0) + 1
            if n >= floor[c]:
                self._rank_best(c, i)
        if len(ids) > 1:
            self._count_pairs(
                ids, self._neighbours, self._hash, self._neighbour_cap, damping if beta else None
            )
        related = self._category_related
        category_count = self._category_count
        for c in categories:
            category_count[c] += 1
        kinds = sorted(categories)  # even one: its row may have grown past its cap
        self._count_pairs(kinds, related, self._category_hash, self._related_cap, None)
        for c, times in categories.items():
            if times > 1:  # two products of one category: it goes with itself
                row = related[c]
                row[c] = row.get(c, 0) + 1

    def _count_pairs(
        self,
        ids: list[int],
        rows: list[dict[int, int]],
        hashes: list[int],
        cap: int,
        weights: Sequence[float] | None,
    ) -> None:
        """Count each pair of distinct *ids* in both rows (about ``basket_partners`` per
        id in a big basket), keeping each row within *cap* counters: the strongest by
        count times the neighbour's *weights* (its popularity damping), if given.

        A row counts its partners in the order of *ids* (the order of its counters decides
        the ties of :func:`_strongest`), by :data:`_count` (a loop in C)."""
        keep = cap // _SLACK
        partners = self.config.basket_partners
        count = _count
        strongest = _strongest
        if len(ids) - 1 <= partners:
            last = len(ids) - 1
            for k, i in enumerate(ids):
                row = rows[i]
                if k:
                    count(row, ids[:k])
                if k < last:
                    count(row, ids[k + 1 :])
                if len(row) > cap:
                    rows[i] = strongest(row, keep, weights)
            return
        # i and j are partners when hash(i) + hash(j) is 0 modulo `groups`: symmetric,
        # independent of the order of the basket, about len(ids) / groups partners each.
        groups = -(-(len(ids) - 1) // partners)
        by_group: list[list[int]] = [[] for _ in range(groups)]
        for i in ids:
            by_group[hashes[i] % groups].append(i)
        for i in ids:
            row = rows[i]
            group = by_group[-hashes[i] % groups]
            if i in group:
                k = group.index(i)
                count(row, group[:k])
                count(row, group[k + 1 :])
            else:
                count(row, group)
            if len(row) > cap:
                rows[i] = strongest(row, keep, weights)

    def _rank_best(self, category: int, product: int) -> None:
        """Keep the category's best sellers: the exact top by (count, then SKU), since
        counts only grow. Called when *product*'s count reached the floor."""
        best = self._category_best[category]
        if product in best:
            return
        if len(best) < self.config.category_best:
            best.append(product)
            self._best_stamp[category] = self._clock
            return
        count = self._count
        sku = self._sku
        worst = best[0]
        for p in best[1:]:
            if count[p] < count[worst] or (count[p] == count[worst] and sku[p] > sku[worst]):
                worst = p
        low = count[worst]
        if count[product] > low or (count[product] == low and sku[product] < sku[worst]):
            best[best.index(worst)] = product
            self._best_stamp[category] = self._clock
            low = min(count[p] for p in best)
        self._category_floor[category] = low

    def _learn_habits(self, phone_id: str, ids: list[int]) -> None:
        habits = self._habits.get(phone_id)
        if habits is None:
            habits = self._habits[phone_id] = _Habits()
        habits.baskets += 1
        habits.lines += len(ids)
        habits.memo = None
        items = habits.items
        _count(items, ids)
        _count(habits.brands, map(self._brand.__getitem__, ids))
        _count(habits.colours, filter(None, map(self._colour.__getitem__, ids)))
        if len(items) > self._habit_cap:
            habits.items = _strongest(items, self.config.habit_items, None)

    # ------------------------------------------------------------------ pairing (506)

    def associate(
        self, purchase: PurchaseUpload, promotions: Promotions | None, limit: int
    ) -> tuple[AssociatedProduct, ...]:
        """Step 506: up to *limit* ranked products, then at most *limit* promoted ones.

        Promotions as :meth:`~protocol.RuleRecommender.associate` places them: special
        offers (``Reason.OFFER``) then popular items (``Reason.POPULAR``), skipping SKUs
        the engine does not know, in the basket or already listed; a ranked product on
        offer keeps its place and reason and carries the offer. Raises
        :class:`~protocol.LocalProtocolError` if *limit* is negative or *promotions*
        belong to another merchant than the purchase.
        """
        offers = offers_for("PairingEngine", purchase, promotions, limit)
        if limit == 0:
            return ()
        ranked = self._pair(purchase.items, purchase.phone_id, limit)
        sku = self._sku
        answers = self._answers
        result = []
        for j, score, reason in ranked:
            offer = offers.get(sku[j]) if offers else None
            if offer is not None:
                result.append(associated_product(self._item[j], reason, score, offer))
                continue
            # Built (validated) once per product, score and reason.
            key = (j, score, reason)
            found = answers.get(key)
            if found is None:
                if len(answers) >= _MEMO_LIMIT:
                    answers.clear()
                found = answers[key] = associated_product(self._item[j], reason, score, None)
            result.append(found)
        if promotions is not None:
            listed = {item.sku for item in purchase.items} | {sku[j] for j, _, _ in ranked}
            item = self._item
            result.extend(
                associated_product(item[index], reason, PROMOTION_SCORE, offer)
                for index, reason, offer in promoted(
                    promotions, limit, offers, listed, self._ids.get
                )
            )
        return tuple(result)

    def pair(self, items: Iterable[Item], phone_id: str | None, limit: int) -> list[Pairing]:
        """The *limit* best products to go with *items* for *phone_id*, best first.

        Never an SKU of *items*; ties by SKU. ``phone_id=None`` (or a phone never seen)
        pairs without habits. Reads the model only: asking changes no answer.
        """
        sku = self._sku
        return [
            Pairing(sku[j], score, reason)
            for j, score, reason in self._pair(items, phone_id, limit)
        ]

    def _pair(
        self, items: Iterable[Item], phone_id: str | None, limit: int
    ) -> list[tuple[int, float, Reason]]:
        """:meth:`pair` by product id: (id, score, reason), best first.

        The path of every question, in plain loops: on some 40 candidates a chain of
        ``map`` calls costs more than the work it does."""
        if limit <= 0:
            return []
        basket: dict[str, Item] = {}
        for item in items:
            basket.setdefault(item.sku, item)
        co, near, excluded = self._gather(basket)
        habits = self._habits.get(phone_id) if phone_id is not None else None
        if habits is None:
            return self._rank({j: a + near[j] for j, a in co.items()}, co, near, {}, limit)
        scores, habit = self._score(habits, basket, co, near, excluded)
        return self._rank(scores, co, near, habit, limit)

    def _gather(
        self, basket: dict[str, Item]
    ) -> tuple[dict[int, float], dict[int, float], list[int]]:
        """Sum the basket products' pairing lists: candidate -> co-purchase part, and
        candidate -> category part (the same keys), without the basket's products (the
        third result). Summed in SKU order, so the basket's order cannot change a float."""
        ids = self._ids
        memo = self._memo
        clock = self._clock
        co: dict[int, float] = {}
        near: dict[int, float] = {}
        excluded: list[int] = []
        for name in sorted(basket):
            index = ids.get(name)
            if index is None:
                found = self._compute_pairings(None, basket[name])
            else:
                excluded.append(index)
                cached = memo.get(index)
                if cached is None or (cached.stamp != clock and not self._fresh(index, cached)):
                    found = self._remember(index)
                else:
                    found = cached
            for j, a, b in zip(found.ids, found.co, found.near, strict=True):
                if j in co:
                    co[j] += a
                    near[j] += b
                else:
                    co[j] = a
                    near[j] = b
        for j in excluded:
            if j in co:
                del co[j], near[j]
        return co, near, excluded

    def _score(
        self,
        habits: _Habits,
        basket: dict[str, Item],
        co: dict[int, float],
        near: dict[int, float],
        excluded: list[int],
    ) -> tuple[dict[int, float], dict[int, float]]:
        """Add the phone's habit candidates to *co* and *near* (parts 0); score every
        candidate ``(co + near + habit) * (brand weight + colour weight)``. Returns the
        scores and the habit parts."""
        mine = habits.memo if habits.memo is not None else self._habit_memo(habits)
        offered = self._habit_candidates(mine, basket) if self.config.related_habits else mine.top
        for j in offered:
            if j not in co and j not in excluded:
                co[j] = near[j] = 0.0
        scale = mine.scale
        own = habits.items
        brands = mine.brands
        colours = mine.colours  # "" (no colour) is never a key
        brand_of = self._brand
        colour_of = self._colour
        habit: dict[int, float] = {}
        scores: dict[int, float] = {}
        for j, a in co.items():
            raw = a + near[j]
            if j in own:
                h = habit[j] = own[j] * scale
                raw += h
            weight = brands.get(brand_of[j], 1.0)
            if colours:
                weight += colours.get(colour_of[j], 0.0)
            scores[j] = raw * weight
        return scores, habit

    def _rank(
        self,
        scores: dict[int, float],
        co: dict[int, float],
        near: dict[int, float],
        habit: dict[int, float],
        limit: int,
    ) -> list[tuple[int, float, Reason]]:
        """Best first, the n-th candidate of a category at ``score * diversity ** n``,
        ties by SKU; each with the reason of its largest part. The candidates are taken
        by score (a run of equal scores by SKU) until every later one ranks below the
        chosen ones, decayed or not."""
        sku = self._sku
        category = self._category
        decay = self.config.diversity
        order = sorted(scores, key=scores.__getitem__, reverse=True)
        best: list[tuple[float, str, int]] = []
        seen: dict[int, int] = {}
        end = len(order)
        start = 0
        while start < end:
            score = scores[order[start]]
            negative = -score
            if len(best) == limit and negative > best[-1][0]:
                break
            stop = start + 1
            while stop < end and scores[order[stop]] == score:
                stop += 1
            run = order[start:stop]
            if stop - start > 1:
                run.sort(key=sku.__getitem__)
            for j in run:
                if len(best) == limit and negative > best[-1][0]:
                    break  # so do the rest of the run, and the next run stops the loop
                c = category[j]
                n = seen.get(c, 0)
                seen[c] = n + 1
                key = (negative * decay**n if n else negative, sku[j], j)
                if len(best) < limit:
                    insort(best, key)
                elif key < best[-1]:
                    best.pop()
                    insort(best, key)
            start = stop
        result = []
        for negative, _, j in best:
            a = co[j]
            b = near[j]
            h = habit.get(j, 0.0)
            reason = _HABIT if h > a and h > b else _CO_PURCHASE if a >= b else _COMPLEMENT
            result.append((j, -negative, reason))
        return result

    def _remember(self, index: int) -> _Pairings:
        """Compute and keep product *index*'s pairing list (forgetting the oldest quarter
        of the lists kept if there are too many)."""
        memo = self._memo
        if len(memo) >= _MEMO_LIMIT:
            for old in list(itertools.islice(memo, _MEMO_LIMIT // 4)):
                del memo[old]
        found = memo[index] = self._compute_pairings(index, self._item[index])
        return found

    def _fresh(self, index: int, entry: _Pairings) -> bool:
        """Whether nothing *entry* (the pairing list of product *index*) was derived from
        has changed since its stamp; if so, it is stamped with the current clock."""
        stamp = entry.stamp
        category_stamp = self._category_stamp
        for c in entry.kinds:  # its category first: learning the product stamps it
            if category_stamp[c] > stamp:
                return False
        if any(map(stamp.__lt__, map(self._stamp.__getitem__, self._neighbours[index]))):
            return False  # a neighbour's count changed, hence its damping
        entry.stamp = self._clock
        return True

    def _habit_candidates(self, memo: _HabitMemo, basket: dict[str, Item]) -> Iterable[int]:
        """The phone's products offered for this basket (see ``related_habits``)."""
        if not self.config.related_habits:
            return memo.top
        kinds: set[int] = set()
        for item in basket.values():
            c = self._category_ids.get(item.category)
            if c is not None:
                kinds.add(c)
                kinds.update(self._related(c)[1])
        by_category = memo.by_category
        return [j for c in sorted(kinds) for j in by_category.get(c, ())]

    def _habit_memo(self, habits: _Habits) -> _HabitMemo:
        cfg = self.config
        sku = self._sku
        ordered = sorted(habits.items.items(), key=lambda e: (-e[1], sku[e[0]]))
        lines = habits.lines
        by_category: dict[int, list[int]] = {}
        for j, _ in ordered:
            found = by_category.setdefault(self._category[j], [])
            if len(found) < cfg.habit_candidates:
                found.append(j)
        memo = _HabitMemo(
            top=tuple(j for j, _ in ordered[: cfg.habit_candidates]),
            by_category={c: tuple(js) for c, js in by_category.items()},
            scale=cfg.habit_weight / (habits.baskets + cfg.habit_smoothing),
            brands={b: 1.0 + cfg.brand_weight * n / lines for b, n in habits.brands.items()},
            colours={c: cfg.colour_weight * n / lines for c, n in habits.colours.items()},
        )
        habits.memo = memo
        return memo

    def _compute_pairings(self, index: int | None, item: Item) -> _Pairings:
        """A basket product's best candidates: ids, co-purchase parts, category parts."""
        cfg = self.config
        m = cfg.category_prior
        # Both parts are summed before dividing by n(i) + m, which changes no order.
        total: dict[int, float] = {}
        if index is not None:
            damping = self._damping
            total = {j: n * damping[j] for j, n in self._neighbours[index].items()}
        near: dict[int, float] = {}
        kinds: tuple[int, ...] = ()
        category = self._category_ids.get(item.category)
        if category is not None:
            kinds = (category,)
            if m > 0:
                _, kinds, near = self._near(category, item.brand, item.colour)
                for j, b in near.items():
                    total[j] = total[j] + b if j in total else b
                if index is not None:
                    total.pop(index, None)  # never in its own row: only in `near`
        chosen = _best(total, cfg.pairings, self._sku)
        scale = 1.0 / ((self._count[index] if index is not None else 0) + m)
        co_parts = []
        near_parts = []
        for j in chosen:
            b = near.get(j, 0.0)
            co_parts.append((total[j] - b) * scale)
            near_parts.append(b * scale)
        return _Pairings(self._clock, tuple(chosen), tuple(co_parts), tuple(near_parts), kinds)

    def _near(self, category: int, brand: str, colour: str) -> _Near:
        """The category parts of the candidates *category*'s related categories offer a
        product of *brand* and *colour* (its own SKU included, if it is a candidate)."""
        key = (category, brand, colour)
        found = self._nears.get(key)
        category_stamp = self._category_stamp
        if found is not None:
            stamp = found.stamp
            for c in found.kinds:
                if category_stamp[c] > stamp:
                    break
            else:
                return found
        related, kinds = self._related(category)
        m = self.config.category_prior
        attributes = (brand, colour)
        count = self._count
        damping = self._damping
        sales = self._category_sales
        size = self._category_size
        blocks = self._blocks
        best_stamp = self._best_stamp
        near: dict[int, float] = {}
        for d, p in related:
            block = blocks.get(d)
            if block is None or block.stamp < best_stamp[d]:
                block = self._block(d)
            affinity = block.affinity.get(attributes)
            if affinity is None:
                affinity = block.affinity[attributes] = self._affinity(block.members, attributes)
            base = m * p / (sales[d] + size[d])
            for j, a in zip(block.members, affinity, strict=True):
                near[j] = base * (count[j] + 1) * damping[j] * a
        found = self._nears[key] = _Near(self._clock, kinds, near)
        return found

    def _block(self, category: int) -> _Block:
        """The products *category* offers as a related category (its best sellers and its
        catalog products), with no affinity known yet."""
        best = self._category_best[category]
        catalog = self._category_catalog[category]
        members = tuple(dict.fromkeys((*best, *catalog))) if catalog else tuple(best)
        found = self._blocks[category] = _Block(self._clock, members, {})
        return found

    def _affinity(self, members: tuple[int, ...], attributes: tuple[str, str]) -> tuple[float, ...]:
        """1 plus the colour harmony and brand bonuses of each of *members* with a product
        of *attributes* (brand, colour)."""
        brand, colour = attributes
        brand_of = self._brand
        colour_of = self._colour
        values = []
        for j in members:
            affinity = 1.0
            if colour:
                affinity += colour_affinity(colour, colour_of[j])
            if brand_of[j] == brand:
                affinity += BRAND_BONUS
            values.append(affinity)
        return tuple(values)

    def _related(self, category: int) -> tuple[list[tuple[int, float]], tuple[int, ...]]:
        """The categories bought with *category*: (category, P(D | C)), best first; and
        the categories its pairing lists depend on: itself, then those."""
        found = self._related_memo.get(category)
        if found is not None and found[0] >= self._category_stamp[category]:
            return found[1], found[2]
        related = self._compute_related(category)
        kinds = (category, *[d for d, _ in related])
        self._related_memo[category] = (self._clock, related, kinds)
        return related, kinds

    def _compute_related(self, category: int) -> list[tuple[int, float]]:
        prior = self.config.rule_prior
        rules = self._rules[category]
        observed = self._category_related[category]
        total = self._category_count[category] + (prior if rules else 0.0)
        if total <= 0:
            return []
        names = self._category_name
        keep = self.config.complements
        if not rules:  # n / total ranks as n does (ties included): divide the chosen only
            return [(d, observed[d] / total) for d in _best(observed, keep, names)]
        weights: dict[int, float] = {d: n / total for d, n in observed.items()}
        for d, weight in rules:
            weights[d] = weights.get(d, 0.0) + prior * weight / total
        return [(d, weights[d]) for d in _best(weights, keep, names)]


_second = operator.itemgetter(1)
_sku_of = operator.attrgetter("sku")


def _best(scores: Mapping[int, float], keep: int, names: list[str]) -> list[int]:
    """The *keep* keys of *scores* with the largest values, best first, ties by name."""
    if len(scores) > keep:
        cut = sorted(scores.values())[-keep]  # the keep-th largest: sorting in C is cheap
        chosen = [key for key, value in scores.items() if value >= cut]
    else:
        chosen = list(scores)
    if len(chosen) > 1:
        chosen.sort(key=names.__getitem__)
        chosen.sort(key=scores.__getitem__, reverse=True)  # stable: ties stay by name
    return chosen[:keep]


def _strongest(row: dict[int, int], keep: int, weights: Sequence[float] | None) -> dict[int, int]:
    """The *keep* largest counters of *row*, each times its key's weight if *weights* are
    given (ties: the earlier inserted)."""
    if weights is None:
        return dict(sorted(row.items(), key=_second, reverse=True)[:keep])
    strength = list(map(operator.mul, row.values(), map(weights.__getitem__, row)))
    cut = sorted(strength)[-keep]  # the keep-th largest; sorting in C beats heapq here
    kept = itertools.compress(row.items(), map(cut.__le__, strength))
    return dict(itertools.islice(kept, keep))
