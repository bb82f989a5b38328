"""The evaluation's history-aware baselines: each knows every shopper's own baskets (the
training period's, or growing through the test with ``--history growing``), the same
history the engine is given.

* **personal popularity**: the shopper's own most frequent products, P_u(j) = share of
  the shopper's baskets holding j; then the best sellers to fill ``k``.
* **count + history** (issue 16's baseline): the top 30 candidates by co-occurrence
  confidence P(j | i) plus the shopper's top 30 by P_u(j), scores summed with weight 1,
  ties by popularity.
* **TIFU-KNN**, after Hu et al., "Modeling Personalized Item Frequency Information for
  Next-basket Recommendation" (SIGIR 2020): a shopper's vector is the time-decayed mean of
  its basket vectors (groups of ``group`` baskets, decay ``basket_decay`` inside a group
  and ``group_decay`` across groups); the answer is ``alpha`` times it plus ``1 - alpha``
  times the mean vector of its ``neighbours`` nearest shoppers (cosine, over the
  ``vocabulary`` best sellers; numpy). The neighbours are found once, on the training
  period; a growing history updates the shopper's own vector only. Its parameters are the
  paper's kind of values, not tuned here.

A shopper the method has no history for gets the best sellers (personal popularity,
TIFU-KNN) or the co-occurrence part alone (count + history).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence

import numpy as np

from scenarios._reco._baselines import CoCounts, Popularity

__all__ = ["CountHistory", "PersonalPopularity", "ShopperHistory", "TifuKnn"]

_KEPT = 64
"""Products kept in a shopper's ranked profile (enough for k plus the asked product)."""


class ShopperHistory:
    """Each shopper's baskets in time order, and its ranked profile P_u(j) (kept until
    the shopper's history grows)."""

    def __init__(self, popularity: Popularity) -> None:
        self.baskets: dict[str, list[tuple[int, ...]]] = {}
        self.counts: dict[str, Counter[int]] = {}
        self._popularity = popularity
        self._profiles: dict[str, list[tuple[int, float]]] = {}

    def add(self, basket: tuple[int, ...], shopper: str | None) -> None:
        if shopper is None:
            return
        self.baskets.setdefault(shopper, []).append(basket)
        self.counts.setdefault(shopper, Counter()).update(set(basket))
        self._profiles.pop(shopper, None)

    def profile(self, shopper: str | None) -> list[tuple[int, float]]:
        """The shopper's best products with P_u(j), best first (ties by popularity, id)."""
        if shopper is None:
            return []
        found = self._profiles.get(shopper)
        if found is None:
            counts = self.counts.get(shopper)
            if not counts:
                return []
            total = len(self.baskets[shopper])
            popular = self._popularity.counts
            best = heapq.nsmallest(_KEPT, counts, key=lambda p: (-counts[p], -popular[p], p))
            found = self._profiles[shopper] = [(p, counts[p] / total) for p in best]
        return found


class PersonalPopularity:
    """The shopper's own most frequent products, then the best sellers."""

    name = "personal popularity"

    def __init__(self, popularity: Popularity) -> None:
        self._popularity = popularity
        self._history = ShopperHistory(popularity)

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None:
        self._popularity.fit(train, shoppers)
        for basket, shopper in zip(train, shoppers, strict=True):
            self._history.add(basket, shopper)

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]:
        chosen = [p for p, _ in self._history.profile(shopper)[: k + 1] if p != product][:k]
        if len(chosen) < k:
            for p in self._popularity.best:
                if p != product and p not in chosen:
                    chosen.append(p)
                    if len(chosen) == k:
                        break
        return chosen

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None:
        self._history.add(basket, shopper)


class CountHistory:
    """Top 30 by confidence P(j | i) plus the shopper's top 30 by P_u(j), summed."""

    name = "count + history"
    CANDIDATES = 30

    def __init__(self, counts: CoCounts, popularity: Popularity) -> None:
        self._counts = counts
        self._popularity = popularity
        self._history = ShopperHistory(popularity)
        self._confidence: dict[int, list[tuple[int, float]]] = {}

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None:
        self._counts.fit(train)
        self._popularity.fit(train, shoppers)
        for basket, shopper in zip(train, shoppers, strict=True):
            self._history.add(basket, shopper)

    def _top_confidence(self, product: int) -> list[tuple[int, float]]:
        found = self._confidence.get(product)
        if found is None:
            together = self._counts.together(product)
            n = self._counts.baskets_with(product)
            popular = self._popularity.counts
            best = heapq.nsmallest(
                self.CANDIDATES, together, key=lambda p: (-together[p], -popular[p], p)
            )
            found = self._confidence[product] = [(p, together[p] / n) for p in best]
        return found

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]:
        scores: dict[int, float] = dict(self._top_confidence(product))
        for p, share in self._history.profile(shopper)[: self.CANDIDATES]:
            scores[p] = scores.get(p, 0.0) + share
        scores.pop(product, None)
        popular = self._popularity.counts
        return heapq.nsmallest(k, scores, key=lambda p: (-scores[p], -popular[p], p))

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None:
        self._history.add(basket, shopper)


