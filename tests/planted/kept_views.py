"""The table of pairing lists with a planted bug in what questions read: the first view
of a row handed to a question is kept and handed out again (a cache of each product's
list, as if a view always showed its row). It does while the refresh rewrites the row in
place at the same length; once a refresh changes the row's length (a view made anew) or
re-fits the table (a new array), the kept view shows the list of an earlier refresh, so
an answer depends on whether the product was asked about before.
``tests/protocol/test_engine_answer_timing.py`` compares an engine asked between
refreshes with one rebuilt from the same uploads and must catch it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from protocol._reco._lists import ListTable

__all__ = ["KeptViewsListTable"]

_Floats = npt.NDArray[np.float64]


class _KeptViews(Sequence[_Floats]):
    """The table's views, each row's first one read kept for good (the bug)."""

    def __init__(self, views: list[_Floats], kept: dict[int, _Floats]) -> None:
        self._views, self._kept = views, kept

    def __len__(self) -> int:
        return len(self._views)

    @overload
    def __getitem__(self, i: int) -> _Floats: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[_Floats]: ...

    def __getitem__(self, i: int | slice) -> _Floats | Sequence[_Floats]:
        if isinstance(i, slice):
            return self._views[i]
        return self._kept.setdefault(i, self._views[i])

    def __setitem__(self, i: int, view: _Floats) -> None:
        self._views[i] = view  # the table's own view made anew; the kept one stays


class KeptViewsListTable(ListTable):
    def __init__(self) -> None:
        self._kept: dict[int, _Floats] = {}
        super().__init__()

    @property  # type: ignore[override]  # the bug: the table's list of views as a property
    def views(self) -> _KeptViews:
        return _KeptViews(self._all, self._kept)

    @views.setter
    def views(self, views: list[_Floats]) -> None:
        self._all = views
