"""The paired bootstrap of a hit-rate difference, over baskets (numpy).

Two methods answered the same questions; the questions of one basket are not independent
(the same shopper, the same products), so the baskets are resampled, not the questions:
each of ``rounds`` resamples draws as many baskets as there are, with replacement, and
computes ``sum(hits_a - hits_b) / sum(questions)`` over the drawn baskets; the interval
is the 2.5th and 97.5th percentiles of those differences.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

__all__ = ["Difference", "paired_bootstrap"]


@attrs.frozen
class Difference:
    """A hit-rate difference (method a minus method b) with its 95 % interval."""

    value: float
    low: float
    high: float

    @property
    def above_zero(self) -> bool:
        """The whole interval is above zero: a beats b."""
        return self.low > 0.0

    def format(self) -> str:
        return f"{self.value:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def paired_bootstrap(
    hits_a: Sequence[int],
    hits_b: Sequence[int],
    questions: Sequence[int],
    *,
    rounds: int = 1000,
    seed: int = 0,
) -> Difference:
    """The difference of hit-rates a - b over baskets with the given per-basket hits and
    questions, and its paired bootstrap 95 % interval (deterministic for a *seed*)."""
    delta = np.asarray(hits_a, dtype=np.int64) - np.asarray(hits_b, dtype=np.int64)
    asked = np.asarray(questions, dtype=np.int64)
    total = int(asked.sum())
    if total == 0:
        return Difference(0.0, 0.0, 0.0)
    value = float(delta.sum()) / total
    rng = np.random.default_rng(seed)
    size = len(asked)
    found = np.empty(rounds, dtype=np.float64)
    chunk = max(1, 2_000_000 // size)  # a few MB of indices at a time
    for start in range(0, rounds, chunk):
        stop = min(rounds, start + chunk)
        drawn = rng.integers(0, size, size=(stop - start, size))
        found[start:stop] = delta[drawn].sum(axis=1) / np.maximum(asked[drawn].sum(axis=1), 1)
    low, high = np.percentile(found, [2.5, 97.5])
    return Difference(value, float(low), float(high))
