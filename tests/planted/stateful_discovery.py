"""A seeded discovery rule with a planted bug: its order is seeded by the question *and*
by how many questions it has answered, so an answer depends on the questions asked before
it (the way "prefer the products shown less so far" would), which the engine rules out:
an answer is a function of the model of the last refresh and the question alone.

``tests/protocol/test_engine_discovery.py`` compares the seeded rule with a plain loop
and asks an engine the same question twice with others between; both catch this rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

import numpy as np
import numpy.typing as npt

from protocol import PairingEngine
from protocol._reco import _discovery
from protocol._reco._answer import Merged

__all__ = ["StatefulEngine", "stateful_discover"]

_asked = count()
_order = _discovery.question_order


def _counted(
    question: npt.NDArray[np.int64], products: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint64]:
    return _order(np.append(question, next(_asked)), products)  # the bug: a call counter


def stateful_discover(
    merged: Merged,
    chosen: Sequence[tuple[int, float, int]],
    keys: npt.NDArray[np.float64],
    sku_ranks: npt.NDArray[np.int64],
    *,
    slots: int,
    ratio: float,
    seeded: bool = False,
) -> list[tuple[int, float, int]]:
    """The seeded rule with its order seeded by a call counter as well (the bug)."""
    _discovery.question_order = _counted
    try:
        return _discovery.discover(
            merged, chosen, keys, sku_ranks, slots=slots, ratio=ratio, seeded=seeded
        )
    finally:
        _discovery.question_order = _order


class StatefulEngine(PairingEngine):
    """Answers with the stateful seeded rule (the bug)."""

    _discover = staticmethod(stateful_discover)
