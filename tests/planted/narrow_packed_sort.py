"""The refresh's three-key sort with a planted bug, for
``tests/protocol/test_engine_batching.py``, which compares it with ``np.lexsort`` and must
catch it: :func:`protocol._reco._engine._by_keys`'s plain sort of each key packed with
its place, the place's field one bit too narrow, so a place past it runs into the key."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["narrow_packed_by_keys"]

_Ints = npt.NDArray[np.int64]


def narrow_packed_by_keys(first: _Ints, second: npt.NDArray[np.float64], third: _Ints) -> _Ints:
    second = second + 0.0
    places = np.unique(second, return_inverse=True)[1].reshape(-1).astype(np.int64)
    shift_b = int(third.max(initial=0)).bit_length()
    shift_a = shift_b + len(second).bit_length()
    keys = (first << shift_a) | (places << shift_b) | third
    shift = max(len(keys).bit_length() - 1, 0)  # the bug: one bit short for some places
    packed: _Ints = np.sort((keys << shift) | np.arange(len(keys)))
    return packed & ((1 << shift) - 1)
