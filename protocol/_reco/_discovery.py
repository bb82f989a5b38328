"""The pairing engine's discovery rule (step 506): an answer is not all the phone's own
products while a candidate it has not bought scores nearly as well.

Fitted on Complete Journey, the scorer fills 95 % of the answer slots with products the
shopper bought before (its habits win the hit-rate), so each shopper is shown the same few
products whatever it asks about, and the answers cover a small part of the catalogue
(``docs/recommender.md``, *Coverage*). :func:`discover` keeps at most ``slots`` of the
phone's own products in an answer: each one past the ``slots``-th (in rank order) gives
its place to the best-scoring candidate the phone has not bought and the answer does not
hold yet, if that one scores at least ``ratio`` times the displaced product's ranked
score; otherwise the own product stays. Answers keep their length; they are then ordered
by score (stable: equal scores keep their places). Pure: a function of the question's
merged candidates, so answers stay a function of the model of the last refresh.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ._answer import Merged

__all__ = ["bought_of", "discover"]

_Bools = npt.NDArray[np.bool_]
_Floats = npt.NDArray[np.float64]


def bought_of(candidates: npt.NDArray[np.int64], keys: _Floats) -> _Bools:
    """Which of *candidates* (product numbers) are among a phone's products: the product
    keys of its profile's sorted lookup *keys* (products first, below every other block)."""
    if not len(keys):
        return np.zeros(len(candidates), dtype=np.bool_)
    at = np.minimum(np.searchsorted(keys, candidates), len(keys) - 1)
    found: _Bools = keys[at] == candidates
    return found


def discover(
    merged: Merged,
    chosen: Sequence[tuple[int, float, int]],
    keys: _Floats,
    sku_ranks: npt.NDArray[np.int64],
    *,
    slots: int,
    ratio: float,
) -> list[tuple[int, float, int]]:
    """*chosen* (candidate, ranked score, place in *merged*, best first) with at most
    *slots* of the phone's products (its profile's sorted lookup *keys*, see
    :func:`bought_of`) kept while a candidate it has not bought scores at least *ratio*
    times the one it displaces (see the module docstring); the alternatives by score, ties
    by SKU (*sku_ranks*: product -> its place in SKU order), as the ranking breaks them."""
    if len(chosen) <= slots:
        return list(chosen)
    ids = merged.candidates
    own = bought_of(np.array([j for j, _, _ in chosen], dtype=np.int64), keys).tolist()
    past = [score for (_, score, _), mine in zip(chosen, own, strict=True) if mine][slots:]
    if not past:
        return list(chosen)  # nothing to displace, no more work
    # a candidate below ratio times the lowest displaced score can displace none, and no
    # more than one per displaced product is taken: only those are sorted
    scores = merged.scores
    wanted = (scores > 0.0) & (scores >= ratio * min(past))
    wanted[[k for _, _, k in chosen]] = False
    open_ = np.flatnonzero(wanted)
    open_ = open_[~bought_of(ids[open_], keys)]
    if len(open_) > len(past):  # at most one per displaced product: the best, and ties
        values = scores[open_]
        least = np.partition(values, len(values) - len(past))[len(values) - len(past)]
        open_ = open_[values >= least]
    alternatives = open_[np.lexsort((sku_ranks[ids[open_]], -scores[open_]))].tolist()
    result: list[tuple[int, float, int]] = []
    kept = 0
    next_alternative = 0
    for (j, score, k), mine in zip(chosen, own, strict=True):
        if mine and kept >= slots and next_alternative < len(alternatives):
            a = alternatives[next_alternative]
            if float(scores[a]) >= ratio * score:
                next_alternative += 1
                result.append((int(ids[a]), float(scores[a]), a))
                continue
        kept += mine
        result.append((j, score, k))
    result.sort(key=lambda entry: -entry[1])  # stable: equal scores keep their places
    return result
