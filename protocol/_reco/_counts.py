"""Co-purchase counters learned in batches (step 507): rows bounded at the refresh.

:class:`PairCounts` keeps, per row (a product, or a category), how many baskets it shared
with each of its strongest neighbours. Learning a basket only records its ids; the
refresh (:meth:`PairCounts.flush`) counts the pairs of every basket recorded since the
last one with array operations (one pair key ``owner << bits | neighbour`` per ordered
pair, counted by one sort), adds them to the stored rows of the owners they touch, and
then bounds each of those rows to its ``keep`` largest counters, ties to the smaller
neighbour number. A row therefore holds exact counts of one refresh period on top of what
survived the previous bounds: which counters survive depends on where the refreshes fall
(every ``refresh_every`` learned baskets, so a replay in stored order bounds the same), not
on when anything is read. :meth:`PairCounts.row` reads the counts as of now (the stored
row plus the pairs recorded since the last flush, unbounded), and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from protocol._core._errors import LocalProtocolError

__all__ = ["PairCounts"]

_Ints = npt.NDArray[np.int64]
_KEY_BITS = 63
"""The bits of a packed key (a non-negative int64)."""
_MOST_COUNT = int(np.iinfo(np.int32).max)
"""The largest count a stored counter holds (int32)."""


def _fits(bits: int) -> None:
    """Raise if a packed key of *bits* bits does not fit an int64."""
    if bits > _KEY_BITS:
        raise LocalProtocolError(
            f"PairingEngine: a co-purchase sort key needs {bits} bits, more than "
            f"{_KEY_BITS}: too many products or counts for one engine (split the catalog)"
        )


def _starts(ordered: _Ints) -> _Ints:
    """Where each run of equal values of *ordered* (not empty) begins."""
    return np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))


def _summed(keys: _Ints, counts: _Ints, bits: int, most: int) -> tuple[_Ints, _Ints]:
    """The distinct *keys* (below ``2 ** bits``) in order and the sum of the *counts* of
    each (no sum above *most*). One sort of (key, count) packed in one int64."""
    shift = most.bit_length()
    _fits(bits + shift)
    packed = np.sort((keys << shift) | counts)
    keys = packed >> shift
    starts = _starts(keys)
    summed: _Ints = np.add.reduceat(packed & ((1 << shift) - 1), starts)
    return keys[starts], summed


class PairCounts:
    """Rows of co-purchase counters, learned a basket at a time and bounded at each
    :meth:`flush` to the *keep* largest counters of every row that changed.

    A basket of more than *partners* + 1 ids pairs each with about *partners* of the
    others: ``i`` and ``j`` are partners when ``hash_of(i) + hash_of(j)`` is 0 modulo
    the number of groups (symmetric, independent of the order of the basket).
    """

    __slots__ = (
        "_counts",
        "_flat",
        "_hash_of",
        "_lengths",
        "_neighbours",
        "_pairs",
        "_pending",
        "_sizes",
        "keep",
        "partners",
    )

    def __init__(self, keep: int, partners: int, hash_of: Callable[[int], int]) -> None:
        self.keep = keep
        self.partners = partners
        self._hash_of = hash_of
        # row -> its neighbours and the baskets shared with each (int32: half the memory)
        self._neighbours = np.zeros((0, keep), dtype=np.int32)
        self._counts = np.zeros((0, keep), dtype=np.int32)
        self._lengths = np.zeros(0, dtype=np.int64)  # row -> counters in use
        self._flat: list[int] = []  # the ids of the baskets recorded since the last flush
        self._sizes: list[int] = []  # and how many each basket has
        self._pairs: list[int] = []  # explicit (owner, neighbour) pairs, flattened
        self._pending: tuple[_Ints, _Ints, int] | None = None  # their counted pairs

    # -------------------------------------------------------------- recording

    def add(self, ids: Sequence[int]) -> None:
        """Record one basket of distinct *ids*: each pair of them (or of partners, in a
        big basket) counts once in each of the two rows at the next flush."""
        if len(ids) < 2:
            return
        self._pending = None
        if len(ids) - 1 <= self.partners:
            self._flat.extend(ids)
            self._sizes.append(len(ids))
            return
        groups = -(-(len(ids) - 1) // self.partners)
        hashes = [self._hash_of(i) for i in ids]
        by_group: list[list[int]] = [[] for _ in range(groups)]
        for i, h in zip(ids, hashes, strict=True):
            by_group[h % groups].append(i)
        pairs = self._pairs
        for i, h in zip(ids, hashes, strict=True):
            for j in by_group[-h % groups]:
                if j != i:
                    pairs += (i, j)

    def add_baskets(self, flat: _Ints, sizes: _Ints) -> None:
        """Record many baskets as :meth:`add` records each: their distinct ids end to end
        in *flat*, *sizes* of them each. Those of at most ``partners`` + 1 ids are
        appended at once (the flush pairs them), bigger ones one by one."""
        small = sizes - 1 <= self.partners
        if not small.all():
            ends = np.cumsum(sizes).tolist()
            for k in np.flatnonzero(~small).tolist():
                self.add(flat[ends[k] - int(sizes[k]) : ends[k]].tolist())
        small &= sizes >= 2  # a basket of one id has no pair
        if small.any():
            self._pending = None
            self._flat += flat[np.repeat(small, sizes)].tolist()
            self._sizes += sizes[small].tolist()

    def add_selves(self, ids: _Ints) -> None:
        """Count one basket in row *i* under *i* itself for each of *ids* (a category
        bought twice in a basket: once per such basket)."""
        if len(ids):
            self._pending = None
            self._pairs += np.repeat(ids, 2).tolist()

    # -------------------------------------------------------------- the pending pairs

    def _counted(self) -> tuple[_Ints, _Ints, int]:
        """Every pair recorded since the last flush, counted: the distinct keys (``owner
        << bits | neighbour``, in order), their counts, and *bits*. Kept until the next
        basket is recorded (for :meth:`row`)."""
        if self._pending is None:
            keys, counts, bits = self._period()
            self._pending = (*_summed(keys, counts, 2 * bits, int(counts.sum())), bits)
        return self._pending

    def _period(self) -> tuple[_Ints, _Ints, int]:
        """Every pair recorded since the last flush, not counted yet: one key (``owner <<
        bits | neighbour``) per pair and basket, in no order, each with a count of 1; and
        *bits*."""
        flat = np.array(self._flat, dtype=np.int64)
        sizes = np.array(self._sizes, dtype=np.int64)
        # each id paired with the ids after it in its basket, then both ways round (half
        # the pairs to build)
        place = np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        after = np.repeat(sizes, sizes) - 1 - place
        first = np.repeat(np.arange(len(flat)), after)
        ends = np.cumsum(after)
        offsets = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - after, after)
        explicit = np.array(self._pairs, dtype=np.int64).reshape(-1, 2)
        top = max(int(flat.max(initial=0)), int(explicit.max(initial=0)), len(self._lengths))
        bits = top.bit_length()
        _fits(2 * bits)
        left, right = flat[first], flat[first + 1 + offsets]
        keys = np.concatenate(
            (
                (left << bits) | right,
                (right << bits) | left,
                (explicit[:, 0] << bits) | explicit[:, 1],
            )
        )
        return keys, np.ones(len(keys), dtype=np.int64), bits

    # -------------------------------------------------------------- the flush (refresh)

    def flush(self) -> None:
        """Add the pairs recorded since the last flush to their rows and bound each row
        they touched to its ``keep`` largest counters (ties: the smaller neighbour)."""
        if not self._flat and not self._pairs:
            return
        keys, counts, bits = self._period()
        # the rows touched: every id of a recorded basket (fewer than its pairs to sort),
        # each once, by a sort (numpy 2's np.unique hashes: 10-15x slower at these sizes)
        touched = np.sort(np.array(self._flat + self._pairs[::2], dtype=np.int64))
        touched = touched[_starts(touched)]
        self._flat, self._sizes, self._pairs, self._pending = [], [], [], None
        self._grow(int(touched[-1]) + 1)
        lengths = self._lengths[touched]
        cells = self._cells(touched, lengths)
        stored = (np.repeat(touched, lengths) << bits) | self._neighbours.reshape(-1)[cells]
        old = self._counts.reshape(-1)[cells].astype(np.int64)
        # one sort merges the stored counters with the period's pairs and counts those
        keys, counts = _summed(
            np.concatenate((stored, keys)),
            np.concatenate((old, counts)),
            2 * bits,
            int(old.max(initial=0)) + int(counts.sum()),
        )
        # each row's counters by count (largest first), then neighbour: one sort of one
        # packed key (owner, largest count - count, neighbour)
        most = int(counts.max())
        if most > _MOST_COUNT:  # refused, never wrapped round to a negative count
            raise LocalProtocolError(
                f"PairingEngine: a co-purchase count reached {most}, more than a stored "
                f"counter holds ({_MOST_COUNT}): too many baskets for one engine"
            )
        shift = most.bit_length()
        _fits(2 * bits + shift)
        low = (1 << bits) - 1
        ranked = np.sort(
            ((keys >> bits) << (shift + bits)) | ((most - counts) << bits) | (keys & low)
        )
        owners = ranked >> (shift + bits)
        starts = _starts(owners)
        place = np.arange(len(owners)) - np.repeat(starts, np.diff(starts, append=len(owners)))
        kept = place < self.keep
        ranked, owners, place = ranked[kept], owners[kept], place[kept]
        # by flat cell numbers: a 1-D scatter costs a fraction of a 2-D fancy one
        cells = owners * self.keep + place
        self._neighbours.reshape(-1)[cells] = ranked & low
        self._counts.reshape(-1)[cells] = most - ((ranked >> bits) & ((1 << shift) - 1))
        self._lengths[touched] = np.bincount(owners, minlength=len(self._lengths))[touched]

    def _cells(self, rows: _Ints, lengths: _Ints) -> _Ints:
        """The flat cell numbers (in ``reshape(-1)`` of the row arrays) of the first
        *lengths* counters of each of *rows*, row after row: one 1-D gather instead of
        copying whole rows and masking them."""
        starts = np.repeat(rows * self.keep - (np.cumsum(lengths) - lengths), lengths)
        cells: _Ints = starts + np.arange(int(lengths.sum()))
        return cells

    def _grow(self, rows: int) -> None:
        """Make room for *rows* rows (at least), doubling."""
        have = len(self._lengths)
        if rows <= have:
            return
        size = max(rows, have + have // 2, 64)
        for name in ("_neighbours", "_counts"):
            old = getattr(self, name)
            new = np.zeros((size, self.keep), dtype=np.int32)
            new[:have] = old
            setattr(self, name, new)
        lengths = np.zeros(size, dtype=np.int64)
        lengths[:have] = self._lengths
        self._lengths = lengths

    # -------------------------------------------------------------- reading

    def rows(self, ids: _Ints) -> tuple[_Ints, _Ints, _Ints]:
        """The stored counters of the rows *ids* (as of the last flush), flattened: each
        one's place in *ids*, its neighbour and its count."""
        known = ids[ids < len(self._lengths)]
        places = np.flatnonzero(ids < len(self._lengths))
        lengths = self._lengths[known]
        cells = self._cells(known, lengths)
        return (
            np.repeat(places, lengths),
            self._neighbours.reshape(-1)[cells].astype(np.int64),
            self._counts.reshape(-1)[cells].astype(np.int64),
        )

    def row(self, i: int) -> dict[int, int]:
        """Row *i*'s counts as of now: its stored counters plus the pairs recorded since
        the last flush (not bounded until the next flush)."""
        found: dict[int, int] = {}
        if i < len(self._lengths):
            length = int(self._lengths[i])
            found = dict(
                zip(
                    self._neighbours[i, :length].tolist(),
                    self._counts[i, :length].tolist(),
                    strict=True,
                )
            )
        if self._flat or self._pairs:
            keys, counts, bits = self._counted()
            a, b = np.searchsorted(keys, [i << bits, (i + 1) << bits]).tolist()
            mask = (1 << bits) - 1
            for key, count in zip(keys[a:b].tolist(), counts[a:b].tolist(), strict=True):
                j = key & mask
                found[j] = found.get(j, 0) + count
        return found

    def __len__(self) -> int:
        """Rows with room (at least every row flushed)."""
        return len(self._lengths)
