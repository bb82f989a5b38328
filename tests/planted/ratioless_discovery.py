"""A pairing engine with a planted bug in its discovery rule: a phone's own product past
the allowed slots is displaced by the best product it has not bought however low that
one scores (the ratio is ignored), so a weak stranger pushes out a strong habit.

``tests/protocol/test_engine_discovery.py`` compares the rule with a plain loop and the
engine's answers with the plain-loop ranking plus that loop, and checks that both
comparisons catch this rule and this engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from protocol import PairingEngine
from protocol._reco._answer import Merged
from protocol._reco._discovery import discover

__all__ = ["RatiolessEngine", "ratioless_discover"]


def ratioless_discover(
    merged: Merged,
    chosen: Sequence[tuple[int, float, int]],
    keys: npt.NDArray[np.float64],
    sku_ranks: npt.NDArray[np.int64],
    *,
    slots: int,
    ratio: float,
    seeded: bool = False,
) -> list[tuple[int, float, int]]:
    """The discovery rule with its ratio dropped (the bug)."""
    return discover(merged, chosen, keys, sku_ranks, slots=slots, ratio=0.0, seeded=seeded)


class RatiolessEngine(PairingEngine):
    """Displaces a phone's own products whatever the alternative scores (the bug)."""

    _discover = staticmethod(ratioless_discover)
