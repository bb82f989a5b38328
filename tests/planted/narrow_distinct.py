"""Batched grouping helpers of the refresh with planted bugs, for
``tests/protocol/test_engine_batching.py``, which compares them with plain loops and must
catch both:

* ``narrow_distinct``: :func:`protocol._reco._engine._distinct` with its place field one
  bit too narrow, so the places of a long array overlap the values packed above them;
* ``global_places``: :func:`protocol._reco._engine._places` numbering entries across the
  whole array instead of within each group.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["global_places", "narrow_distinct"]

_Ints = npt.NDArray[np.int64]


def narrow_distinct(values: _Ints) -> tuple[_Ints, _Ints]:
    shift = max(len(values).bit_length() - 1, 0)  # the bug: one bit short
    packed = np.sort((values << shift) | np.arange(len(values)))
    ordered = packed >> shift
    new = np.ones(len(values), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.zeros(len(values), dtype=np.int64)
    inverse[(packed & ((1 << shift) - 1)) % max(len(values), 1)] = np.cumsum(new) - 1
    return ordered[new], inverse


def global_places(owner: _Ints, size: int) -> _Ints:
    del size
    return np.arange(len(owner), dtype=np.int64)  # the bug: not restarted per group
