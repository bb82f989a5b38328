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
smoothed), ``affinity`` is 1 plus the colour harmony and brand bonuses of the rule
recommender, ``m`` is ``category_prior`` (the fewer baskets a product was seen in, the
more its category speaks for it), ``beta`` is ``popularity_damping`` (0 ranks a
product's neighbours by co-occurrence count, 0.5 as cosine similarity does: milk and
bananas go with everything, the damping lets the specific complements through; the
phone's own habits are not damped: its staples are its staples). Each basket product
contributes only its ``pairings`` best candidates; answers are ranked with the rule
recommender's diversity decay (the n-th candidate of a category at
``score * diversity ** n``), ties by SKU.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import operator
import zlib
from bisect import insort
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import attrs

from ._catalog import Catalog, Product, builtin_catalog
from ._errors import LocalProtocolError
from ._messages import AssociatedProduct, Item, Offer, PurchaseUpload, Reason
from ._recommender import (
    BRAND_BONUS,
    COMPLEMENT_RULES,
    PROMOTION_SCORE,
    Promotions,
    colour_affinity,
    offers_for,
)

__all__ = ["EngineConfig", "Pairing", "PairingEngine"]


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LocalProtocolError(f"EngineConfig.{attribute.name} must be a whole number >= 1")


def _weight(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LocalProtocolError(f"EngineConfig.{attribute.name} must be a finite number")
    if value < 0:
        raise LocalProtocolError(f"EngineConfig.{attribute.name} must be >= 0, got {value!r}")


def _flag(instance: object, attribute: attrs.Attribute[bool], value: bool) -> None:
    if not isinstance(value, bool):
        raise LocalProtocolError(f"EngineConfig.{attribute.name} must be True or False")


def _fraction(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    _weight(instance, attribute, value)
    if value > 1:
        raise LocalProtocolError(f"EngineConfig.{attribute.name} must be <= 1, got {value!r}")


@attrs.frozen
class EngineConfig:
    """The knobs of :class:`PairingEngine`: memory bounds first, then the score's weights.

    The weights were chosen on the training part of both datasets (see
    ``docs/recommender.md``). Raises :class:`~protocol.LocalProtocolError` on a bad value.
    """

    neighbours: int = attrs.field(default=32, validator=_positive)
    """Co-purchase neighbours kept per product (at most twice as many counters)."""
    category_neighbours: int = attrs.field(default=12, validator=_positive)
    """Related categories kept per category (at most twice as many counters)."""
    category_best: int = attrs.field(default=6, validator=_positive)
    """Best sellers kept per category, the candidates a category relation offers."""
    complements: int = attrs.field(default=4, validator=_positive)
    """Related categories a basket product draws candidates from."""
    pairings: int = attrs.field(default=8, validator=_positive)
    """Candidates each basket product contributes."""
    basket_partners: int = attrs.field(default=64, validator=_positive)
    """In a basket of more products, each is paired with about this many of the others
    (chosen by a stable hash of the two SKUs), so a wholesale order of 1,000 lines costs
    64,000 counts instead of a million and weighs less per pair."""
    habit_items: int = attrs.field(default=48, validator=_positive)
    """Products remembered per phone (at most twice as many counters)."""
    habit_candidates: int = attrs.field(default=4, validator=_positive)
    """A phone's most bought products offered as candidates."""
    category_prior: float = attrs.field(default=1.0, validator=_weight)
    """``m``: baskets' worth of weight the category estimate has against a product's own."""
    rule_prior: float = attrs.field(default=2.0, validator=_weight)
    """Baskets' worth of weight a complement rule has against a category's own counts."""
    habit_weight: float = attrs.field(default=0.15, validator=_weight)
    """``h``: weight of a phone's own repeat purchases."""
    related_habits: bool = attrs.field(default=False, validator=_flag)
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

# A pairing list: candidate product ids, their co-purchase parts, their category parts.
_Entry = tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]]


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
        self._count: list[int] = []
        self._neighbours: list[dict[int, int]] = []
        self._hash: list[int] = []  # stable hash of the SKU (pairing in big baskets)
        self._damping: list[float] = []  # (count + 1) ** -popularity_damping
        # Categories.
        self._category_ids: dict[str, int] = {}
        self._category_name: list[str] = []
        self._category_count: list[int] = []  # baskets with the category
        self._category_sales: list[int] = []  # sum of its products' basket counts
        self._category_size: list[int] = []  # products known in it
        self._category_related: list[dict[int, int]] = []
        self._category_best: list[list[int]] = []  # best sellers, at most category_best
        self._category_floor: list[int] = []  # a lower bound of their smallest count
        self._category_hash: list[int] = []
        self._category_catalog: list[tuple[int, ...]] = []
        self._rules: list[tuple[tuple[int, float], ...]] = []
        # Phones.
        self._habits: dict[str, _Habits] = {}
        self._baskets = 0
        # Memo of pairing lists, valid while no co-purchase is learned.
        self._generation = 0
        self._memo: dict[int, _Entry] = {}
        self._related_memo: dict[int, list[tuple[int, float]]] = {}
        self._memo_generation = 0
        self._neighbour_cap = _SLACK * cfg.neighbours
        self._related_cap = _SLACK * cfg.category_neighbours
        self._habit_cap = _SLACK * cfg.habit_items

        for product in self._catalog.products:
            self._intern(_item_of(product), catalog=True)
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
        self._brand.append(item.brand)
        self._colour.append(item.colour)
        self._count.append(0)
        self._neighbours.append({})
        self._hash.append(zlib.crc32(item.sku.encode()))
        self._damping.append(1.0)
        self._category_size[category] += 1
        if catalog:
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
        history over a frozen model); ``phone_id=None`` learns no habit.
        """
        ids = sorted({self._intern(item) for item in items})
        if not ids:
            return
        if co_purchase:
            self._learn_pairs(ids)
        if phone_id is not None:
            self._learn_habits(phone_id, ids)

    def _learn_pairs(self, ids: list[int]) -> None:
        self._baskets += 1
        self._generation += 1
        count = self._count
        category_of = self._category
        sales = self._category_sales
        categories: dict[int, int] = {}
        beta = -self.config.popularity_damping
        damping = self._damping
        for i in ids:
            n = count[i] = count[i] + 1
            if beta:
                damping[i] = (n + 1) ** beta
            c = category_of[i]
            sales[c] += 1
            categories[c] = categories.get(c, 0) + 1
            if n >= self._category_floor[c]:
                self._rank_best(c, i)
        if len(ids) > 1:
            self._count_pairs(
                ids, self._neighbours, self._hash, self._neighbour_cap, damping if beta else None
            )
        related = self._category_related
        for c in categories:
            self._category_count[c] += 1
        kinds = sorted(categories)
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
        weights: list[float] | None,
    ) -> None:
        """Count each pair of distinct *ids* in both rows (about ``basket_partners`` per
        id in a big basket), keeping each row within *cap* counters: the strongest by
        count times the neighbour's *weights* (its popularity damping), if given."""
        keep = cap // _SLACK
        partners = self.config.basket_partners
        if len(ids) - 1 <= partners:
            for i in ids:
                row = rows[i]
                for j in ids:
                    if j != i:
                        row[j] = row.get(j, 0) + 1
                if len(row) > cap:
                    rows[i] = _strongest(row, keep, weights)
            return
        # i and j are partners when hash(i) + hash(j) is 0 modulo `groups`: symmetric,
        # independent of the order of the basket, about len(ids) / groups partners each.
        groups = -(-(len(ids) - 1) // partners)
        by_group: list[list[int]] = [[] for _ in range(groups)]
        for i in ids:
            by_group[hashes[i] % groups].append(i)
        for i in ids:
            row = rows[i]
            for j in by_group[-hashes[i] % groups]:
                if j != i:
                    row[j] = row.get(j, 0) + 1
            if len(row) > cap:
                rows[i] = _strongest(row, keep, weights)

    def _rank_best(self, category: int, product: int) -> None:
        """Keep the category's best sellers: the exact top by (count, then SKU), since
        counts only grow. Called when *product*'s count reached the floor."""
        best = self._category_best[category]
        if product in best:
            return
        if len(best) < self.config.category_best:
            best.append(product)
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
        brands = habits.brands
        colours = habits.colours
        for i in ids:
            items[i] = items.get(i, 0) + 1
            brand = self._brand[i]
            brands[brand] = brands.get(brand, 0) + 1
            colour = self._colour[i]
            if colour:
                colours[colour] = colours.get(colour, 0) + 1
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
        ranked = self.pair(purchase.items, purchase.phone_id, limit)
        result = [
            _associated(self._item[self._ids[p.sku]], p.reason, p.score, offers.get(p.sku))
            for p in ranked
        ]
        if promotions is not None:
            listed = {item.sku for item in purchase.items} | {p.sku for p in ranked}
            candidates = [(offer.sku, Reason.OFFER) for offer in promotions.offers]
            candidates += [(sku, Reason.POPULAR) for sku in promotions.popular]
            promoted = 0
            for sku, reason in candidates:
                if promoted >= limit:
                    break
                index = self._ids.get(sku)
                if index is None or sku in listed:
                    continue
                offered = offers[sku] if reason is Reason.OFFER else None
                result.append(_associated(self._item[index], reason, PROMOTION_SCORE, offered))
                listed.add(sku)
                promoted += 1
        return tuple(result)

    def pair(self, items: Iterable[Item], phone_id: str | None, limit: int) -> list[Pairing]:
        """The *limit* best products to go with *items* for *phone_id*, best first.

        Never an SKU of *items*; ties by SKU. ``phone_id=None`` (or a phone never seen)
        pairs without habits. Reads the model only: asking changes no answer.
        """
        if limit <= 0:
            return []
        if self._memo_generation != self._generation:
            self._memo.clear()
            self._related_memo.clear()
            self._memo_generation = self._generation
        basket: dict[str, Item] = {}
        for item in items:
            basket.setdefault(item.sku, item)
        excluded = {self._ids[sku] for sku in basket if sku in self._ids}
        co, near = self._gather(basket, excluded)
        habits = self._habits.get(phone_id) if phone_id is not None else None
        if habits is None:
            scores = dict(zip(co, map(operator.add, co.values(), near.values()), strict=True))
            return self._rank(scores, co, near, {}, limit)
        memo = habits.memo if habits.memo is not None else self._habit_memo(habits)
        for j in self._habit_candidates(memo, basket):
            if j not in excluded and j not in co:
                co[j] = near[j] = 0.0
        # All in C (map, zip): this is the hot path of every question.
        scale = memo.scale
        own = habits.items
        habit = {j: own[j] * scale for j in own.keys() & co.keys()}
        raw = map(
            operator.add,
            map(operator.add, co.values(), near.values()),
            map(habit.get, co, itertools.repeat(0.0)),
        )
        weights: Iterable[float] = map(
            memo.brands.get, map(self._brand.__getitem__, co), itertools.repeat(1.0)
        )
        if memo.colours:  # "" (no colour) is never a key
            colours = map(
                memo.colours.get, map(self._colour.__getitem__, co), itertools.repeat(0.0)
            )
            weights = map(operator.add, weights, colours)
        scores = dict(zip(co, map(operator.mul, raw, weights), strict=True))
        return self._rank(scores, co, near, habit, limit)

    def _gather(
        self, basket: dict[str, Item], excluded: set[int]
    ) -> tuple[dict[int, float], dict[int, float]]:
        """Sum the basket products' pairing lists: candidate -> co-purchase part, and
        candidate -> category part (the same keys, in the same order). Summed in SKU order,
        so the basket's order cannot change a float."""
        ids = self._ids
        lists = []
        for sku, item in sorted(basket.items()):
            index = ids.get(sku)
            lists.append(
                self._pairings(index) if index is not None else self._compute_pairings(None, item)
            )
        first, first_co, first_near = lists[0]
        co = dict(zip(first, first_co, strict=True))
        near = dict(zip(first, first_near, strict=True))
        for candidates, co_parts, near_parts in lists[1:]:
            # co[j] += a for each candidate, in C (a list's candidates are distinct)
            zeros = itertools.repeat(0.0)
            summed = map(operator.add, map(co.get, candidates, zeros), co_parts)
            co.update(zip(candidates, summed, strict=True))
            summed = map(operator.add, map(near.get, candidates, zeros), near_parts)
            near.update(zip(candidates, summed, strict=True))
        for j in excluded:
            if j in co:
                del co[j], near[j]
        return co, near

    def _habit_candidates(self, memo: _HabitMemo, basket: dict[str, Item]) -> Iterable[int]:
        """The phone's products offered for this basket (see ``related_habits``)."""
        if not self.config.related_habits:
            return memo.top
        kinds: set[int] = set()
        for item in basket.values():
            c = self._category_ids.get(item.category)
            if c is not None:
                kinds.add(c)
                kinds.update(d for d, _ in self._related(c))
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

    def _rank(
        self,
        scores: dict[int, float],
        co: dict[int, float],
        near: dict[int, float],
        habit: dict[int, float],
        limit: int,
    ) -> list[Pairing]:
        """Best first with the diversity decay per category, ties by SKU; each with the
        reason of its largest part."""
        sku = self._sku
        category = self._category
        decay = self.config.diversity
        negated = map(operator.neg, scores.values())
        ordered = sorted(zip(negated, map(sku.__getitem__, scores), scores, strict=True))
        best: list[tuple[float, str, int]] = []
        seen: dict[int, int] = {}
        for negative, name, j in ordered:
            if len(best) == limit and negative > best[-1][0]:
                break  # every later candidate ranks below the chosen ones, decayed or not
            c = category[j]
            n = seen.get(c, 0)
            seen[c] = n + 1
            key = (negative * decay**n if n else negative, name, j)
            if len(best) < limit:
                insort(best, key)
            elif key < best[-1]:
                best.pop()
                insort(best, key)
        result = []
        for negative, name, j in best:
            a = co[j]
            b = near[j]
            h = habit.get(j, 0.0)
            if h > a and h > b:
                reason = Reason.HABIT
            else:
                reason = Reason.CO_PURCHASE if a >= b else Reason.COMPLEMENT
            result.append(Pairing(name, -negative, reason))
        return result

    def _pairings(self, index: int) -> _Entry:
        found = self._memo.get(index)
        if found is None:
            found = self._memo[index] = self._compute_pairings(index, self._item[index])
        return found

    def _compute_pairings(self, index: int | None, item: Item) -> _Entry:
        """A basket product's best candidates: (ids, co-purchase parts, category parts)."""
        cfg = self.config
        m = cfg.category_prior
        damping = self._damping
        # Both parts are summed before dividing by n(i) + m, which changes no order.
        total: dict[int, float] = {}
        if index is not None:
            row = self._neighbours[index]
            weights = map(operator.mul, row.values(), map(damping.__getitem__, row))
            total = dict(zip(row, weights, strict=True))
        near: dict[int, float] = {}
        category = self._category_ids.get(item.category)
        if category is not None and m > 0:
            brand = item.brand
            colour = item.colour
            brand_of = self._brand
            colour_of = self._colour
            count = self._count
            for d, p in self._related(category):
                base = m * p / (self._category_sales[d] + self._category_size[d])
                for j in (*self._category_best[d], *self._category_catalog[d]):
                    if j == index or j in near:
                        continue
                    affinity = 1.0
                    if colour:
                        affinity += colour_affinity(colour, colour_of[j])
                    if brand_of[j] == brand:
                        affinity += BRAND_BONUS
                    value = base * (count[j] + 1) * damping[j] * affinity
                    near[j] = value
                    total[j] = total.get(j, 0.0) + value
        chosen = _best(total, cfg.pairings, self._sku)
        scale = 1.0 / ((self._count[index] if index is not None else 0) + m)
        nears = [near.get(j, 0.0) for j in chosen]
        return (
            tuple(chosen),
            tuple((total[j] - b) * scale for j, b in zip(chosen, nears, strict=True)),
            tuple(b * scale for b in nears),
        )

    def _related(self, category: int) -> list[tuple[int, float]]:
        """The categories bought with *category*: (category, P(D | C)), best first."""
        found = self._related_memo.get(category)
        if found is None:
            found = self._related_memo[category] = self._compute_related(category)
        return found

    def _compute_related(self, category: int) -> list[tuple[int, float]]:
        prior = self.config.rule_prior
        rules = self._rules[category]
        observed = self._category_related[category]
        total = self._category_count[category] + (prior if rules else 0.0)
        if total <= 0:
            return []
        weights: dict[int, float] = {d: n / total for d, n in observed.items()}
        for d, weight in rules:
            weights[d] = weights.get(d, 0.0) + prior * weight / total
        chosen = _best(weights, self.config.complements, self._category_name)
        return [(d, weights[d]) for d in chosen]


_second = operator.itemgetter(1)


def _best(scores: dict[int, float], keep: int, names: list[str]) -> list[int]:
    """The *keep* keys of *scores* with the largest values, best first, ties by name."""
    if len(scores) > keep:
        cut = heapq.nlargest(keep, scores.values())[-1]
        items: Iterable[tuple[int, float]] = itertools.compress(
            scores.items(), map(cut.__le__, scores.values())
        )
    else:
        items = scores.items()
    ordered = sorted([(-value, names[key], key) for key, value in items])
    return [key for _, _, key in ordered[:keep]]


def _strongest(row: dict[int, int], keep: int, weights: list[float] | None) -> dict[int, int]:
    """The *keep* largest counters of *row*, each times its key's weight if *weights* are
    given (ties: the earlier inserted)."""
    if weights is None:
        return dict(sorted(row.items(), key=_second, reverse=True)[:keep])
    strength = list(map(operator.mul, row.values(), map(weights.__getitem__, row)))
    cut = heapq.nlargest(keep, strength)[-1]
    kept = itertools.compress(row.items(), map(cut.__le__, strength))
    return dict(itertools.islice(kept, keep))


def _item_of(product: Product) -> Item:
    return Item(
        sku=product.sku,
        name=product.name,
        category=product.category,
        brand=product.brand,
        colour=product.colour,
        quantity=1,
        price=product.price,
    )


@functools.lru_cache(maxsize=1 << 16)
def _associated(item: Item, reason: Reason, score: float, offer: Offer | None) -> AssociatedProduct:
    # Cached: the same product with the same score and reason is built (validated) once.
    return AssociatedProduct(
        sku=item.sku,
        name=item.name,
        category=item.category,
        brand=item.brand,
        colour=item.colour,
        price=item.price if offer is None else offer.price,
        reason=reason,
        score=score,
        offer=None if offer is None else offer.description,
    )
