"""The refresh's three-key sort with a planted bug, for
``tests/protocol/test_engine_batching.py``, which compares it with ``np.lexsort`` and must
catch it: :func:`protocol._reco._engine._by_keys` packing its keys into one int64 whatever
their bits (as before the lexsort fallback), so a key wider than 63 bits wraps and the
order is wrong. ``_compute_profiles`` bounds none of its keys: about a million phones'
products in one full refresh are that wide.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["overflowing_by_keys"]

_Ints = npt.NDArray[np.int64]


def overflowing_by_keys(first: _Ints, second: npt.NDArray[np.float64], third: _Ints) -> _Ints:
    second = second + 0.0
    places = np.unique(second, return_inverse=True)[1].reshape(-1).astype(np.int64)
    shift_b = int(third.max(initial=0)).bit_length()
    shift_a = shift_b + len(second).bit_length()
    with np.errstate(over="ignore"):  # the bug: no check that the packed key fits
        order: _Ints = np.argsort((first << shift_a) | (places << shift_b) | third)
    return order
