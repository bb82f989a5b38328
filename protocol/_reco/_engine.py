"""The cloud's learned pairing engine (steps 506 and 507, unit 803).

:class:`PairingEngine` is a :class:`~protocol.Recommender` that learns, from every purchase
the cloud stores, the matching relation between goods "by usage habit, colour or brand"
(step 507) and pairs a new purchase with the products that go with it (step 506). Pure and
sans-I/O like the cloud machine: no clock, no randomness, no files.

**Two halves.** Learning (:meth:`PairingEngine.learn`) updates counts online: per product
the baskets it was in and, bounded, the baskets it shared with its strongest neighbours
(those pairs recorded per basket and counted at the refresh, each row then bounded:
``protocol/_reco/_counts.py``); per category the same one level up and its best
sellers; per phone its products (with
the basket it last bought each in), categories, brands and colours (each basket's
recorded with its phone and learned, in order, at the refresh). Answering reads a
**model refreshed at deterministic points**: every ``refresh_every`` learned baskets (in
the order learned, i.e. the store's order on a replay) the engine recomputes, for each
product, category and phone whose counts changed since the last refresh, what a question
reads: a product's pairing list (its ``pairings`` best candidates with their partial
scores), a category's related categories and the candidates they offer, a phone's profile.
An answer is therefore a function of the uploads up to the last refresh: asking changes
nothing, an answer does not depend on earlier questions, and a cloud restarted on the same
store (which replays the stored bindings in stored order) refreshes at the same points and
answers the same. A list not recomputed at a refresh keeps the neighbours' popularity it
was computed with; :meth:`PairingEngine.refresh` with ``full=True`` recomputes everything.
The refresh computes the changed lists, offers and profiles together with numpy (their
counters flattened into arrays, each part one array operation, each top-k one sort of a
packed key), each value by the same float operations as a plain loop over one of them.

**Candidates** (generation): each basket product's pairing list (co-purchase neighbours and
the best sellers and catalog products of its related categories, learned and seeded by the
complement rules), the phone's ``habit_candidates`` best products; promotions (offers,
popular items) are appended after the ranked products as the rule recommender does.

**Score** (a linear scorer; its weights are :class:`EngineConfig` fields, learned per
dataset by ``scenarios/_reco/_scorer.py`` with a logistic regression on a validation slice
carved from the training period)::

    score(j) = sum over basket products i of
                   w_confidence * co(i, j) / n(i)
                 + w_cosine     * co(i, j) / sqrt(n(i) n(j))
                 + w_category   * m / (n(i) + m) * P(D | C) * P(j | D) * affinity(i, j)
             + w_popularity     * log(1 + n(j)) / 10
             + w_habit          * n_u(j) / n_u                   (the phone's share of baskets)
             + w_recency        * 1 / (1 + baskets since u last bought j)
             + w_decayed        * sum over u's baskets with j of r ** age / sum of r ** age
             + w_habit_category * the phone's share of baskets with j's category
             + w_brand          * the phone's share of lines in j's brand
             + w_colour         * the phone's share of lines in j's colour
             + w_personal       * sum over basket products i the phone bought in its last
                                  PERSONAL_WINDOW baskets of the share of those with i
                                  that also held j              (its own co-purchases)

``n(i)`` counts the baskets with ``i``, ``co(i, j)`` those with both, ``C`` and ``D`` are
the categories of ``i`` and ``j``, ``P(D | C)`` the category relation (learned counts plus
``rule_prior`` times the rule weight, over the category's baskets plus ``rule_prior``),
``P(j | D)`` the share of ``j`` among its category's sales (Laplace smoothed), ``affinity``
1 plus the colour harmony and brand bonuses of the rule recommender, ``m`` the
``category_prior``. The answer takes the best ``limit`` with the diversity decay (the n-th
candidate of a category at ``score * diversity ** n``), ties by SKU; each product's reason
is the largest of its co-purchase, category and habit parts.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import math
import operator
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import Any, ClassVar, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from protocol._core._errors import LocalProtocolError
from protocol._core._messages import AssociatedProduct, Item, PurchaseUpload, Reason
from protocol._core._trusted import answer_from_line
from protocol._core._validators import ConfigValidators

from ._answer import BLOCK, Merged, Scratch, best_of, merge
from ._catalog import Catalog, builtin_catalog
from ._counts import PairCounts
from ._discovery import discover
from ._lists import NO_LIST, ListTable
from ._recommender import (
    BRAND_BONUS,
    COMPLEMENT_RULES,
    PROMOTION_SCORE,
    Promotions,
    colour_affinity,
    offers_for,
    promoted,
)

__all__ = ["FEATURES", "EngineConfig", "Pairing", "PairingEngine"]


_check = ConfigValidators(LocalProtocolError)
_count_bound = _check.whole_number(1)
_weight = _check.non_negative_number()
_real = _check.number()
_fraction = _check.fraction()

FEATURES = (
    "confidence",
    "cosine",
    "category",
    "popularity",
    "habit",
    "recency",
    "decayed",
    "habit_category",
    "brand",
    "colour",
    "personal",
)
"""The scorer's features, in the order of :meth:`PairingEngine.features` and of the
``<feature>_weight`` fields of :class:`EngineConfig`."""


@attrs.frozen
class EngineConfig:
    """The knobs of :class:`PairingEngine`: memory bounds, candidates, the refresh, then
    the scorer's weights (learned on the training part of Complete Journey, see
    ``docs/recommender.md``). Raises :class:`~protocol.LocalProtocolError` on a bad value.
    """

    FEATURES: ClassVar[tuple[str, ...]] = FEATURES
    """The scorer's features, in the order of :attr:`weights`."""

    neighbours: int = attrs.field(default=32, validator=_count_bound)
    """Co-purchase neighbours kept per product: twice as many counters at most after each
    refresh (between two, a row also holds the pairs learned since the last, unbounded)."""
    category_neighbours: int = attrs.field(default=12, validator=_count_bound)
    """Related categories kept per category: twice as many counters at most after each
    refresh (between two, also the pairs learned since the last)."""
    category_best: int = attrs.field(default=6, validator=_count_bound)
    """Best sellers kept per category, the candidates a category relation offers."""
    complements: int = attrs.field(default=4, validator=_count_bound)
    """Related categories a basket product draws candidates from."""
    pairings: int = attrs.field(default=24, validator=_count_bound)
    """Candidates each basket product contributes (its pairing list)."""
    basket_partners: int = attrs.field(default=64, validator=_count_bound)
    """In a basket of more products, each is paired with about this many of the others
    (chosen by a stable hash of the two SKUs), so a wholesale order of 1,000 lines costs
    64,000 counts instead of a million."""
    decay: float = attrs.field(default=0.9, validator=_fraction)
    """``r``: a phone's basket ``k`` baskets old counts ``r ** k`` in its decayed share."""
    habit_items: int = attrs.field(default=48, validator=_count_bound)
    """Products (and categories) remembered per phone (at most twice as many counters)."""
    habit_candidates: int = attrs.field(default=24, validator=_count_bound)
    """A phone's best products by its habit parts offered as candidates."""
    category_prior: float = attrs.field(default=1.0, validator=_weight)
    """``m``: baskets' worth of weight the category estimate has against a product's own."""
    rule_prior: float = attrs.field(default=2.0, validator=_weight)
    """Baskets' worth of weight a complement rule has against a category's own counts."""
    diversity: float = attrs.field(default=0.8, validator=_fraction)
    """The n-th candidate of a category is ranked at ``score * diversity ** n``."""
    habit_slots: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_check.whole_number(0))
    )
    """At most this many of an answer's products the phone bought before, while a product
    it has not bought scores at least ``discovery`` times the one it would displace (the
    discovery rule, protocol/_reco/_discovery.py); None: no limit (the rule is off)."""
    discovery: float = attrs.field(default=0.5, validator=_fraction)
    """See ``habit_slots``."""
    discovery_seeded: bool = attrs.field(default=False, validator=_check.flag())
    """The discovery rule's alternative: the best-scoring one (False), or one drawn by
    the question's own order among those scoring at least ``discovery`` times the
    displaced product (True; answers then vary more from one question to another)."""
    refresh_every: int = attrs.field(default=1, validator=_count_bound)
    """The model answers are read from is refreshed after every this many learned baskets
    (1: after each; more: learning costs less, answers lag behind by up to that many)."""
    confidence_weight: float = attrs.field(default=1.0, validator=_real)
    cosine_weight: float = attrs.field(default=0.0, validator=_real)
    category_weight: float = attrs.field(default=1.0, validator=_real)
    popularity_weight: float = attrs.field(default=0.0, validator=_real)
    habit_weight: float = attrs.field(default=1.0, validator=_real)
    recency_weight: float = attrs.field(default=0.0, validator=_real)
    decayed_weight: float = attrs.field(default=0.0, validator=_real)
    habit_category_weight: float = attrs.field(default=0.0, validator=_real)
    brand_weight: float = attrs.field(default=0.1, validator=_real)
    colour_weight: float = attrs.field(default=0.1, validator=_real)
    personal_weight: float = attrs.field(default=0.0, validator=_real)

    @property
    def weights(self) -> tuple[float, ...]:
        """The scorer's weights in the order of :data:`FEATURES`."""
        return tuple(getattr(self, f"{name}_weight") for name in FEATURES)

    def with_weights(self, weights: Sequence[float]) -> EngineConfig:
        """This configuration with the scorer's *weights* (in the order of FEATURES)."""
        if len(weights) != len(FEATURES):
            raise LocalProtocolError(
                f"EngineConfig.with_weights: {len(FEATURES)} weights, got {len(weights)}"
            )
        changes = {f"{name}_weight": float(w) for name, w in zip(FEATURES, weights, strict=True)}
        evolve: Callable[..., EngineConfig] = attrs.evolve
        return evolve(self, **changes)


