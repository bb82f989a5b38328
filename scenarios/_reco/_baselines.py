"""The evaluation's baselines that know no shopper: popularity, co-occurrence count,
cosine co-occurrence and (with the ``eval`` extra) mlxtend's fpgrowth.

Every method of the evaluation answers the same three calls (:class:`Method`): ``fit`` on
the training baskets (product ids, with each basket's shopper or ``None``), ``recommend``
the top ``k`` products given one product and the shopper, and ``grow`` after a test
basket is answered (the ``growing`` history; these methods ignore it).
"""

from __future__ import annotations

import heapq
import importlib
import importlib.util
import math
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

__all__ = [
    "FPGROWTH_MEMORY",
    "CoCounts",
    "CoOccurrence",
    "FpGrowth",
    "Method",
    "Popularity",
    "fpgrowth_available",
    "fpgrowth_support",
]

FPGROWTH_MIN_SUPPORT = 0.001
FPGROWTH_MIN_BASKETS = 5
FPGROWTH_MEMORY = 2 << 30
"""The peak memory fpgrowth's support is chosen to stay under (bytes)."""
_BYTES_PER_PAIR = 400
"""What one candidate pair costs mlxtend (its itemset row, frozenset, rule row): an
estimate, not a measurement (see :func:`fpgrowth_support`)."""


class Method(Protocol):
    """What the evaluation asks of a method."""

    name: str

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None: ...

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]: ...

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None: ...


class Popularity:
    """The best sellers of the training baskets (ties by id, i.e. by SKU)."""

    name = "popularity"

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.best: list[int] = []

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None:
        if self.best:
            return  # shared by the history-aware baselines: fitted once
        self.counts = Counter(p for basket in train for p in basket)
        counts = self.counts
        self.best = sorted(counts, key=lambda p: (-counts[p], p))[:64]

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]:
        return [p for p in self.best[: k + 1] if p != product][:k]

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None:
        """Nothing: the best sellers are the training period's."""


class CoCounts:
    """Exact co-occurrence counts of the training baskets, per queried product (memo)."""

    def __init__(self) -> None:
        self.baskets: Sequence[tuple[int, ...]] = ()
        self.index: dict[int, list[int]] = {}
        self.fitted = False
        self._memo: dict[int, Counter[int]] = {}

    def fit(self, train: Sequence[tuple[int, ...]]) -> None:
        if self.fitted:
            return
        self.baskets = train
        index: dict[int, list[int]] = {}
        for n, basket in enumerate(train):
            for p in basket:
                index.setdefault(p, []).append(n)
        self.index = index
        self.fitted = True

    def together(self, product: int) -> Counter[int]:
        """Product -> baskets it shared with *product* (the last few are kept)."""
        found = self._memo.get(product)
        if found is None:
            found = Counter()
            baskets = self.baskets
            for n in self.index.get(product, ()):
                found.update(baskets[n])
            found.pop(product, None)
            if len(self._memo) >= 4:  # the methods sharing it ask one after the other
                self._memo.clear()
            self._memo[product] = found
        return found

    def baskets_with(self, product: int) -> int:
        """Training baskets holding *product*."""
        return len(self.index.get(product, ()))


class CoOccurrence:
    """Co-occurrence count or cosine (count / sqrt(n_i n_j)), exact (per-product memo)."""

    def __init__(self, counts: CoCounts, *, cosine: bool) -> None:
        self.name = "cosine" if cosine else "co-occurrence"
        self._counts = counts
        self._cosine = cosine
        self._inverse_root: list[float] = []
        self._memo: dict[int, list[int]] = {}

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None:
        self._counts.fit(train)
        if self._cosine:
            size = max((p for basket in train for p in basket), default=-1) + 1
            roots = [0.0] * size
            for p, rows in self._counts.index.items():
                roots[p] = 1.0 / math.sqrt(len(rows))
            self._inverse_root = roots

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]:
        found = self._memo.get(product)
        if found is None:
            found = self._memo[product] = self._top(product, k)
        return found

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None:
        """Nothing: the counts are the training period's."""

    def _top(self, product: int, k: int) -> list[int]:
        together = self._counts.together(product)
        if not together:
            return []
        keys = list(together)
        # Ties go to the smaller product id, i.e. the smaller SKU (ids are in SKU order).
        negated = [-p for p in keys]
        if self._cosine:
            roots = self._inverse_root
            scores: Iterable[float] = map(
                operator.mul, together.values(), map(roots.__getitem__, keys)
            )
        else:
            scores = together.values()
        return [-p for _, p in heapq.nlargest(k, zip(scores, negated, strict=True))]


