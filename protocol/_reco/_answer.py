"""How :class:`~protocol.PairingEngine` answers a question (step 506) from its refreshed
model: the candidates merged, scored and ranked, each value by the same float operations
as a plain loop over dicts (``tests/protocol/test_engine_answer.py`` checks it).

A question reads a few hundred entries (about 24 per basket product, the phone's best
products and its own co-purchases), so numpy's fixed cost per call outweighs the work:
the design minimises calls. Equal candidates are merged and the phone's parts read **by
position** in dense work arrays the engine keeps (:class:`Scratch`: one 64-byte row per
product with all a question sums or reads of it as a candidate, its popularity part and
part slots written by the refresh, so a candidate costs one cache line; one slot per
product, category and word for a phone's parts), written for one question and set back
to their resting value before it returns: ``np.minimum.at`` finds where each candidate
is first listed, ``np.add.at`` sums its parts in list order from 0.0 (what ``bincount``
and a dict loop do), each candidate's row is then read at once, and the phone's parts are
scattered into their slots and gathered for every candidate at once instead of searched
in a sorted table. A plain-Python version of the same steps was
measured slower on the benchmark's questions (docs/recommender.md, *Speed*).
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["Merged", "PhoneSlots", "Scratch", "best_of", "merge"]

_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.int64]

BLOCK = 1 << 40
"""A profile's lookup keys: the product's number, ``BLOCK`` plus its category's, twice
``BLOCK`` plus its brand word's, three times ``BLOCK`` plus its colour word's (the
engine's ``_BLOCK``)."""

_UNLISTED = math.inf  # a row's first place at rest
_REST = np.array([_UNLISTED, 0.0, 0.0])  # a row's first place, co and near parts at rest


class PhoneSlots(NamedTuple):
    """A phone's parts as :meth:`Scratch.place` places them: where each goes, its value,
    and whether any is a colour part (a phone with none has no colour part looked up)."""

    where: _Ints
    values: _Floats
    coloured: bool


class Scratch:
    """Dense work arrays read and written by position, at rest between questions: one row
    per product (:attr:`rows`, 64 bytes: a candidate's one cache line) holding its first
    place in the question's lists (at :data:`_UNLISTED`), its summed co-purchase and
    category parts (0.0), its popularity part as of the last refresh, and the slots of its
    four phone parts (whole numbers held as the cells' int64 bits, read through an int64
    view: never a float operation on them); one slot per product, category, brand and
    colour word for a phone's parts (:attr:`parts`, 0.0); and each phone's slot numbers,
    placed at the refresh.
    Sized to the model with room to grow; made anew (and every phone's slots placed again)
    when the model outgrows them. Not for two questions at once."""

    def __init__(self) -> None:
        self._sizes = (0, 0, 0)
        self.rows: _Floats = np.zeros((0, 8))
        self.parts: _Floats = np.zeros(0)
        self._offsets: _Floats = np.zeros(4)
        self._slotted = 0  # products whose part slots are in rows
        self._phones: dict[str, PhoneSlots] = {}
        self._places: _Floats = np.arange(1024, dtype=np.float64)

    @property
    def firsts(self) -> _Floats:
        """Each product's first place in a question's lists (a view of :attr:`rows`)."""
        return self.rows[:, 0]

    @property
    def co(self) -> _Floats:
        """Each product's summed co-purchase part (a view of :attr:`rows`)."""
        return self.rows[:, 1]

    @property
    def near(self) -> _Floats:
        """Each product's summed category part (a view of :attr:`rows`)."""
        return self.rows[:, 2]

    def fit(self, rows: _Floats, categories: int, words: int) -> bool:
        """Hold the products of *rows* (the engine's per-product rows: popularity, then
        the four lookup keys, see :data:`BLOCK`), *categories* categories and *words*
        brand and colour words, with every product's popularity part read anew from
        *rows*. True if the arrays were made anew: every phone's slots are then forgotten
        and must be placed again (:meth:`place`)."""
        products = len(rows)
        wanted = (products, categories, words)
        made = any(w > s for w, s in zip(wanted, self._sizes, strict=True))
        if made:
            p, c, w = (n + n // 4 + 64 for n in wanted)
            self._sizes = (p, c, w)
            self.rows = np.zeros((p, 8))
            self.rows[:, 0] = _UNLISTED
            self.parts = np.zeros(p + c + 2 * w)
            self._offsets = np.array([0, p, p + c, p + c + w], dtype=np.float64)
            self._slotted = 0
            self._phones = {}
        known = self._slotted
        if products > known:  # a product's keys never change: only new ones are placed
            # as whole numbers in the row's float cells (their bits: see merge)
            self.rows.view(np.int64)[known:products, 4:] = self._placed(rows[known:, 1:5])
            self._slotted = products
        # every product's: the refresh changed those of the products it recounted
        self.rows[:products, 3] = rows[:, 0]
        return made

    def _placed(self, keys: _Floats) -> _Ints:
        """The slots of lookup *keys* (any shape; exact whole numbers below 2 ** 53)."""
        block = keys // BLOCK
        placed: _Ints = (keys - block * BLOCK + self._offsets[block.astype(np.int64)]).astype(
            np.int64
        )
        return placed

    def place(self, phones: Sequence[tuple[str, _Floats, _Floats]]) -> None:
        """Place the parts of *phones* (each: the phone, its profile's sorted lookup keys
        and their values) in the slots, all in one set of array operations. The refresh
        calls it for every phone whose profile it recomputed (all of them after
        :meth:`fit` made the arrays anew), so that no question places any."""
        if not phones:
            return
        flat = np.concatenate([keys for _, keys, _ in phones])
        placed = self._placed(flat)
        sizes = np.fromiter((len(keys) for _, keys, _ in phones), np.int64, count=len(phones))
        ends = np.cumsum(sizes)
        # a phone has colour parts if its last key (they are sorted) is in the colours' block
        last = flat[np.maximum(ends - 1, 0)] if len(flat) else np.zeros(len(phones))
        colours = ((sizes > 0) & (last >= 3 * BLOCK)).tolist()
        kept = self._phones
        start = 0
        for (phone, _, values), end, coloured in zip(phones, ends.tolist(), colours, strict=True):
            # a copy: a view would keep the whole batch alive while any phone is unchanged
            kept[phone] = PhoneSlots(placed[start:end].copy(), values, coloured)
            start = end

    def slots(self, phone: str) -> PhoneSlots:
        """*phone*'s parts as the last refresh placed them (:meth:`place`)."""
        return self._phones[phone]

    def places(self, count: int) -> _Floats:
        """0.0, 1.0, ... *count* - 1: a question's places in its lists (a slice of a kept
        array, cheaper than np.arange)."""
        if count > len(self._places):
            self._places = np.arange(2 * count, dtype=np.float64)
        return self._places[:count]


class Merged(NamedTuple):
    """A question's candidates, each once, in the order first listed, with its summed
    co-purchase (and cosine) part, category part, habit part (None without a phone) and
    score."""

    candidates: _Ints
    co: _Floats
    near: _Floats
    habit: _Floats | None
    scores: _Floats


def merge(
    scratch: Scratch,
    candidates: _Ints,
    co_parts: _Floats,
    near_parts: _Floats,
    *,
    phone: PhoneSlots | None,
    personal: tuple[_Ints, _Floats] | None,
) -> Merged:
    """Merge and score *candidates*: the first ``len(co_parts)`` carry the *co_parts* and
    *near_parts* of their lists (0.0 for the phone's best products, -inf co-purchase parts
    for the basket's own, listed first: they score ``-inf``), the rest (the phone's own
    co-purchases) none. Each sum from 0.0 in list order (adding 0.0 changes no bit of a
    sum begun at 0.0); ``score = co + near + popularity`` then, with a phone, ``+
    (product part + category part [+ personal part]) + brand part [+ colour part]``, the
    order of the plain loop, the popularity part as of the last refresh (the scratch's
    rows). *personal* is the phone's own co-purchases (distinct products, weighted
    parts), every one of them among *candidates*: its part is written into its
    first-place cell and put back with the candidates', so one outside them would stay
    written for the next question (``PairingEngine._pair`` lists them all)."""
    rows, slots = scratch.rows, scratch.parts
    firsts, co_sums, near_sums = rows[:, 0], rows[:, 1], rows[:, 2]
    listed = len(co_parts)
    places = scratch.places(len(candidates))
    try:
        np.minimum.at(firsts, candidates, places)
        unique = candidates[firsts[candidates] == places]  # in the order first listed
        listed_candidates = candidates[:listed]
        np.add.at(co_sums, listed_candidates, co_parts)  # in order: as a loop sums
        np.add.at(near_sums, listed_candidates, near_parts)
        if personal is not None:
            # the personal parts ride in the first-place cells, read with the rows: each
            # candidate's 0.0 but the phone's own co-purchases' (distinct, all listed)
            firsts[unique] = 0.0
            firsts[personal[0]] = personal[1]
        # each candidate's whole row at once: its sums, popularity and part slots
        found = rows.take(unique, axis=0)
        # back at rest column by column: three 1-D scatters cost less than one of rows
        firsts[unique] = _UNLISTED
        co_sums[unique] = 0.0
        near_sums[unique] = 0.0
        co = found[:, 1]
        near = found[:, 2]
        scores = co + near + found[:, 3]
        habit = None
        if phone is not None:
            # the slot numbers are whole numbers stored as the cells' bits: read in place, one
            # column at a time (a cast or copy of the 2-D block of four costs numpy several
            # microseconds; each 1-D gather a fraction of one)
            where = found.view(np.int64)
            slots[phone.where] = phone.values
            product, category, brand = slots[where[:, 4]], slots[where[:, 5]], slots[where[:, 6]]
            colour = slots[where[:, 7]] if phone.coloured else None
            slots[phone.where] = 0.0
            habit = product + category
            if personal is not None:
                habit = habit + found[:, 0]
            scores = scores + habit + brand
            if colour is not None:
                scores = scores + colour
    except BaseException:  # never leave a slot written: the next question reads them
        rows[:, :3] = _REST
        slots.fill(0.0)
        raise
    return Merged(unique, co, near, habit, scores)


def best_of(
    merged: Merged,
    limit: int,
    category: Callable[[int], int],
    sku: Callable[[int], str],
    diversity: float,
) -> list[tuple[int, float, int]]:
    """The *limit* best of *merged*'s candidates with a positive score, best first: in
    score order (ties in the order first listed) the n-th of a category ranks at ``score
    * diversity ** n``; ties by SKU. Each as (candidate, score, place in *merged*).

    The candidates are handed to Python in score order a head at a time (the ranking
    seldom reads past :data:`_HEAD`), in one loop without a generator between (its
    resumptions cost more than the ranking's few steps)."""
    best: list[tuple[float, str, int, int]] = []
    seen: dict[int, int] = {}
    negatives = -merged.scores
    # stable: equal scores stay in the order first listed (all of them sorted: fewer
    # calls than picking the positive ones first)
    order = negatives.argsort(kind="stable")
    ids = merged.candidates
    head = max(_HEAD, 4 * limit)
    for part in (order[:head], order[head:]):
        places, values, numbers = part.tolist(), negatives[part].tolist(), ids[part].tolist()
        for k, negative, j in zip(places, values, numbers, strict=True):
            if not negative < 0.0:
                return _chosen(best)  # only positive scores are answers; the rest follow
            if len(best) == limit and negative > best[-1][0]:
                return _chosen(best)  # every later one ranks below the chosen, decayed or not
            kind = category(j)
            n = seen.get(kind, 0)
            seen[kind] = n + 1
            key = (negative * diversity**n if n else negative, sku(j), k, j)
            if len(best) < limit:
                insort(best, key)
            elif key < best[-1]:
                best.pop()
                insort(best, key)
    return _chosen(best)


def _chosen(best: list[tuple[float, str, int, int]]) -> list[tuple[int, float, int]]:
    """The ranking's keys as (candidate, score, place in the merged candidates)."""
    return [(j, -negative, k) for negative, _, k, j in best]


_HEAD = 16
"""The candidates :func:`best_of` first reads in score order (at least 4 x its limit):
the ranking seldom reads further, and handing all of a question's few hundred to Python
costs more than the ranking."""