class Pairing(NamedTuple):
    """One ranked product of :meth:`PairingEngine.pair`: its SKU, score and reason."""

    sku: str
    score: float
    reason: Reason


# ---------------------------------------------------------------------- learned state


class _Product:
    """What the engine knows of one product: its attributes and its counts."""

    __slots__ = ("brand", "category", "colour", "hash", "item", "sku")

    def __init__(self, item: Item, category: int, brand: str, colour: str) -> None:
        self.sku = item.sku
        self.item = item if item.quantity == 1 else attrs.evolve(item, quantity=1)
        self.category = category
        self.brand = brand
        self.colour = colour
        self.hash = zlib.crc32(item.sku.encode())  # pairs partners in big baskets


class _Category:
    """One category: its counts, relations, best sellers, catalog products and rules."""

    __slots__ = (
        "best",
        "catalog",
        "count",
        "hash",
        "name",
        "rules",
        "sales",
        "size",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0  # baskets with the category
        self.sales = 0  # sum of its products' basket counts
        self.size = 0  # its catalog products and those learned
        self.best: list[int] = []  # best sellers, at most category_best
        self.hash = zlib.crc32(name.encode())
        self.catalog: tuple[int, ...] = ()
        self.rules: tuple[tuple[int, float], ...] = ()


class _Habits:
    """One phone's purchases: baskets, products (with the basket each was last bought
    in), categories (bounded), brands and colours."""

    __slots__ = (
        "baskets",
        "brands",
        "categories",
        "colours",
        "decayed",
        "items",
        "last",
        "lines",
        "together",
    )

    def __init__(self) -> None:
        self.baskets = 0
        self.lines = 0
        self.items: dict[int, int] = {}
        self.last: dict[int, int] = {}  # product -> the phone's basket number it was in last
        self.decayed: dict[int, float] = {}  # product -> sum of r ** age at its last basket
        # product -> which of the PERSONAL_WINDOW baskets up to its last held it (bit k: the
        # basket k before that one): the phone's own co-purchases, one 64-bit word each
        self.together: dict[int, int] = {}
        self.categories: dict[int, int] = {}
        self.brands: dict[str, int] = {}
        self.colours: dict[str, int] = {}


# ---------------------------------------------------------------------- refreshed model


_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.int64]
_Lookup = tuple[_Floats, _Floats]  # sorted keys (whole numbers) and their values
_NO_LOOKUP: _Lookup = (np.zeros(0), np.zeros(0))

_List = _Floats
"""A basket product's pairing list, one array of three rows: its candidates' numbers (exact
in a float below 2 ** 53), their weighted confidence and cosine parts, their category parts.
A learned product's is a view of its row of the ListTable (protocol/_reco/_lists.py): a
question reads five of them at once (np.concatenate)."""


_Masks = npt.NDArray[np.uint64]
_Together = tuple[_Ints, _Masks, Mapping[int, int]]


class _Profile(NamedTuple):
    """What a question reads of a phone: its best products, and its habit parts and
    shares, weighted, in one sorted lookup table (keys: see :data:`_BLOCK`)."""

    top: _List  # its habit_candidates best products by habit part, parts 0.0
    parts: _Lookup  # product -> habit + recency + decayed parts; category -> habit_category
    # part; brand -> brand part; colour -> colour part ("" never a key)
    together: _Together  # its products bought in its window, in number order, which of its
    # last PERSONAL_WINDOW baskets held each (bit k: k before its newest) and each one's
    # place among them; none if the weight is 0


PERSONAL_WINDOW = 64
"""The personal feature counts a phone's co-purchases over its last this many baskets
(one 64-bit word per product)."""
_WINDOW = (1 << PERSONAL_WINDOW) - 1
_NO_TOGETHER: _Together = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64), {})


def _shares(together: _Together, basket: Sequence[int]) -> tuple[_Ints, _Floats] | None:
    """The phone's products *j* with a personal feature for *basket*, unweighted: the sum
    over the products *i* of *basket* it bought in its window of the share of those
    baskets with *i* that also held *j*; None if it bought none of *basket* there. Every
    share of a row at once (one row per such *i*), the rows summed in *basket*'s order as
    :meth:`PairingEngine._personal_shares` sums from 0.0 (shares are not negative: adding
    the first to 0.0 changes no bit)."""
    items, masks, place = together
    total: _Floats | None = None
    for i in basket:
        k = place.get(i)
        if k is None:
            continue
        mine = masks[k]
        # one row per basket product (a question's few): fewer numpy calls than a matrix
        share = np.bitwise_count(masks & mine) / float(int(mine).bit_count())
        total = share if total is None else total + share
    if total is None:
        return None
    held = total.nonzero()[0]  # flatnonzero's two Python-level calls cost more
    return items[held], total[held]


_NOTHING_OFFERED: tuple[_Ints, _Floats] = (np.zeros(0, dtype=np.int64), np.zeros(0))


_BLOCK = BLOCK
"""A profile's lookup table holds four kinds of keys, each kind in its own block: the
product's number, ``_BLOCK`` plus its category's, twice ``_BLOCK`` plus its brand's, three
times ``_BLOCK`` plus its colour's."""


class _Tables:
    """Per product, in one row (one memory fetch per candidate), what a question's
    vectorised scoring reads: the weighted popularity part (as of the last refresh, like
    the list of it) and the product's four keys in a profile's lookup table (see
    :data:`_BLOCK`; exact as floats, below 2 ** 53)."""

    __slots__ = ("rows",)

    def __init__(self, rows: _Floats) -> None:
        self.rows = rows  # product -> popularity part, product, category, brand, colour keys

    def __len__(self) -> int:
        return len(self.rows)

    def refreshed(
        self,
        attributes: Sequence[tuple[int, int, int]],
        popularity: _Floats,
        changed: Sequence[int],
    ) -> _Tables:
        """These tables for the products now known, with the popularity of *changed*
        products (and of new ones) read anew from *popularity*."""
        old = len(self.rows)
        tables = self
        if len(attributes) > old:
            rows = np.zeros((len(attributes) - old, 5))
            rows[:, 0] = popularity[old:]
            rows[:, 1] = np.arange(old, len(attributes))
            rows[:, 2:] = np.array(attributes[old:], dtype=np.float64).reshape(-1, 3)
            rows[:, 2:] += np.array([1.0, 2.0, 3.0]) * _BLOCK
            tables = _Tables(np.concatenate((self.rows, rows)))
        again = [i for i in changed if i < old]
        if again:
            tables.rows[again, 0] = popularity[again]
        return tables


def _by_keys(first: _Ints, second: _Floats, third: _Ints) -> _Ints:
    """``np.lexsort((third, second, first))``: the order by *first*, then *second*, then
    *third*, by one sort of one whole-number key packing *first*, the place of *second*
    among its distinct values and *third* (about three times faster than lexsort), or by
    lexsort itself when that key would not fit :data:`_KEY_BITS` (a full refresh of about
    a million phones' products: the caller does not bound it). *first* and *third* are
    non-negative."""
    second = second + 0.0  # -0.0 ranks with 0.0, as Python compares them
    shift_b = int(third.max(initial=0)).bit_length()
    shift_a = shift_b + len(second).bit_length()
    if shift_a + int(first.max(initial=0)).bit_length() > _KEY_BITS:
        wide: _Ints = np.lexsort((third, second, first))
        return wide
    places = np.unique(second, return_inverse=True)[1].reshape(-1).astype(np.int64)
    keys = (first << shift_a) | (places << shift_b) | third
    # the keys are distinct (the callers': one per list or phone and candidate), so any
    # sort gives the one order: a plain sort of each key packed with its place when
    # that fits (numpy's sort of whole numbers is about 3x its argsort), else the
    # default argsort (not the stable one: about 4x)
    shift = len(keys).bit_length()
    if shift_a + int(first.max(initial=0)).bit_length() + shift > _KEY_BITS:
        order: _Ints = np.argsort(keys)
        return order
    packed: _Ints = np.sort((keys << shift) | np.arange(len(keys)))
    return packed & ((1 << shift) - 1)


def _contenders(owner: _Ints, total: _Floats, size: int, best: int) -> _Ints | None:
    """The rows that can be among the *best* of their group of *owner* (sorted, each
    below *size*) by *total*, largest first, whatever breaks ties: those whose total is
    not below the group's *best*-th largest (all of a group of at most *best*). None if
    every row can be (no group has more, or a total is NaN: no order to cut by)."""
    counts = np.bincount(owner, minlength=size)
    width = int(counts.max(initial=0))
    if width <= best or np.isnan(total).any():
        return None
    # each group's totals in one row of a grid (padded with -inf), its best-th largest
    # found by one partition of the rows
    place = np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]
    grid = np.full(size * width, -np.inf)
    grid[owner * width + place] = total
    floor = np.partition(grid.reshape(size, width), width - best, axis=1)[:, width - best]
    kept: _Ints = np.flatnonzero(total >= floor[owner])
    return kept


