"""The refresh's cut before sorting a batch of pairing lists with a planted off-by-one,
for ``tests/protocol/test_engine_batching.py`` (against a plain loop) and
``tests/protocol/test_engine_lists.py`` (the lists against the plain loop's), which must
catch it: :func:`protocol._reco._engine._contenders` taking each group's floor one place
too high (its ``best - 1``-th largest total), so a list loses its last candidate."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["short_contenders"]

_Ints = npt.NDArray[np.int64]


def short_contenders(
    owner: _Ints, total: npt.NDArray[np.float64], size: int, best: int
) -> _Ints | None:
    counts = np.bincount(owner, minlength=size)
    width = int(counts.max(initial=0))
    if width <= best or np.isnan(total).any():
        return None
    place = np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]
    grid = np.full(size * width, -np.inf)
    grid[owner * width + place] = total
    at = width - best + 1  # the bug: one place past the best-th largest
    floor = np.partition(grid.reshape(size, width), at, axis=1)[:, at]
    kept: _Ints = np.flatnonzero(total >= floor[owner])
    return kept