def fpgrowth_support(
    counts: Counter[int], baskets: int, budget: int = FPGROWTH_MEMORY
) -> tuple[float, int]:
    """fpgrowth's min support for *baskets* training baskets with item *counts*, and the
    number of products it keeps: the smallest support of at least
    :data:`FPGROWTH_MIN_SUPPORT` (and :data:`FPGROWTH_MIN_BASKETS` baskets) whose
    frequent products ``F`` fit *budget*: a dense boolean frame of ``baskets * F`` bytes
    plus ``F * (F - 1) / 2`` candidate pairs at an estimated 400 bytes each (the bound on
    the pairs fpgrowth can report; the estimate is not measured here)."""
    if baskets <= 0:
        return 1.0, 0
    ordered = sorted(counts.values(), reverse=True)
    floor = max(FPGROWTH_MIN_SUPPORT * baskets, FPGROWTH_MIN_BASKETS)
    keep = sum(1 for c in ordered if c >= floor)
    while keep > 0:
        cost = baskets * keep + keep * (keep - 1) // 2 * _BYTES_PER_PAIR
        if cost <= budget:
            break
        keep = keep * 9 // 10
    if keep == 0:
        return 1.0, 0
    if keep < len(ordered):  # above the count of the first product left out (ties too)
        floor = max(floor, ordered[keep] + 1)
    return floor / baskets, sum(1 for c in ordered if c >= floor)


class FpGrowth:
    """mlxtend's fpgrowth + association_rules (pairs), consequents ranked by confidence."""

    name = "fpgrowth (mlxtend)"

    def __init__(self, min_support: float) -> None:
        self._min_support = min_support
        self._rules: dict[int, list[int]] = {}

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None:
        # The optional eval extra, imported only when this baseline runs (untyped: Any).
        pd: Any = importlib.import_module("pandas")
        patterns: Any = importlib.import_module("mlxtend.frequent_patterns")
        sparse: Any = importlib.import_module("scipy.sparse")
        association_rules, fpgrowth = patterns.association_rules, patterns.fpgrowth

        counts = Counter(p for basket in train for p in basket)
        support = max(self._min_support, FPGROWTH_MIN_BASKETS / max(len(train), 1))
        floor = support * len(train)
        frequent = sorted(p for p, c in counts.items() if c >= floor)
        column = {p: n for n, p in enumerate(frequent)}
        rows: list[int] = []
        cols: list[int] = []
        for r, basket in enumerate(train):
            for p in basket:
                c = column.get(p)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
        matrix = sparse.csr_matrix(
            ([True] * len(rows), (rows, cols)), shape=(len(train), len(frequent)), dtype=bool
        )
        # Dense booleans (one byte a cell, only the frequent products' columns): mlxtend's
        # sparse path is far slower and bigger.
        frame = pd.DataFrame(matrix.toarray(), columns=[str(p) for p in frequent])
        itemsets = fpgrowth(frame, min_support=support, use_colnames=True, max_len=2)
        if len(itemsets) == 0:
            return
        rules = association_rules(itemsets, metric="confidence", min_threshold=0.0)
        found: dict[int, list[tuple[float, int, int]]] = {}
        for antecedents, consequents, confidence in zip(
            rules["antecedents"], rules["consequents"], rules["confidence"], strict=True
        ):
            if len(antecedents) == 1 and len(consequents) == 1:
                (a,) = antecedents
                (c,) = consequents
                found.setdefault(int(a), []).append((float(confidence), -int(c), int(c)))
        self._rules = {a: [c for _, _, c in heapq.nlargest(16, v)] for a, v in found.items()}

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]:
        return self._rules.get(product, [])[:k]

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None:
        """Nothing: the rules are the training period's."""


def fpgrowth_available() -> bool:
    """True when the optional fpgrowth baseline can run (``pip install 'assocsim[eval]'``)."""
    return all(importlib.util.find_spec(m) is not None for m in ("mlxtend", "pandas", "scipy"))