def _distinct(values: _Ints) -> tuple[_Ints, _Ints]:
    """``np.unique(values, return_inverse=True)`` of non-negative whole *values*: by one
    sort of each value packed with its place (numpy's plain sort is several times faster
    than the argsort unique makes). The caller keeps the bits of the largest value and of
    ``len(values)`` within :data:`_KEY_BITS`."""
    shift = len(values).bit_length()
    packed = np.sort((values << shift) | np.arange(len(values)))
    ordered = packed >> shift
    new = np.ones(len(values), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[packed & ((1 << shift) - 1)] = np.cumsum(new) - 1
    return ordered[new], inverse


def _lookup_order(owners: _Ints, blocks: Sequence[_Ints], width: int) -> _Ints:
    """The order by phone (*owners*), then lookup key, of the entries of a batch of
    profiles' *blocks* (products, categories, brands, colours: :data:`_BLOCK`'s order,
    each a phone's distinct numbers below ``2 ** width``). The block and the number
    packed with the phone in one whole number and sorted (no place of a float key to
    find, as ``_by_keys`` of the keys as floats would), or lexsort if that is too wide."""
    sizes = [len(block) for block in blocks]
    tags = np.repeat(np.arange(len(blocks), dtype=np.int64) << width, sizes)
    local = np.concatenate(blocks) | tags
    width += (len(blocks) - 1).bit_length()  # the block's number above the key's
    if width + int(owners.max(initial=0)).bit_length() + len(local).bit_length() > _KEY_BITS:
        wide: _Ints = np.lexsort((local, owners))
        return wide
    # the pairs are distinct: each one's place in order is the order's inverse
    places = _distinct((owners << width) | local)[1]
    order = np.empty(len(places), dtype=np.int64)
    order[places] = np.arange(len(places))
    return order


def _places(owner: _Ints, size: int) -> _Ints:
    """Each entry's place within its group of *owner* (sorted, each below *size*)."""
    counts = np.bincount(owner, minlength=size)
    places: _Ints = np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]
    return places


def _flattened(mappings: Sequence[dict[int, int]]) -> tuple[_Ints, _Ints, _Floats]:
    """Every entry of *mappings*, in order: the mapping's place, the key, the value."""
    lengths = np.fromiter(map(len, mappings), dtype=np.int64, count=len(mappings))
    flat = int(lengths.sum())
    owner = np.repeat(np.arange(len(mappings)), lengths)
    keys = np.fromiter(itertools.chain.from_iterable(mappings), np.int64, count=flat)
    # read as whole numbers, then converted: exact, and faster than a float per counter
    counted = np.fromiter(
        itertools.chain.from_iterable(map(dict.values, mappings)), np.int64, count=flat
    )
    values: _Floats = counted.astype(np.float64)
    return owner, keys, values


def _following(mappings: Sequence[Mapping[int, float]], size: int) -> _Floats:
    """Every value of each of *mappings*, in order: a phone's ``last``, ``decayed`` and
    ``together`` hold the keys of its ``items`` in the same order (each learned basket
    adds its new products to all four in its order, a cut rebuilds all four in the kept
    items' order), so these are the values of its items as :func:`_flattened` lists
    them, read without a lookup per product."""
    found = itertools.chain.from_iterable(mapping.values() for mapping in mappings)
    return np.fromiter(found, np.float64, count=size)


def _ends(owner: _Ints, size: int) -> _Ints:
    """Where each of *size* groups ends in *owner* (sorted), but the last: np.split's."""
    ends: _Ints = np.cumsum(np.bincount(owner, minlength=size))[:-1]
    return ends


def _split(array: npt.NDArray[Any], ends: _Ints) -> list[npt.NDArray[Any]]:
    """``np.split(array, ends)`` in copies (a view would keep the whole batch alive)."""
    bounds = [0, *ends.tolist(), len(array)]
    return [array[a:b].copy() for a, b in itertools.pairwise(bounds)]


_KEY_BITS = 63
"""The bits of a sort key :func:`_by_keys` packs (a non-negative int64)."""


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
"""``collections.Counter``'s own counting loop (in C) applied to plain dicts;
:func:`_count_in` if it is absent."""


_HABIT = Reason.HABIT
_CO_PURCHASE = Reason.CO_PURCHASE
_COMPLEMENT = Reason.COMPLEMENT
_LISTS_AT_ONCE = 4096
"""Pairing lists a refresh computes in one set of array operations (bounds the arrays of
a full refresh: about 100 candidates per product before the cut)."""


