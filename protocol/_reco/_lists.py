"""Every product's pairing list in one array, written by the refresh in one scatter.

A pairing list holds at most ``pairings`` candidates, so :class:`ListTable` gives each
product one fixed-width row of three lines (candidate numbers, weighted co-purchase and
cosine parts, category parts) and its length: a refresh writes all the lists it computed
by one scatter of flat cell numbers, where an array per list cost a slice, a copy and a
Python assignment per list (some 834,000 lists over a Complete Journey learning run at
``refresh_every`` 1,000). A question reads a list as a view of its row, kept per product
(made anew when a refresh changes the row's length or the array grows, about 0.25 us
each: a question pays a list's indexing, not a view's making, about 0.4 us per basket
product), values and order unchanged.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["NO_LIST", "ListTable"]

_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.int64]
NO_LIST: _Floats = np.zeros((3, 0))
"""A product's list before its first refresh (no row yet), and a question's with no
lists: 3 lines, no candidate."""


class ListTable:
    """Product *i*'s pairing list: ``views[i]``, the view ``cells[i, :, :lengths[i]]``
    (empty until its first refresh). The refresh fits the rows to the products known,
    growing by half (not each learned product: growing costs a copy); the width grows if
    ``pairings`` does (a shorter one keeps the wider rows: lists are never longer
    than it). A view holds only until the next refresh, which rewrites rows in place or
    re-fits them into a new array: nothing may keep one across a refresh (a question
    reads its lists and keeps nothing of them: ``tests/protocol/test_engine_answer_timing.py``)."""

    __slots__ = ("cells", "lengths", "views")

    def __init__(self) -> None:
        self.cells: _Floats = np.zeros((0, 3, 0))
        self.lengths: _Ints = np.zeros(0, dtype=np.int64)
        self.views: list[_Floats] = []

    def __len__(self) -> int:
        """Rows with room (at least every product known at the last fitting; a product
        interned since may be past them)."""
        return len(self.lengths)

    def __getitem__(self, i: int) -> _Floats:
        """Product *i*'s list: a (3, length) view of its row (empty for a product
        learned since the table was last fitted: no list until its first refresh).
        ``PairingEngine._pair`` reads :attr:`views` with this test written inline."""
        views = self.views
        return views[i] if i < len(views) else NO_LIST

    def _view(self, rows: list[int], lengths: list[int]) -> None:
        """Make the views of *rows*, of *lengths* candidates each."""
        cells, views = self.cells, self.views
        for i, n in zip(rows, lengths, strict=True):
            views[i] = cells[i, :, :n]

    def fit(self, rows: int, width: int) -> None:
        """Make room for *rows* rows of *width* candidates (at least), copying the lists."""
        have, wide = self.cells.shape[0], self.cells.shape[2]
        if rows <= have and width <= wide:
            return
        size = have if rows <= have else max(rows, have + have // 2, 64)
        cells = np.zeros((size, 3, max(width, wide)))
        cells[:have, :, :wide] = self.cells
        lengths = np.zeros(size, dtype=np.int64)
        lengths[:have] = self.lengths
        self.cells, self.lengths = cells, lengths
        # the views of the old array made anew
        self.views = [cells[i, :, :n] for i, n in enumerate(lengths.tolist())]

    def store(self, rows: _Ints, ends: _Ints, table: _Floats) -> None:
        """Replace the lists of the products *rows* (distinct): row ``rows[k]``'s list is
        the columns of *table* (3 lines) from ``ends[k - 1]`` (0 for the first) to
        ``ends[k]``, each at most the width long. One scatter of flat cell numbers."""
        counts = np.diff(ends, prepend=0)
        total = int(ends[-1]) if len(ends) else 0
        owner = np.repeat(rows, counts)
        place = np.arange(total) - np.repeat(ends - counts, counts)
        width = self.cells.shape[2]
        # cell (row, line, place) of the flat array: (row * 3 + line) * width + place
        first = owner * (3 * width) + place
        cells = first + np.arange(0, 3 * width, width)[:, None]
        self.cells.reshape(-1)[cells] = table
        # a view shows its row's cells as they are now: only a new length needs a new one
        # (most lists keep theirs, ``pairings`` long)
        resized = rows[self.lengths[rows] != counts]
        self.lengths[rows] = counts
        self._view(resized.tolist(), self.lengths[resized].tolist())
