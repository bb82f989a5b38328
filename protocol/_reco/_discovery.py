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

*Seeded* (``seeded=True``): the alternative is not the best-scoring one but, of those
scoring at least ``ratio`` times the displaced product, the first in an order drawn from
the question itself (:func:`question_order`: a hash of the products the question's
candidates could answer, those scoring above 0, and of each product). The best
alternative is the same for every question about the same products, so a slot filled by
it shows the same few products to many shoppers; a seeded choice among the near-ties
varies from one question to another, and the answers together may show more of the
catalogue (coverage is a union over answers). It never depends on earlier questions:
the same question on the same model gets the same answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from ._answer import Merged

__all__ = ["bought_of", "discover", "question_order"]

_Bools = npt.NDArray[np.bool_]
_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.int64]

# splitmix64's constants: each product's place is a well-mixed function of (seed, product)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def question_order(question: _Ints, products: _Ints) -> npt.NDArray[np.uint64]:
    """Each of *products*' sort key in the question whose positive candidates are
    *question* (product numbers, ascending): splitmix64 of the product plus a seed hashed
    (blake2b) from the question, so the same question always orders its products the same
    and another question (almost always) differently; distinct products never tie."""
    digest = hashlib.blake2b(question.astype("<i8").tobytes(), digest_size=8).digest()
    z = products.astype(np.uint64) + np.uint64(int.from_bytes(digest, "little"))
    z = z * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    mixed: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return mixed


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
    seeded: bool = False,
) -> list[tuple[int, float, int]]:
    """*chosen* (candidate, ranked score, place in *merged*, best first) with at most
    *slots* of the phone's products (its profile's sorted lookup *keys*, see
    :func:`bought_of`) kept while a candidate it has not bought scores at least *ratio*
    times the one it displaces (see the module docstring); the alternatives by score, ties
    by SKU (*sku_ranks*: product -> its place in SKU order), as the ranking breaks them,
    or, *seeded*, in the question's own order (:func:`question_order`)."""
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
    if seeded:
        return _seeded(merged, chosen, own, open_, slots=slots, ratio=ratio)
    if len(open_) > len(past):  # at most one per displaced product: the best, and ties
        values = scores[open_]
        least = np.partition(values, len(values) - len(past))[len(values) - len(past)]
        open_ = open_[values >= least]
    alternatives = open_[np.lexsort((sku_ranks[ids[open_]], -scores[open_]))].tolist()
    taken = 0

    def best(floor: float) -> int | None:
        # the alternatives by score: if the next one is below the floor, so are the rest
        nonlocal taken
        if taken < len(alternatives) and scores[alternatives[taken]] >= floor:
            taken += 1
            return int(alternatives[taken - 1])
        return None

    return _displaced(merged, chosen, own, slots=slots, ratio=ratio, alternative=best)


def _seeded(
    merged: Merged,
    chosen: Sequence[tuple[int, float, int]],
    own: Sequence[bool],
    open_: _Ints,
    *,
    slots: int,
    ratio: float,
) -> list[tuple[int, float, int]]:
    """The seeded rule: each own product past the *slots*-th, in rank order, gives its
    place to the first of the *open_* alternatives (places in *merged*), in the question's
    order, not taken yet and scoring at least *ratio* times its ranked score."""
    ids, scores = merged.candidates, merged.scores
    question = np.sort(ids[scores > 0.0])
    order = open_[np.argsort(question_order(question, ids[open_]))].tolist()
    taken: set[int] = set()

    def first(floor: float) -> int | None:
        a = next((a for a in order if a not in taken and scores[a] >= floor), None)
        if a is not None:
            taken.add(a)
        return a

    return _displaced(merged, chosen, own, slots=slots, ratio=ratio, alternative=first)


def _displaced(
    merged: Merged,
    chosen: Sequence[tuple[int, float, int]],
    own: Sequence[bool],
    *,
    slots: int,
    ratio: float,
    alternative: Callable[[float], int | None],
) -> list[tuple[int, float, int]]:
    """*chosen* with each own product past the *slots*-th, in rank order, replaced by
    ``alternative(ratio * its score)`` (a place in *merged*, taken for good) unless that
    is None; then ordered by score (stable: equal scores keep their places). The one loop
    of both rules: they differ only in which alternative comes next."""
    ids, scores = merged.candidates, merged.scores
    result: list[tuple[int, float, int]] = []
    kept = 0
    for (j, score, k), mine in zip(chosen, own, strict=True):
        if mine and kept >= slots:
            a = alternative(ratio * score)
            if a is not None:
                result.append((int(ids[a]), float(scores[a]), a))
                continue
        kept += mine
        result.append((j, score, k))
    result.sort(key=lambda entry: -entry[1])  # stable: equal scores keep their places
    return result