class TifuKnn:
    """TIFU-KNN: the shopper's time-decayed item frequencies blended with its neighbours'."""

    name = "TIFU-KNN"

    def __init__(
        self,
        popularity: Popularity,
        *,
        group: int = 7,
        basket_decay: float = 0.9,
        group_decay: float = 0.7,
        neighbours: int = 300,
        alpha: float = 0.7,
        vocabulary: int = 4096,
    ) -> None:
        self._popularity = popularity
        self._group = group
        self._basket_decay = basket_decay
        self._group_decay = group_decay
        self._neighbours = neighbours
        self._alpha = alpha
        self._vocabulary = vocabulary
        self._baskets: dict[str, list[tuple[int, ...]]] = {}
        self._own: dict[str, dict[int, float]] = {}
        self._near: dict[str, dict[int, float]] = {}
        self._answers: dict[str, list[int]] = {}

    def vector(self, baskets: Sequence[tuple[int, ...]]) -> dict[int, float]:
        """The time-decayed mean of *baskets* (oldest first): groups of ``group`` counted
        from the newest, so the oldest group may be short."""
        size = self._group
        first = len(baskets) % size or size
        groups = [baskets[:first]] + [
            baskets[start : start + size] for start in range(first, len(baskets), size)
        ]
        vector: dict[int, float] = {}
        count = len(groups)
        for g, members in enumerate(groups):
            outer = self._group_decay ** (count - 1 - g) / count
            for b, basket in enumerate(members):
                weight = outer * self._basket_decay ** (len(members) - 1 - b) / len(members)
                for p in basket:
                    vector[p] = vector.get(p, 0.0) + weight
        return vector

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None:
        self._popularity.fit(train, shoppers)
        for basket, shopper in zip(train, shoppers, strict=True):
            if shopper is not None:
                self._baskets.setdefault(shopper, []).append(basket)
        names = sorted(self._baskets)
        self._own = {name: self.vector(self._baskets[name]) for name in names}
        if not names:
            return
        counts = self._popularity.counts
        words = sorted(counts, key=lambda p: (-counts[p], p))[: self._vocabulary]
        column = {p: n for n, p in enumerate(words)}
        dense = np.zeros((len(names), len(words)), dtype=np.float64)
        for row, name in enumerate(names):
            for p, value in self._own[name].items():
                c = column.get(p)
                if c is not None:
                    dense[row, c] = value
        norms = np.linalg.norm(dense, axis=1)
        unit = dense / np.where(norms > 0, norms, 1.0)[:, None]
        keep = min(self._neighbours, len(names) - 1)
        if keep <= 0:
            return
        for start in range(0, len(names), 512):
            similar = unit[start : start + 512] @ unit.T
            for offset in range(similar.shape[0]):
                similar[offset, start + offset] = -np.inf  # never one's own neighbour
            # The `keep` most similar, ties by row (a stable sort of the negated values).
            chosen = np.argsort(-similar, axis=1, kind="stable")[:, :keep]
            weights = np.zeros_like(similar)
            np.put_along_axis(weights, chosen, 1.0 / keep, axis=1)
            means = weights @ dense  # each row: the mean vector of its neighbours
            # Only each shopper's 2 * _KEPT strongest: none of the rest can rank in its
            # best _KEPT, since the own part only adds (scores are non-negative).
            top = np.argsort(-means, axis=1, kind="stable")[:, : 2 * _KEPT]
            for offset, columns in enumerate(top):
                row = means[offset]
                self._near[names[start + offset]] = {
                    words[c]: float(row[c]) for c in columns if row[c] > 0
                }

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]:
        if shopper is None or shopper not in self._own:
            return [p for p in self._popularity.best[: k + 1] if p != product][:k]
        found = self._answers.get(shopper)
        if found is None:
            alpha = self._alpha
            scores = {p: alpha * v for p, v in self._own[shopper].items()}
            for p, v in self._near.get(shopper, {}).items():
                scores[p] = scores.get(p, 0.0) + (1 - alpha) * v
            found = self._answers[shopper] = heapq.nsmallest(
                _KEPT, scores, key=lambda p: (-scores[p], p)
            )
        return [p for p in found[: k + 1] if p != product][:k]

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None:
        if shopper is None:
            return
        baskets = self._baskets.setdefault(shopper, [])
        baskets.append(basket)
        self._own[shopper] = self.vector(baskets)
        self._answers.pop(shopper, None)