class PairingEngine:
    """A learned :class:`~protocol.Recommender`: co-purchase, attributes, habits, promotions.

    *catalog* (default: the built-in catalog) lists products known before any purchase:
    candidates of the complement *rules* (default :data:`~protocol.COMPLEMENT_RULES`) from
    the start. ``PairingEngine(catalog=Catalog(()), rules={})`` knows nothing until it
    learns. Products seen in purchases join the candidates as they come.

    Deterministic: an answer depends only on the configuration, the catalog, the rules,
    the sequence of learned purchases up to the last refresh and the question. Counting
    does not depend on the order of the lines of a basket, and, while no product, category
    or phone has reached its memory bound, not on the order of the baskets either (a full
    refresh then answers the same for any order).
    """

    _best_of = staticmethod(best_of)  # the diversity ranking (protocol/_reco/_answer.py)
    _discover = staticmethod(discover)  # the discovery rule (protocol/_reco/_discovery.py)

    def __init__(
        self,
        catalog: Catalog | None = None,
        rules: Mapping[str, Sequence[tuple[str, float]]] | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        # the configuration, and the one of the last refresh (what the lists and profiles
        # it left unwritten are computed with)
        self.config = self._unwritten_config = config if config is not None else EngineConfig()
        cfg = self.config
        self._catalog = builtin_catalog() if catalog is None else catalog
        self._ids: dict[str, int] = {}
        self._products: list[_Product] = []
        self._skus: list[str] = []  # product -> SKU, beside the records: a C-level sort key
        self._words: dict[str, str] = {}  # one string object per brand or colour
        self._category_ids: dict[str, int] = {}
        self._categories: list[_Category] = []
        # phone -> its habits (read through _habits), and the (phone, ids) of the baskets
        # learned since the last refresh, whose habits it learns (in the order learned)
        self._habit_records: dict[str, _Habits] = {}
        self._unlearned: list[tuple[str, list[int]]] = []
        self._baskets = 0
        # product -> baskets with it (its co-purchases: _pair_counts), as of the last
        # settling (_settle); the baskets learned since, their ids end to end and sizes
        self._counts: _Ints = np.zeros(0, dtype=np.int64)
        self._unsettled: list[int] = []
        self._unsettled_sizes: list[int] = []
        self._learned = 0  # baskets learned since the last refresh (habits-only included)
        # Changed since the last refresh: what the next refresh recomputes.
        self._dirty_products: set[int] = set()
        self._dirty_categories: set[int] = set()
        self._dirty_phones: set[str] = set()
        # The refreshed model: what questions read.
        # product -> its pairing list (protocol/_reco/_lists.py), read through _lists
        self._list_table = ListTable()
        # the products whose lists the last refresh left to be computed when first read
        # (or at the next refresh)
        self._unwritten: list[int] = []
        # product -> weighted popularity part, and sqrt(its count or 1), at its last refresh
        # (arrays: a refresh reads them for every neighbour of every changed product)
        self._popularity: _Floats = np.zeros(0)
        self._roots: _Floats = np.ones(0)
        # product -> its place in the SKUs' order (ties in a pairing list go by SKU), over
        # the products known at the last refresh; and those SKUs in order
        self._sku_ranks: _Ints = np.zeros(0, dtype=np.int64)
        self._sorted_skus: list[str] = []
        self._related: list[tuple[tuple[int, float], ...]] = []  # category -> (D, P(D | C))
        self._category_order: _Ints = np.zeros(0, dtype=np.int64)  # category -> name's rank
        self._relating: list[set[int]] = []  # category D -> the categories relating to D
        # category -> the candidates its related categories offer, and P(D | C) P(j | D)
        self._offered: list[tuple[_Ints, _Floats]] = []
        # phone -> its profile (read through _profiles), and the phones whose profiles the
        # last refresh left to be computed when first read (or at the next refresh)
        self._profile_table: dict[str, _Profile] = {}
        self._unwritten_phones: list[str] = []
        # Per product, what a question's vectorised scoring reads (_Tables), renewed at
        # each refresh.
        self._word_ids: dict[str, int] = {}  # brand or colour -> its number in the arrays
        self._attributes: list[tuple[int, int, int]] = []  # product -> category, brand, colour
        self._tables = _Tables(np.zeros((0, 5)))
        self._affinity_memo: dict[tuple[int, str, str], tuple[_Ints, _Floats]] = {}
        # product -> its category and its brand and colour words' numbers
        self._attributes_of: _Ints = np.zeros((0, 3), dtype=np.int64)
        self._colour_rows: dict[str, _Floats] = {}  # colour -> its affinity with each word
        self._decay_powers: _Floats = np.zeros(0)  # r ** k for k = 0, 1, ...
        self._work = Scratch()  # a question's work arrays (protocol/_reco/_answer.py)
        # co-purchases of products and of categories: rows bounded at each refresh
        self._pair_counts = PairCounts(
            _SLACK * cfg.neighbours, cfg.basket_partners, lambda i: self._products[i].hash
        )
        self._category_counts = PairCounts(
            _SLACK * cfg.category_neighbours,
            cfg.basket_partners,
            lambda c: self._categories[c].hash,
        )
        self._habit_cap = _SLACK * cfg.habit_items

        for product in self._catalog.products:
            self._intern(self._catalog.to_item(product), catalog=True)
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
            self._categories[self._category_id(source)].rules = tuple(entries)
        self.refresh(full=True)

    # ------------------------------------------------------------------ interning

    def _category_id(self, name: str) -> int:
        found = self._category_ids.get(name)
        if found is not None:
            return found
        index = self._category_ids[name] = len(self._categories)
        self._categories.append(_Category(name))
        self._related.append(())
        self._relating.append(set())
        self._offered.append(_NOTHING_OFFERED)
        self._dirty_categories.add(index)
        return index

    def _intern(self, item: Item, *, catalog: bool = False) -> int:
        found = self._ids.get(item.sku)
        if found is not None:
            return found
        index = self._ids[item.sku] = len(self._products)
        category = self._category_id(item.category)
        words = self._words
        brand = words.setdefault(item.brand, item.brand)
        colour = words.setdefault(item.colour, item.colour)
        self._products.append(_Product(item, category, brand, colour))
        word_ids = self._word_ids
        self._attributes.append(
            (
                category,
                word_ids.setdefault(brand, len(word_ids)),
                word_ids.setdefault(colour, len(word_ids)),
            )
        )
        self._skus.append(item.sku)
        if catalog:
            kind = self._categories[category]
            kind.size += 1
            kind.catalog += (index,)
            self._dirty_categories.add(category)
        return index

    # ------------------------------------------------------------------ learning (507)

    @property
    def baskets(self) -> int:
        """Baskets learned from (co-purchase statistics)."""
        return self._baskets

    @property
    def products(self) -> int:
        """Products known: the catalog's and every one seen in a purchase."""
        return len(self._products)

    def observe(self, purchase: PurchaseUpload) -> None:
        """Step 507: learn the purchase's co-purchases and the phone's habits."""
        self.learn(purchase.items, purchase.phone_id)

    def learn(
        self, items: Iterable[Item], phone_id: str | None = None, *, co_purchase: bool = True
    ) -> None:
        """Learn one basket: its *items* (repeats count once) bought by *phone_id*; every
        ``refresh_every`` baskets learned, refresh the model answers are read from.

        ``co_purchase=False`` learns the phone's habits only (an evaluation's shopper
        history over a frozen co-purchase model); ``phone_id=None`` learns no habit.
        """
        items = tuple(items)
        ids_of = self._ids
        try:
            ids = sorted({ids_of[item.sku] for item in items})
        except KeyError:  # a product first seen: intern in the order of the lines
            intern = self._intern
            ids = sorted({intern(item) for item in items})
        if not ids:
            return
        if co_purchase:  # counted in batches (_settle): only recorded here
            self._baskets += 1
            self._unsettled += ids
            self._unsettled_sizes.append(len(ids))
        if phone_id is not None:  # learned at the refresh, in this order (_learn_unlearned)
            self._unlearned.append((phone_id, ids))
        self._learned += 1
        if self._learned >= self.config.refresh_every:
            self.refresh()

    def _settle(self) -> None:
        """Count the co-purchase baskets learned since the last settling, all at once:
        each product's and category's baskets, each category's sales and size (a product
        joins its category's size when first learned), the pairs of products and of
        categories recorded for the next flush (a category bought twice in a basket goes
        with itself), and what changed. The sums of a loop over the baskets, in any order;
        the refresh settles first, and so does :meth:`features` (the counts as of now)."""
        products, categories = self._products, self._categories
        counts = self._counts
        if len(counts) < len(products):  # every product known has a count, 0 or more
            counts = self._counts = np.concatenate(
                (counts, np.zeros(len(products) - len(counts), dtype=np.int64))
            )
        if not self._unsettled_sizes:
            return
        flat = np.array(self._unsettled, dtype=np.int64)
        sizes = np.array(self._unsettled_sizes, dtype=np.int64)
        self._unsettled, self._unsettled_sizes = [], []
        added = np.bincount(flat, minlength=len(products))
        learned = np.flatnonzero(added)
        first = learned[counts[learned] == 0].tolist()
        counts += added
        self._dirty_products.update(learned.tolist())
        self._pair_counts.add_baskets(flat, sizes)
        # each basket's categories, distinct (basket, category) keys by one sort, and how
        # many of the basket's products each holds
        kinds_of = self._product_attributes()[:, 0]
        kinds = kinds_of[flat]
        shift = len(categories).bit_length()
        keys = np.sort((np.repeat(np.arange(len(sizes)), sizes) << shift) | kinds)
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        held = np.diff(starts, append=len(keys))
        distinct = keys[starts]
        touched = distinct & ((1 << shift) - 1)
        per_basket = np.bincount(distinct >> shift, minlength=len(sizes))
        self._category_counts.add_baskets(touched, per_basket)
        self._category_counts.add_selves(touched[held > 1])
        baskets = np.bincount(touched, minlength=len(categories))
        sales = np.bincount(kinds, minlength=len(categories))
        changed = np.flatnonzero(baskets)
        for c, n, sold in zip(
            changed.tolist(), baskets[changed].tolist(), sales[changed].tolist(), strict=True
        ):
            kind = categories[c]
            kind.count += n
            kind.sales += sold
        for i in first:
            kind = categories[products[i].category]
            if i not in kind.catalog:
                kind.size += 1
        self._dirty_categories.update(changed.tolist())

    def _rank_best(self, changed: Sequence[int]) -> None:
        """Each of the *changed* categories' best sellers: its top ``category_best``
        learned products by (count, then SKU). Counts only grow, so a product neither
        among the best of the last refresh nor learned since cannot enter: only those
        are ranked (the SKUs' ranks extended to every product first)."""
        if not changed:
            return
        categories = self._categories
        counts = self._counts
        # the candidates marked on one mask (distinct, in number order, no sort)
        pool = np.zeros(len(counts), dtype=bool)
        pool[np.fromiter(self._dirty_products, np.int64, len(self._dirty_products))] = True
        pool[list(itertools.chain.from_iterable(categories[c].best for c in changed))] = True
        wanted = np.zeros(len(categories), dtype=bool)
        wanted[changed] = True
        kinds_of = self._product_attributes()[:, 0]
        candidates = np.flatnonzero(pool & (counts > 0) & wanted[kinds_of])  # learned
        kinds = kinds_of[candidates]
        order = np.lexsort((self._sku_ranks[candidates], -counts[candidates], kinds))
        kinds = kinds[order]
        best = _places(kinds, len(categories)) < self.config.category_best
        ranked = candidates[order][best].tolist()
        ends = np.cumsum(np.bincount(kinds[best], minlength=len(categories))).tolist()
        for c in changed:
            categories[c].best = ranked[ends[c - 1] if c else 0 : ends[c]]

    def _learn_habits(self, phone_id: str, ids: list[int]) -> None:
        habits = self._habit_records.get(phone_id)
        if habits is None:
            habits = self._habit_records[phone_id] = _Habits()
        number = habits.baskets
        habits.baskets += 1
        habits.lines += len(ids)
        products = [self._products[i] for i in ids]
        _count(habits.items, ids)
        last = habits.last
        decayed = habits.decayed
        r = self.config.decay
        together = habits.together
        for i in ids:
            if i in last:
                decayed[i] = decayed[i] * r ** (number - last[i]) + 1.0
                together[i] = ((together[i] << (number - last[i])) | 1) & _WINDOW
            else:
                decayed[i] = 1.0
                together[i] = 1
            last[i] = number
        _count(habits.categories, sorted({p.category for p in products}))
        _count(habits.brands, [p.brand for p in products])
        _count(habits.colours, [p.colour for p in products if p.colour])
        if len(habits.items) > self._habit_cap:
            habits.items = _strongest(habits.items, self.config.habit_items)
            habits.last = {i: last[i] for i in habits.items}
            habits.decayed = {i: decayed[i] for i in habits.items}
            habits.together = {i: together[i] for i in habits.items}
        if len(habits.categories) > self._habit_cap:
            habits.categories = _strongest(habits.categories, self.config.habit_items)
        self._dirty_phones.add(phone_id)

    def set_weights(self, weights: Sequence[float]) -> None:
        """Score with *weights* (in the order of :data:`FEATURES`) from now on: the
        configuration changes and the whole model is refreshed."""
        self.config = self.config.with_weights(weights)
        self.refresh(full=True)

    def set_discovery(self, slots: int | None, ratio: float, seeded: bool = False) -> None:
        """Answer with the discovery rule's *slots*, *ratio* and *seeded* (``habit_slots``,
        ``discovery`` and ``discovery_seeded`` of :class:`EngineConfig`) from now on:
        applied when answering, so nothing is refreshed."""
        self.config = attrs.evolve(
            self.config, habit_slots=slots, discovery=ratio, discovery_seeded=seeded
        )

    # ------------------------------------------------------------------ the refresh

    def refresh(self, *, full: bool = False) -> None:
        """Recompute what questions read from the counts: the related categories and
        offered candidates of every category, product list and phone profile changed since
        the last refresh (all of them if *full*). Called every ``refresh_every`` learned
        baskets; call it to answer from everything learned so far."""
        self._write_unread(full=full)
        self._learn_unlearned()
        self._learned = 0
        self._recount(full=full)
        relating = self._relating
        dirty_categories = sorted(self._dirty_categories)
        self._rank_best(dirty_categories)
        for c, related in zip(
            dirty_categories, self._compute_related(dirty_categories), strict=True
        ):
            for d, _ in self._related[c]:
                relating[d].discard(c)
            self._related[c] = related
            for d, _ in related:
                relating[d].add(c)
        # A category's offer depends on its related categories' best sellers and sales:
        # recompute those of the changed categories and of any that relate to one.
        changed = set(self._dirty_categories)
        for d in self._dirty_categories:
            changed.update(relating[d])
        ordered = sorted(changed)
        for c, offer in zip(ordered, self._compute_offered(ordered), strict=True):
            self._offered[c] = offer
        self._affinity_memo = {}
        products = self._products
        known = len(self._popularity)
        if len(products) > known:  # products learned since: popularity 0.0, root 1.0
            self._popularity = np.concatenate((self._popularity, np.zeros(len(products) - known)))
            self._roots = np.concatenate((self._roots, np.ones(len(products) - known)))
        dirty = sorted(self._dirty_products)
        if dirty:
            counts = self._counts[dirty]
            scale = self.config.popularity_weight / 10.0
            log1p = math.log1p  # not numpy's: its last bit may differ
            self._popularity[dirty] = [scale * log1p(n) for n in counts.tolist()]
            self._roots[dirty] = np.sqrt(np.maximum(counts, 1).astype(np.float64))
        self._list_table.fit(len(products), self.config.pairings)
        # the changed products' lists: computed when first read (_lists), from this
        # refresh's model, or at the next refresh (only those not learned again since)
        self._unwritten, self._unwritten_config = dirty, self.config
        self._tables = self._tables.refreshed(self._attributes, self._popularity, dirty)
        # the work arrays sized to the refreshed model; the changed phones' profiles
        # computed, and their parts placed in their slots, when first read (_profiles)
        # or at the next refresh (only those not learned again since); if the arrays
        # were made anew, now, and every phone's parts placed again: a question, first
        # or not, places nothing
        self._unwritten_phones = sorted(self._dirty_phones)
        made = self._work.fit(self._tables.rows, len(self._categories), len(self._word_ids))
        if made:
            self._write_profiles()
            placing = sorted(self._profile_table)
            for start in range(0, len(placing), _LISTS_AT_ONCE):
                group = placing[start : start + _LISTS_AT_ONCE]
                self._work.place([(p, *self._profile_table[p].parts) for p in group])
        if full:  # rare and asked for: everything computed now, the next question reads
            self._write_lists()
            self._write_profiles()
        self._dirty_categories = set()
        self._dirty_products = set()
        self._dirty_phones = set()

    @property
    def _scratch(self) -> Scratch:
        """A question's work arrays, every phone's parts placed in their slots as of the
        last refresh (the profiles it left unwritten written and placed first)."""
        if self._unwritten_phones:
            self._write_profiles()
        return self._work

    @_scratch.setter
    def _scratch(self, scratch: Scratch) -> None:
        self._work = scratch

    def _write_unread(self, *, full: bool) -> None:
        """At the start of a refresh, the last refresh's lists and profiles that no
        question read: those of the products and phones learned since (all if *full*)
        are recomputed by this refresh (no reader can tell), the others computed now,
        before the counts, rows, popularity, offers and habits they read move on."""
        if full:
            self._unwritten, self._unwritten_phones = [], []
            return
        if self._unwritten:
            self._write_lists(superseded={*self._unsettled, *self._dirty_products})
        if self._unwritten_phones:
            learning = {phone for phone, _ in self._unlearned}
            self._write_profiles(superseded=learning | self._dirty_phones)

    @property
    def _lists(self) -> ListTable:
        """Every product's pairing list as of the last refresh (the lists it left
        unwritten computed first): what questions read."""
        if self._unwritten:
            self._write_lists()
        return self._list_table

    def _write_lists(self, superseded: Set[int] = frozenset()) -> None:
        """Compute and store the lists the last refresh left unwritten, but those of
        *superseded* (recomputed by the refresh under way, and never read), from the
        model of the last refresh: the counts, rows, popularity, offers and SKUs' order
        it left, which change only at a refresh (or when :meth:`features` settles the
        counts, which writes these first), and the configuration it ran with."""
        pending = self._unwritten
        if not pending:
            return
        if superseded:
            pending = [i for i in pending if i not in superseded]
        products, lists = self._products, self._list_table
        config, self.config = self.config, self._unwritten_config
        try:
            for start in range(0, len(pending), _LISTS_AT_ONCE):
                chunk = pending[start : start + _LISTS_AT_ONCE]
                ends, table = self._compute_lists([(i, products[i].item) for i in chunk])
                lists.store(np.array(chunk, dtype=np.int64), ends, table)
        finally:
            self.config = config
        self._unwritten = []

    @property
    def _habits(self) -> dict[str, _Habits]:
        """Every phone's habits as of now: those of the baskets learned since the last
        refresh learned first."""
        if self._unlearned:
            self._learn_unlearned()
        return self._habit_records

    def _learn_unlearned(self) -> None:
        """Learn the habits of the baskets learned since the last refresh, in the order
        learned (the same updates as when each was learned), after computing the
        profiles the refresh left unwritten from the habits it read."""
        self._write_profiles()
        unlearned, self._unlearned = self._unlearned, []
        for phone, ids in unlearned:
            self._learn_habits(phone, ids)

    @property
    def _profiles(self) -> dict[str, _Profile]:
        """Every phone's profile as of the last refresh (the profiles it left unwritten
        computed and placed first): what questions read."""
        if self._unwritten_phones:
            self._write_profiles()
        return self._profile_table

    def _write_profiles(self, superseded: Set[str] = frozenset()) -> None:
        """Compute the profiles the last refresh left unwritten, but those of
        *superseded* (recomputed by the refresh under way, and never read), and place
        their parts in their slots, from the model of the last refresh: the phones'
        habits (learned only at a refresh, or when read, which writes these first), the
        SKUs' order and the configuration it ran with."""
        pending = self._unwritten_phones
        if not pending:
            return
        if superseded:
            pending = [phone for phone in pending if phone not in superseded]
        profiles = self._profile_table
        config, self.config = self.config, self._unwritten_config
        try:
            for start in range(0, len(pending), _LISTS_AT_ONCE):
                group = pending[start : start + _LISTS_AT_ONCE]
                for phone, profile in zip(group, self._compute_profiles(group), strict=True):
                    profiles[phone] = profile
                self._work.place([(phone, *profiles[phone].parts) for phone in group])
        finally:
            self.config = config
        self._unwritten_phones = []

    def _recount(self, *, full: bool) -> None:
        """The counts as of now, for a refresh: the baskets learned since settled, the
        pairs since flushed (rows bounded), everything marked changed if *full*, and the
        SKUs' ranks extended to the products learned since."""
        self._settle()
        self._pair_counts.flush()  # the co-purchases since the last refresh, rows bounded
        self._category_counts.flush()
        if full:
            self._dirty_categories.update(range(len(self._categories)))
            self._dirty_products.update(range(len(self._products)))
            self._dirty_phones.update(self._habits)
        self._rank_skus()

    def _compute_related(self, changed: Sequence[int]) -> list[tuple[tuple[int, float], ...]]:
        """The categories bought with each of *changed*: (category, P(D | C)), best first,
        ties by name; all in one set of array operations. P(D | C) is the baskets shared
        over the category's baskets plus the rules' prior, plus ``rule_prior`` times the
        weight of each rule C -> D over the same total: the same float operations as a
        plain loop over one category's counters (checked by
        ``tests/protocol/test_engine_lists.py``)."""
        categories = self._categories
        prior = self.config.rule_prior
        totals = np.array(
            [categories[c].count + (prior if categories[c].rules else 0.0) for c in changed],
            dtype=np.float64,
        )
        at, related, shared = self._category_counts.rows(np.array(changed, dtype=np.int64))
        values = shared.astype(np.float64) / totals[at]
        # the rules: added to the learned share in the order listed (0.0 if none)
        ruled = [
            (k, d, prior * weight / float(totals[k]))
            for k, c in enumerate(changed)
            for d, weight in categories[c].rules
        ]
        width = max(len(categories), 1)
        if ruled:
            places, targets, shares = zip(*ruled, strict=True)
            rule_at = np.array(places, dtype=np.int64)
            keys, inverse = _distinct(
                np.concatenate((at * width + related, rule_at * width + np.array(targets)))
            )
            summed = np.zeros(len(keys))
            summed[inverse[: len(at)]] = values
            np.add.at(summed, inverse[len(at) :], np.array(shares, dtype=np.float64))
            at, related, values = keys // width, keys % width, summed
        positive = totals[at] > 0  # a category never bought and without rules: none
        at, related, values = at[positive], related[positive], values[positive]
        order = _by_keys(at, -values, self._category_ranks()[related])
        at, related, values = at[order], related[order], values[order]
        best = _places(at, len(changed)) < self.config.complements
        ends = np.cumsum(np.bincount(at[best], minlength=len(changed))).tolist()
        pairs = list(zip(related[best].tolist(), values[best].tolist(), strict=True))
        return [tuple(pairs[a:b]) for a, b in itertools.pairwise([0, *ends])]

    def _category_ranks(self) -> _Ints:
        """Each category's place in the order of the categories' names (ties between
        related categories go by name), kept until a category is added."""
        if len(self._category_order) != len(self._categories):
            # Python's order of the names, as the plain loops break ties (numpy's string
            # order drops trailing NULs: "a" and "a\x00" would tie)
            names = [kind.name for kind in self._categories]
            ranks = np.empty(len(names), dtype=np.int64)
            ranks[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
            self._category_order = ranks
        return self._category_order

    def _compute_offered(self, changed: Sequence[int]) -> list[tuple[_Ints, _Floats]]:
        """The candidates the related categories of each of *changed* offer, each with
        P(D | C) P(j | D), related category by related category: the same values as a plain
        loop, computed together with array arithmetic. A product is in one category, so
        no two related categories offer the same one."""
        categories = self._categories
        related = [self._related[c] for c in changed]
        # every (changed category's place, related category, P(D | C)), in order
        lengths = np.fromiter(map(len, related), dtype=np.int64, count=len(changed))
        total_related = int(lengths.sum())
        if not total_related:
            return [_NOTHING_OFFERED] * len(changed)
        owners = np.repeat(np.arange(len(changed), dtype=np.int64), lengths)
        pairs = itertools.chain.from_iterable(itertools.chain.from_iterable(related))
        kinds, shares = np.fromiter(pairs, np.float64, count=2 * total_related).reshape(-1, 2).T
        kinds = kinds.astype(np.int64)  # category numbers: exact as floats
        needed = np.unique(kinds).tolist()
        # the needed categories' members (best sellers, then the catalog's others) end to
        # end, with n(j) + 1 and each category's sales + size; read anew at each refresh
        # (a category whose members, counts or size changed is among the changed ones)
        kinds_needed = [categories[d] for d in needed]
        listed = [
            kind.best if not kind.catalog else list(dict.fromkeys((*kind.best, *kind.catalog)))
            for kind in kinds_needed
        ]
        sizes = np.zeros(len(categories), dtype=np.int64)
        starts = np.zeros(len(categories), dtype=np.int64)
        totals = np.zeros(len(categories))
        sizes[needed] = np.fromiter(map(len, listed), dtype=np.int64, count=len(needed))
        starts[needed] = np.cumsum(sizes[needed]) - sizes[needed]
        totals[needed] = [kind.sales + kind.size for kind in kinds_needed]
        all_js = np.fromiter(
            itertools.chain.from_iterable(listed), dtype=np.int64, count=int(sizes.sum())
        )
        all_counts = (self._counts[all_js] + 1).astype(np.float64)
        counted = sizes[kinds]
        at = np.repeat(starts[kinds], counted) + _places(
            np.repeat(np.arange(len(kinds)), counted), len(kinds)
        )
        owner = np.repeat(owners.astype(np.int64), counted)
        candidate = all_js[at]
        total = totals[kinds]
        # P(D | C) / (sales + size) as a loop divides, 0.0 for an empty category
        bases = np.where(total > 0, shares / np.where(total > 0, total, 1.0), 0.0)
        value = np.repeat(bases, counted) * all_counts[at]
        positive = value > 0.0  # a dict.get(j, 0.0) < value test: a nought is never listed
        ends = _ends(owner[positive], len(changed))
        return list(
            zip(_split(candidate[positive], ends), _split(value[positive], ends), strict=True)
        )

    def _raw_pairs(self, index: int | None, item: Item) -> tuple[dict[int, float], ...]:
        """Product *index*'s (or an unknown *item*'s) candidates with their raw
        confidence, cosine and category features, from the counts."""
        confidence: dict[int, float] = {}
        cosine: dict[int, float] = {}
        n = 0
        if index is not None:
            counts = self._counts
            n = int(counts[index])
            if n:
                root = 1.0 / math.sqrt(n)
                for j, c in self._pair_counts.row(index).items():
                    confidence[j] = c / n
                    cosine[j] = c * root / math.sqrt(int(counts[j]) or 1)
        category: dict[int, float] = {}
        kind = self._category_ids.get(item.category)
        m = self.config.category_prior
        if kind is not None and m > 0:
            shrink = m / (n + m)
            js, values = self._affinities(kind, item.brand, item.colour)
            for j, value in zip(js.tolist(), values.tolist(), strict=True):
                if j != index:
                    category[j] = shrink * value
        return confidence, cosine, category

    def _affinities(self, kind: int, brand: str, colour: str) -> tuple[_Ints, _Floats]:
        """The candidates category *kind* offers a product of *brand* and *colour*, and
        each one's P(D | C) P(j | D) affinity: kept until the next refresh (the products
        of a category mostly share a few brands and colours)."""
        key = (kind, brand, colour)
        found = self._affinity_memo.get(key)
        if found is None:
            self._remember_affinities([key])
            found = self._affinity_memo[key]
        return found

    def _remember_affinities(self, keys: Sequence[tuple[int, str, str]]) -> None:
        """Compute the affinities of :meth:`_affinities` for every (category, brand,
        colour) of *keys* (distinct, none remembered yet) in one set of array operations
        (a refresh asks for some 2,000 at a time) and remember them until the next
        refresh. Each value is the same float operations as for one key alone."""
        if not keys:
            return
        offers = [self._offered[kind] for kind, _, _ in keys]
        sizes = np.fromiter((len(js) for js, _ in offers), dtype=np.int64, count=len(keys))
        js = np.concatenate([js for js, _ in offers])
        words = self._product_attributes()[js, 1:]
        word_ids = self._word_ids
        brands = np.array([word_ids.get(brand, -1) for _, brand, _ in keys], dtype=np.int64)
        affinity = np.where(words[:, 0] == np.repeat(brands, sizes), 1.0 + BRAND_BONUS, 1.0)
        colours = sorted({colour for _, _, colour in keys if colour})
        if colours:  # 0.0 with a colourless product: adding it changes nothing, so skipped
            rows = np.array([self._colour_row(colour) for colour in colours])
            number = {colour: n for n, colour in enumerate(colours)}
            which = np.repeat([number.get(colour, -1) for _, _, colour in keys], sizes)
            coloured = which >= 0
            affinity[coloured] = affinity[coloured] + rows[which[coloured], words[coloured, 1]]
        values = np.concatenate([bases for _, bases in offers]) * affinity
        memo = self._affinity_memo
        ends = np.cumsum(sizes).tolist()
        begin = 0
        for key, end in zip(keys, ends, strict=True):
            memo[key] = (js[begin:end], values[begin:end])
            begin = end

    def _product_attributes(self) -> _Ints:
        """Per product, its category and the numbers of its brand and colour words
        (:attr:`_attributes` as an array, extended to the products interned since the
        last call)."""
        known = len(self._attributes_of)
        if len(self._attributes) > known:
            fresh = np.array(self._attributes[known:], dtype=np.int64).reshape(-1, 3)
            self._attributes_of = np.concatenate((self._attributes_of, fresh))
        return self._attributes_of

    def _colour_row(self, colour: str) -> _Floats:
        """``colour_affinity(colour, word)`` for each word by its number (0.0 for a brand
        or the empty colour), kept and extended as words are added."""
        row = self._colour_rows.get(colour)
        if row is None or len(row) < len(self._word_ids):
            row = np.array([colour_affinity(colour, word) for word in self._word_ids])
            self._colour_rows[colour] = row
        return row

    def _rank_skus(self) -> None:
        """Extend :attr:`_sku_ranks` to the products learned since it was last extended:
        merge their SKUs, sorted, into those already in order (no sort of all of them)."""
        old = len(self._sku_ranks)
        if len(self._skus) == old:
            return
        fresh = self._skus[old:]
        order = sorted(range(len(fresh)), key=fresh.__getitem__)
        ranked = self._sorted_skus
        # where each fresh SKU goes among the known ones (a search per fresh SKU, not per
        # known one); a known SKU moves up by the fresh ones placed at or before it (the
        # SKUs are distinct), counted from those places
        at = [bisect.bisect_left(ranked, fresh[k]) for k in order]
        moved = np.cumsum(np.bincount(np.array(at, dtype=np.int64), minlength=len(ranked) + 1))
        ranks = np.empty(len(self._skus), dtype=np.int64)
        ranks[:old] = self._sku_ranks + moved[self._sku_ranks]
        ranks[old + np.array(order, dtype=np.int64)] = np.arange(len(order)) + at
        merged: list[str] = []
        begin = 0
        for k, end in zip(order, at, strict=True):
            merged += ranked[begin:end]
            merged.append(fresh[k])
            begin = end
        merged += ranked[begin:]
        self._sku_ranks = ranks
        self._sorted_skus = merged

    def _compute_list(self, index: int | None, item: Item) -> _List:
        """A basket product's pairing list (see :meth:`_compute_lists`)."""
        return self._compute_lists([(index, item)])[1]

    def _compute_lists(self, entries: Sequence[tuple[int | None, Item]]) -> tuple[_Ints, _Floats]:
        """The pairing lists of *entries* (a product's number, or None for a product
        never learned, and its item), all in one set of array operations (the refresh's
        hot loop): each list holds the parts of :meth:`_raw_pairs` weighted, its best
        ``pairings`` candidates by them plus popularity, ties by SKU. Each value is the
        same float operations as a plain loop over one product's dicts; checked by
        ``tests/protocol/test_engine_lists.py``. Returned as one table of three lines
        (a :data:`_List` of every list, entry after entry) and where each entry's list
        ends in it (what :meth:`ListTable.store` writes)."""
        numbers = np.array([-1 if i is None else i for i, _ in entries], dtype=np.int64)
        counts = np.zeros(len(numbers))
        known = numbers >= 0  # a product never learned: 0 baskets
        counts[known] = self._counts[numbers[known]]
        owner_co, neighbours, co = self._co_parts(numbers, counts)
        owner_near, offered, near = self._near_parts(entries, numbers, counts)
        shift = len(self._products).bit_length()  # (entry, candidate) packed by a shift:
        # unpacked by a shift and a mask, cheaper than a division by the product count
        bits = len(entries).bit_length() + (len(co) + len(near)).bit_length() + shift
        if bits > _KEY_BITS and len(entries) > 1:  # too many to sort by one key: halve
            half = len(entries) // 2
            ends, table = self._compute_lists(entries[:half])
            more, rest = self._compute_lists(entries[half:])
            joined: _Floats = np.concatenate((table, rest), axis=1)
            return np.concatenate((ends, more + table.shape[1])), joined
        # one row per (entry, candidate): at most one co-purchase and one category part
        keys, at = _distinct(
            np.concatenate(((owner_co << shift) | neighbours, (owner_near << shift) | offered))
        )
        owner, candidate = keys >> shift, keys & ((1 << shift) - 1)
        from_co, from_near = at[: len(co)], at[len(co) :]
        co_part = np.zeros(len(keys))
        co_part[from_co] = co
        near_part = np.zeros(len(keys))
        near_part[from_near] = near
        # the total as a loop sums it: co-purchase part + popularity, then + category part;
        # an absent part adds 0.0, which changes no value but a -0.0 total's sign (equal
        # in every comparison the ranking makes; the lists keep the parts, not the total)
        total = self._popularity[candidate] + co_part + near_part
        # each entry's best by total, ties by SKU; its first `pairings`, sorted among
        # the candidates at least as good as its pairings-th best total (fewer to sort)
        contenders = _contenders(owner, total, len(entries), self.config.pairings)
        if contenders is not None:
            owner, candidate, total = owner[contenders], candidate[contenders], total[contenders]
            co_part, near_part = co_part[contenders], near_part[contenders]
        order = _by_keys(owner, -total, self._sku_ranks[candidate])
        owner = owner[order]
        first = _places(owner, len(entries)) < self.config.pairings
        kept = order[first]
        ends = np.cumsum(np.bincount(owner[first], minlength=len(entries)))
        table = np.array((candidate[kept], co_part[kept], near_part[kept]), dtype=np.float64)
        return ends, table

    def _co_parts(self, numbers: _Ints, counts: _Floats) -> tuple[_Ints, _Ints, _Floats]:
        """Every co-purchase neighbour of the products *numbers* (-1: none) that have
        been in *counts* baskets: the entry's place, the neighbour, its weighted
        confidence and cosine parts."""
        cfg = self.config
        w_conf, w_cos = cfg.confidence_weight, cfg.cosine_weight
        places = np.flatnonzero(numbers >= 0)
        at, neighbours, counted = self._pair_counts.rows(numbers[places])
        owner = places[at]
        shared = counted.astype(np.float64)  # whole numbers: exact
        n = counts[owner]
        co: _Floats
        if w_cos == 0.0 and w_conf != 0.0:  # adding a nought cosine part: no change
            co = w_conf * (shared / n)
        else:
            root = 1.0 / np.sqrt(n)
            co = w_conf * (shared / n) + w_cos * (shared * root / self._roots[neighbours])
        return owner, neighbours, co

    def _near_parts(
        self, entries: Sequence[tuple[int | None, Item]], numbers: _Ints, counts: _Floats
    ) -> tuple[_Ints, _Ints, _Floats]:
        """What the category of each of *entries* offers one of its brand and colour,
        itself excepted: the entry's place, the candidate, its weighted category part."""
        cfg = self.config
        m = cfg.category_prior
        pieces: list[_Ints] = []
        values: list[_Floats] = []
        owners: list[int] = []
        kinds = self._category_ids
        if m > 0 and len(entries) and numbers.min() >= 0:  # the refresh's: all learned
            owner, offered, found = self._grouped_offers(entries, numbers)
            shrink = m / (counts + m)
            near = cfg.category_weight * (shrink[owner] * found)
            mine = offered != numbers[owner]  # a product is not its own candidate
            return owner[mine], offered[mine], near[mine]
        if m > 0:
            for k, (_, item) in enumerate(entries):
                kind = kinds.get(item.category)
                if kind is not None:
                    js, found = self._affinities(kind, item.brand, item.colour)
                    pieces.append(js)
                    values.append(found)
                    owners.append(k)
        if not pieces:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        sizes = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        owner = np.repeat(np.array(owners, dtype=np.int64), sizes)
        offered = np.concatenate(pieces)
        shrink = m / (counts + m)
        near = cfg.category_weight * (shrink[owner] * np.concatenate(values))
        mine = offered != numbers[owner]  # a product is not its own candidate
        return owner[mine], offered[mine], near[mine]

    def _grouped_offers(
        self, entries: Sequence[tuple[int | None, Item]], numbers: _Ints
    ) -> tuple[_Ints, _Ints, _Floats]:
        """What :meth:`_affinities` gives each of *entries* (all learned products, their
        *numbers*), flattened: the entry's place, the candidate, its affinity. The entries
        grouped by category, brand and colour (some 6,000 lists of a refresh share some
        2,000), each group's offer read once and spread to its entries by array gathers."""
        attributes = self._product_attributes()[numbers]
        _, first, group = np.unique(
            self._offer_groups(attributes), return_index=True, return_inverse=True
        )
        memo = self._affinity_memo
        keys = []
        for k in first.tolist():
            item = entries[k][1]
            keys.append((int(attributes[k, 0]), item.brand, item.colour))
        self._remember_affinities([key for key in keys if key not in memo])
        offers = [memo[key] for key in keys]
        sizes = np.fromiter((len(js) for js, _ in offers), dtype=np.int64, count=len(offers))
        starts = np.cumsum(sizes) - sizes
        # each entry's group's block, entry after entry
        counted = sizes[group]
        owner = np.repeat(np.arange(len(numbers)), counted)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(counted) - counted, counted)
        at = np.repeat(starts[group], counted) + within
        offered = np.concatenate([js for js, _ in offers])[at]
        found: _Floats = np.concatenate([values for _, values in offers])[at]
        return owner, offered, found

    def _offer_groups(self, attributes: _Ints) -> _Ints:
        """One whole number per (category, brand word, colour word) row of *attributes*:
        equal for the products :meth:`_affinities` offers the same."""
        shift = len(self._word_ids).bit_length()
        kinds, brands, colours = attributes.T
        packed: _Ints = (kinds << (2 * shift)) | (brands << shift) | colours
        return packed

    def _compute_profiles(self, phones: Sequence[str]) -> list[_Profile]:
        """The profiles of *phones*, all in one set of array operations: each phone's
        ``habit_candidates`` best products by habit part (ties by SKU) and its lookup
        table of weighted parts. Each value is the same float operations as a plain loop
        over one phone's dicts; checked by ``tests/protocol/test_engine_lists.py``."""
        cfg = self.config
        r = cfg.decay
        records = [self._habit_records[phone] for phone in phones]
        # per phone: the weights of its habit parts and its categories', brands', colours'
        share, newest, scale, per_basket, brand, colour = [], [], [], [], [], []
        for habits in records:
            baskets = habits.baskets
            lines = habits.lines or 1
            share.append(cfg.habit_weight / baskets)
            newest.append(baskets - 1)
            # the decayed count over its largest value, sum of r ** k for k < baskets
            scale.append(cfg.decayed_weight * (1 - r) / (1 - r**baskets) if r < 1 else 0.0)
            per_basket.append(cfg.habit_category_weight / baskets)
            brand.append((cfg.brand_weight, lines))
            colour.append((cfg.colour_weight, lines))
        owner, products, bought = _flattened([habits.items for habits in records])
        # a phone's last and decayed hold the keys of its items
        last = _following([habits.last for habits in records], len(products))
        decayed = _following([habits.decayed for habits in records], len(products))
        age = np.array(newest, dtype=np.int64)[owner] - last.astype(np.int64)
        habit = (
            np.array(share)[owner] * bought
            + cfg.recency_weight / (1 + age).astype(np.float64)
            + np.array(scale)[owner] * decayed * self._powers(int(age.max(initial=0)))[age]
        )
        # the best products: one sort by phone, habit part, SKU
        order = _by_keys(owner, -habit, self._sku_ranks[products])
        place = _places(owner[order], len(phones))
        top = order[place < cfg.habit_candidates]
        together = self._compute_together(records, owner, products, age)
        tops = _split(products[top].astype(np.float64), _ends(owner[top], len(phones)))
        # the lookup tables: products, then categories, brands, colours in their key blocks
        word = self._word_ids.__getitem__
        c_owner, c_keys, c_counts = _flattened([habits.categories for habits in records])
        b_owner, b_keys, b_counts = _flattened(
            [{word(b): n for b, n in habits.brands.items()} for habits in records]
        )
        o_owner, o_keys, o_counts = _flattened(
            [{word(c): n for c, n in habits.colours.items()} for habits in records]
        )
        brand_weight, brand_lines = np.array(brand).reshape(-1, 2).T
        colour_weight, colour_lines = np.array(colour).reshape(-1, 2).T
        keys = np.concatenate((products, _BLOCK + c_keys, 2 * _BLOCK + b_keys, 3 * _BLOCK + o_keys))
        values = np.concatenate(
            (
                habit,
                np.array(per_basket)[c_owner] * c_counts,
                brand_weight[b_owner] * b_counts / brand_lines[b_owner],
                colour_weight[o_owner] * o_counts / colour_lines[o_owner],
            )
        )
        owners = np.concatenate((owner, c_owner, b_owner, o_owner))
        width = max(len(self._products), len(self._categories), len(self._word_ids))
        order = _lookup_order(owners, (products, c_keys, b_keys, o_keys), width.bit_length())
        ends = _ends(owners[order], len(phones))
        table_keys = _split(keys[order].astype(np.float64), ends)
        table_values = _split(values[order], ends)
        profiles = []
        for best, k, v, mine in zip(tops, table_keys, table_values, together, strict=True):
            listed: _List = np.zeros((3, len(best)))
            listed[0] = best
            profiles.append(_Profile(listed, (k, v) if len(k) else _NO_LOOKUP, mine))
        return profiles

    def _compute_together(
        self, records: Sequence[_Habits], owner: _Ints, products: _Ints, age: _Ints
    ) -> list[_Together]:
        """Per phone its products in number order and their words of the window, each
        shifted from the product's last basket to the phone's newest; none when the
        personal weight is 0 (a question then skips the feature)."""
        if not self.config.personal_weight:
            return [_NO_TOGETHER] * len(records)
        # in the order of the phone's items, as its last and decayed (see _following)
        words = np.fromiter(
            itertools.chain.from_iterable(habits.together.values() for habits in records),
            np.uint64,
            count=len(products),
        )
        # bits shifted past the window's end fall off the 64-bit word
        shift = np.minimum(age, PERSONAL_WINDOW - 1).astype(np.uint64)
        words = np.where(age < PERSONAL_WINDOW, words << shift, np.uint64(0))
        # a product out of the window adds nothing and shares nothing: left out
        kept = np.flatnonzero(words)
        order = kept[np.lexsort((products[kept], owner[kept]))]
        ends = _ends(owner[order], len(records))
        return [
            (items, masks, {j: k for k, j in enumerate(items.tolist())})
            for items, masks in zip(
                _split(products[order], ends), _split(words[order], ends), strict=True
            )
        ]

    def _powers(self, age: int) -> _Floats:
        """``r ** k`` for every age *k* up to at least *age*, each as Python computes it
        (numpy's power may differ in the last bit), kept and extended as phones age."""
        powers = self._decay_powers
        if len(powers) <= age:
            r = self.config.decay
            more = [r**k for k in range(len(powers), 2 * age + 2)]
            powers = self._decay_powers = np.concatenate((powers, more))
        return powers

    # ------------------------------------------------------------------ features (fitting)

    def features(
        self, items: Iterable[Item], phone_id: str | None
    ) -> list[tuple[str, list[float]]]:
        """Every candidate for *items* and *phone_id* with its raw features (the order of
        :data:`FEATURES`), read from the current counts, not the refreshed model: what a
        scorer is fitted on (``scenarios/_reco/_scorer.py``). Candidates: all the
        co-purchase neighbours and category candidates of each basket product, and the
        phone's products; never one of *items*. In SKU order."""
        self._write_lists()  # the last refresh's lists, before its counts move on
        self._settle()  # the counts as of now (the refreshed model is left as it is)
        basket: dict[str, Item] = {}
        for item in items:
            basket.setdefault(item.sku, item)
        rows: dict[int, list[float]] = {}
        for name in sorted(basket):
            parts = self._raw_pairs(self._ids.get(name), basket[name])
            for f, values in enumerate(parts):
                for j, v in values.items():
                    rows.setdefault(j, [0.0] * len(FEATURES))[f] += v
        habits = self._habits.get(phone_id) if phone_id is not None else None
        if habits is not None:
            for j in habits.items:
                rows.setdefault(j, [0.0] * len(FEATURES))
        for name in basket:
            index = self._ids.get(name)
            if index is not None:
                rows.pop(index, None)
        products = self._products
        mine = self._personal_shares(habits, basket) if habits is not None else {}
        for j, row in rows.items():
            product = products[j]
            row[3] = math.log1p(int(self._counts[j])) / 10.0
            if habits is not None and habits.baskets:
                baskets = habits.baskets
                row[4] = habits.items.get(j, 0) / baskets
                if j in habits.last:
                    age = baskets - 1 - habits.last[j]
                    row[5] = 1.0 / (1 + age)
                    r = self.config.decay
                    if r < 1:
                        row[6] = habits.decayed[j] * r**age * (1 - r) / (1 - r**baskets)
                row[7] = habits.categories.get(product.category, 0) / baskets
                lines = habits.lines or 1
                row[8] = habits.brands.get(product.brand, 0) / lines
                row[9] = habits.colours.get(product.colour, 0) / lines if product.colour else 0.0
                row[10] = mine.get(j, 0.0)
        return sorted(((products[j].sku, row) for j, row in rows.items()), key=_first)

    def _personal_shares(self, habits: _Habits, basket: Mapping[str, Item]) -> dict[int, float]:
        """The personal feature of each of the phone's products for *basket*, from the
        counts by a plain loop (what the refresh's words and :func:`_shares` compute)."""
        newest = habits.baskets - 1
        words = {
            j: (word << (newest - habits.last[j])) & _WINDOW
            for j, word in habits.together.items()
            if newest - habits.last[j] < PERSONAL_WINDOW
        }
        found: dict[int, float] = {}
        for name in sorted(basket):
            i = self._ids.get(name)
            mine = words.get(i, 0) if i is not None else 0
            if mine:
                size = mine.bit_count()
                for j, word in words.items():
                    found[j] = found.get(j, 0.0) + (word & mine).bit_count() / size
        return found

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
        products = self._products
        result = []
        # every answer from a learned (validated) purchase line: only its reason and score
        # are checked (protocol/_core/_trusted.py), cheaper than keeping built ones to reuse
        for j, score, reason in ranked:
            item = products[j].item
            offer = offers.get(item.sku) if offers else None
            result.append(answer_from_line(item, reason, score, offer))
        if promotions is not None:
            listed = {item.sku for item in purchase.items}
            listed.update(products[j].sku for j, _, _ in ranked)

            def lookup(sku: str) -> Item | None:
                index = self._ids.get(sku)
                return None if index is None else products[index].item

            result.extend(
                answer_from_line(item, reason, PROMOTION_SCORE, offer)
                for item, reason, offer in promoted(promotions, limit, offers, listed, lookup)
            )
        return tuple(result)

    def pair(self, items: Iterable[Item], phone_id: str | None, limit: int) -> list[Pairing]:
        """The *limit* best products to go with *items* for *phone_id*, best first, from
        the model of the last refresh. Never an SKU of *items*; ties by SKU.
        ``phone_id=None`` (or a phone never seen) pairs without habits."""
        products = self._products
        return [
            Pairing(products[j].sku, score, reason)
            for j, score, reason in self._pair(items, phone_id, limit)
        ]

    def _pair(
        self, items: Iterable[Item], phone_id: str | None, limit: int
    ) -> list[tuple[int, float, Reason]]:
        """:meth:`pair` by product id: (id, score, reason), best first. Summed in SKU
        order, so the basket's order cannot change a float."""
        if limit <= 0:
            return []
        basket: dict[str, Item] = {}
        for item in items:
            basket.setdefault(item.sku, item)
        ids = self._ids
        lists = self._lists.views  # ListTable.__getitem__ written inline below
        # The candidates of every list, in the basket's SKU order, then the phone's: the
        # first place of a candidate is where a dict of them would have inserted it.
        pieces: list[_List] = []
        excluded: list[int] = []  # the basket's own products are never answers
        for name in sorted(basket):
            index = ids.get(name)
            if index is None:  # never learned: through its category alone
                pieces.append(self._compute_list(None, basket[name]))
            else:
                excluded.append(index)
                # a product learned since the last refresh has no row yet: no list
                pieces.append(lists[index] if index < len(lists) else NO_LIST)
        profile = self._profiles.get(phone_id) if phone_id is not None else None
        if profile is not None:
            pieces.append(profile.top)  # the phone's best products, parts 0.0
        # The basket's products listed first with a co-purchase part of -inf: never a
        # positive score, put back at rest with the other candidates, and every other
        # candidate's first place moved by the same count (one learned after the last
        # refresh is no candidate).
        known = len(self._tables)
        first = [i for i in excluded if i < known]
        if first:
            pieces.insert(0, np.array((first, [-math.inf] * len(first), [0.0] * len(first))))
        if len(pieces) == 1:
            table = pieces[0]
        else:
            table = np.concatenate(pieces, axis=1) if pieces else NO_LIST
        # then the phone's own co-purchases with the basket (no parts)
        shares = None if profile is None else _shares(profile.together, excluded)
        personal = None
        if shares is None:
            candidates = table[0].astype(np.int64)
        else:
            candidates = np.concatenate((table[0], shares[0]), dtype=np.int64, casting="unsafe")
            personal = (shares[0], self.config.personal_weight * shares[1])
        if not len(candidates):
            return []
        return self._rank(
            candidates,
            table[1],
            table[2],
            profile,
            limit,
            personal=personal,
            phone_id=phone_id,
        )

    def _rank(
        self,
        candidates: _Ints,
        co_parts: _Floats,
        near_parts: _Floats,
        profile: _Profile | None,
        limit: int,
        *,
        personal: tuple[_Ints, _Floats] | None = None,
        phone_id: str | None = None,
    ) -> list[tuple[int, float, Reason]]:
        """Score every candidate (the first ``len(co_parts)`` with their lists' parts);
        best first, the n-th candidate of a category at ``score * diversity ** n``, ties
        by SKU; each with the reason of its largest part; *personal*, the phone's own
        co-purchases and their weighted parts. Only positive scores are answers (the
        basket's products come with a co-purchase part of -inf). Each sum is the same
        sequence of float additions as a plain loop's (in list order, from 0.0; a part
        of 0.0 changes no such sum), so the scores are bit for bit those of one
        (protocol/_reco/_answer.py)."""
        scratch = self._scratch  # sized at the refresh, every phone placed (_scratch)
        phone = None if profile is None else scratch.slots(phone_id or "")
        merged: Merged = merge(
            scratch,
            candidates,
            co_parts,
            near_parts,
            phone=phone,
            personal=personal,
        )
        products = self._products
        chosen = self._best_of(
            merged,
            limit,
            lambda j: products[j].category,
            self._skus.__getitem__,
            self.config.diversity,
        )
        slots = self.config.habit_slots
        if profile is not None and slots is not None and len(chosen) > slots:
            # the discovery rule: not all the phone's own products (step 506)
            chosen = self._discover(
                merged,
                chosen,
                profile.parts[0],
                self._sku_ranks,
                slots=slots,
                ratio=self.config.discovery,
                seeded=self.config.discovery_seeded,
            )
        co, near, habit = merged.co, merged.near, merged.habit
        result = []
        for j, score, k in chosen:  # item(): a Python float, no numpy scalar between
            a = co.item(k)
            b = near.item(k)
            h = 0.0 if habit is None else habit.item(k)
            reason = _HABIT if h > a and h > b else _CO_PURCHASE if a >= b else _COMPLEMENT
            result.append((j, score, reason))
        return result


_second = operator.itemgetter(1)
_first = operator.itemgetter(0)


def _strongest(row: dict[int, int], keep: int) -> dict[int, int]:
    """The *keep* largest counters of *row* (ties: the earlier inserted)."""
    return dict(itertools.islice(sorted(row.items(), key=_second, reverse=True), keep))
