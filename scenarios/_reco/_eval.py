"""Offline evaluation of the pairing engine against baselines, on real baskets.

Protocol of :func:`evaluate` (one run computes every method on the same split):

* **Split**: ``time`` trains on the oldest 80 % of the baskets and tests on the newest
  20 %; ``random`` draws the 20 % at random (seeded), each part kept in time order.
* **Queries**: for each test basket with at least 2 distinct products and each product in
  it, ask for the top ``k`` (5) products given that product alone (and, for the engine
  with habits, the shopper's history up to that basket); a **hit** is a recommended
  product that is elsewhere in the same basket.
* **Figures**: hit-rate@k over all those queries and over the queries of baskets of 2-10
  products; the **complement-aware** hit-rate of 2-10 baskets, counting only hits on
  products outside the 50 best sellers of the training part (so "milk and bananas for
  everything" scores nothing); the share of queries **answered** (at least one product);
  the **coverage**, the share of the training catalogue ever recommended; the seconds to
  fit and to answer.
* **Methods**: the engine (:class:`~protocol.PairingEngine`, learned online from the
  training baskets; during the test it learns each shopper's basket after answering for it,
  habits only, so the co-purchase model stays the trained one), the engine without habits
  (the same model asked without the phone), and the baselines: popularity (the best
  sellers), co-occurrence count (the products most often in the same baskets), cosine
  co-occurrence (count / sqrt(n_i n_j)) and, when ``mlxtend`` is installed (the ``eval``
  extra), mlxtend's fpgrowth with association_rules ranked by confidence.
"""

from __future__ import annotations

import heapq
import importlib
import importlib.util
import math
import operator
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import attrs

from protocol import Catalog, EngineConfig, PairingEngine
from scenarios._model._datasets import Basket, Dataset, gc_paused, household_phone_id
from scenarios._model._errors import ScenarioError

__all__ = [
    "SPLITS",
    "Evaluation",
    "MethodResult",
    "evaluate",
    "fpgrowth_available",
    "split_baskets",
]

SPLITS = ("time", "random")
TRAIN_SHARE = 0.8
BEST_SELLERS = 50
SMALL_BASKET = (2, 10)
FPGROWTH_MIN_SUPPORT = 0.001
FPGROWTH_MIN_BASKETS = 5

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called now and then while an evaluation runs."""


@attrs.frozen
class MethodResult:
    """One method's figures in an :class:`Evaluation`."""

    method: str
    queries: int
    hits: int
    small_queries: int
    small_hits: int
    small_complement_hits: int
    answered: int
    recommended: int
    catalogue: int
    fit_seconds: float
    answer_seconds: float

    @property
    def hit_rate(self) -> float:
        return self.hits / self.queries if self.queries else 0.0

    @property
    def small_hit_rate(self) -> float:
        return self.small_hits / self.small_queries if self.small_queries else 0.0

    @property
    def complement_hit_rate(self) -> float:
        return self.small_complement_hits / self.small_queries if self.small_queries else 0.0

    @property
    def answered_share(self) -> float:
        return self.answered / self.queries if self.queries else 0.0

    @property
    def coverage(self) -> float:
        return self.recommended / self.catalogue if self.catalogue else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready (rates rounded to 4 decimals, seconds to 2)."""
        return {
            "method": self.method,
            "hit_rate": round(self.hit_rate, 4),
            "hit_rate_2_10": round(self.small_hit_rate, 4),
            "complement_hit_rate_2_10": round(self.complement_hit_rate, 4),
            "answered": round(self.answered_share, 4),
            "coverage": round(self.coverage, 4),
            "queries": self.queries,
            "hits": self.hits,
            "queries_2_10": self.small_queries,
            "hits_2_10": self.small_hits,
            "complement_hits_2_10": self.small_complement_hits,
            "recommended_products": self.recommended,
            "catalogue": self.catalogue,
            "fit_seconds": round(self.fit_seconds, 2),
            "answer_seconds": round(self.answer_seconds, 2),
        }


@attrs.frozen
class Evaluation:
    """Every method's figures on one dataset and split."""

    dataset: str
    split: str
    k: int
    train_baskets: int
    test_baskets: int
    results: tuple[MethodResult, ...]
    notes: tuple[str, ...] = ()

    def result(self, method: str) -> MethodResult:
        """The figures of *method* (KeyError if it did not run)."""
        for result in self.results:
            if result.method == method:
                return result
        raise KeyError(method)

    def as_json(self) -> list[dict[str, Any]]:
        """One object per method: its name, the dataset and split, and every figure."""
        return [
            {"dataset": self.dataset, "split": self.split, "k": self.k, **r.as_dict()}
            for r in self.results
        ]

    def format_table(self) -> str:
        """The figures as an aligned text table with a title line."""
        k = self.k
        headers = (
            "method",
            f"hit@{k}",
            f"hit@{k} 2-10",
            f"compl. hit@{k} 2-10",
            "answered",
            "coverage",
            "fit s",
            "answer s",
        )
        rows = [
            (
                r.method,
                f"{r.hit_rate:.3f}",
                f"{r.small_hit_rate:.3f}",
                f"{r.complement_hit_rate:.3f}",
                f"{r.answered_share:.3f}",
                f"{r.coverage:.3f}",
                f"{r.fit_seconds:.1f}",
                f"{r.answer_seconds:.1f}",
            )
            for r in self.results
        ]
        widths = [max(len(row[c]) for row in (headers, *rows)) for c in range(len(headers))]

        def line(row: Sequence[str]) -> str:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            return "  ".join(cells).rstrip()

        first = self.results[0] if self.results else None
        title = (
            f"{self.dataset}, {self.split} split: {self.train_baskets} training baskets, "
            f"{self.test_baskets} test baskets, "
            f"{first.queries if first else 0} queries "
            f"({first.small_queries if first else 0} in baskets of 2-10 products)"
        )
        out = [title, line(headers), "  ".join("-" * w for w in widths)]
        out += [line(row) for row in rows]
        out += [f"note: {note}" for note in self.notes]
        return "\n".join(out)


# ------------------------------------------------------------------ methods


class _Method(Protocol):
    name: str

    def fit(self, train: Sequence[tuple[int, ...]]) -> None: ...

    def recommend(self, product: int, k: int) -> Sequence[int]: ...


class _Popularity:
    name = "popularity"

    def __init__(self, order: Sequence[int]) -> None:
        self._order = order  # product -> rank of its SKU (ties)
        self._best: list[int] = []

    def fit(self, train: Sequence[tuple[int, ...]]) -> None:
        counts = Counter(p for basket in train for p in basket)
        order = self._order
        self._best = sorted(counts, key=lambda p: (-counts[p], order[p]))[:16]

    def recommend(self, product: int, k: int) -> Sequence[int]:
        return [p for p in self._best[: k + 1] if p != product][:k]


class _CoCounts:
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
            if len(self._memo) >= 2:  # the methods sharing it ask one after the other
                self._memo.clear()
            self._memo[product] = found
        return found


class _CoOccurrence:
    """Co-occurrence count or cosine (count / sqrt(n_i n_j)), exact (per-product memo)."""

    def __init__(self, counts: _CoCounts, *, cosine: bool) -> None:
        self.name = "cosine" if cosine else "co-occurrence"
        self._counts = counts
        self._cosine = cosine
        self._inverse_root: list[float] = []
        self._memo: dict[int, list[int]] = {}

    def fit(self, train: Sequence[tuple[int, ...]]) -> None:
        self._counts.fit(train)
        if self._cosine:
            size = max((p for basket in train for p in basket), default=-1) + 1
            roots = [0.0] * size
            for p, rows in self._counts.index.items():
                roots[p] = 1.0 / math.sqrt(len(rows))
            self._inverse_root = roots

    def recommend(self, product: int, k: int) -> Sequence[int]:
        found = self._memo.get(product)
        if found is None:
            found = self._memo[product] = self._top(product, k)
        return found

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


class _FpGrowth:
    """mlxtend's fpgrowth + association_rules (pairs), consequents ranked by confidence."""

    name = "fpgrowth (mlxtend)"

    def __init__(self, order: Sequence[int], min_support: float) -> None:
        self._order = order
        self._min_support = min_support
        self._rules: dict[int, list[int]] = {}

    def fit(self, train: Sequence[tuple[int, ...]]) -> None:
        # The optional eval extra, imported only when this baseline runs (untyped: Any).
        pd: Any = importlib.import_module("pandas")
        patterns: Any = importlib.import_module("mlxtend.frequent_patterns")
        sparse: Any = importlib.import_module("scipy.sparse")
        association_rules, fpgrowth = patterns.association_rules, patterns.fpgrowth

        counts = Counter(p for basket in train for p in basket)
        # At least FPGROWTH_MIN_BASKETS baskets: on a small excerpt every pair would be
        # "frequent" and fpgrowth would enumerate them all.
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
        order = self._order
        found: dict[int, list[tuple[float, int, int]]] = {}
        for antecedents, consequents, confidence in zip(
            rules["antecedents"], rules["consequents"], rules["confidence"], strict=True
        ):
            if len(antecedents) == 1 and len(consequents) == 1:
                (a,) = antecedents
                (c,) = consequents
                found.setdefault(int(a), []).append((float(confidence), -order[int(c)], int(c)))
        self._rules = {a: [c for _, _, c in heapq.nlargest(16, v)] for a, v in found.items()}

    def recommend(self, product: int, k: int) -> Sequence[int]:
        return self._rules.get(product, [])[:k]


def fpgrowth_available() -> bool:
    """True when the optional fpgrowth baseline can run (``pip install 'assocsim[eval]'``)."""
    return all(importlib.util.find_spec(m) is not None for m in ("mlxtend", "pandas", "scipy"))


# ------------------------------------------------------------------ evaluation


@attrs.define
class _Tally:
    name: str
    queries: int = 0
    hits: int = 0
    small_queries: int = 0
    small_hits: int = 0
    small_complement_hits: int = 0
    answered: int = 0
    seen: set[int] = attrs.Factory(set)
    fit_seconds: float = 0.0
    answer_seconds: float = 0.0

    def count(self, answer: Sequence[int], basket: set[int], small: bool, best: set[int]) -> None:
        self.queries += 1
        if answer:
            self.answered += 1
            self.seen.update(answer)
        hit = [p for p in answer if p in basket]
        if hit:
            self.hits += 1
        if small:
            self.small_queries += 1
            if hit:
                self.small_hits += 1
                if any(p not in best for p in hit):
                    self.small_complement_hits += 1

    def result(self, catalogue: int) -> MethodResult:
        return MethodResult(
            method=self.name,
            queries=self.queries,
            hits=self.hits,
            small_queries=self.small_queries,
            small_hits=self.small_hits,
            small_complement_hits=self.small_complement_hits,
            answered=self.answered,
            recommended=len(self.seen),
            catalogue=catalogue,
            fit_seconds=self.fit_seconds,
            answer_seconds=self.answer_seconds,
        )


def split_baskets(
    baskets: Sequence[Basket], split: str, seed: int = 0
) -> tuple[list[Basket], list[Basket]]:
    """(train, test) of *baskets* (oldest first) under *split*, each in time order."""
    cut = int(len(baskets) * TRAIN_SHARE)
    if split == "time":
        return list(baskets[:cut]), list(baskets[cut:])
    if split == "random":
        chosen = list(range(len(baskets)))
        random.Random(seed).shuffle(chosen)
        test = set(chosen[cut:])
        return (
            [b for n, b in enumerate(baskets) if n not in test],
            [b for n, b in enumerate(baskets) if n in test],
        )
    raise ScenarioError(f"unknown split {split!r} (known: {', '.join(SPLITS)})")


def evaluate(
    dataset: Dataset,
    *,
    split: str = "time",
    k: int = 5,
    seed: int = 0,
    config: EngineConfig | None = None,
    fpgrowth: bool | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Every method's figures on *dataset* under *split* (see the module docstring).

    ``fpgrowth=None`` runs the mlxtend baseline when it is installed, ``True`` requires it
    (ImportError otherwise), ``False`` skips it.
    """
    train, test = split_baskets(dataset.baskets, split, seed)
    skus = sorted(dataset.products)
    index = {sku: n for n, sku in enumerate(skus)}
    order = list(range(len(skus)))  # product id -> rank of its SKU: ids are in SKU order
    train_ids = [tuple(index[s] for s in b.skus) for b in train]
    notes: list[str] = []
    co_counts = _CoCounts()
    baselines: list[_Method] = [
        _Popularity(order),
        _CoOccurrence(co_counts, cosine=False),
        _CoOccurrence(co_counts, cosine=True),
    ]
    if fpgrowth_available() if fpgrowth is None else fpgrowth:
        baselines.append(_FpGrowth(order, FPGROWTH_MIN_SUPPORT))
        notes.append(
            f"fpgrowth: min_support {FPGROWTH_MIN_SUPPORT} (at least {FPGROWTH_MIN_BASKETS} "
            "baskets), rules from one product to one product, by confidence"
        )
    elif fpgrowth is None:
        notes.append("fpgrowth baseline skipped: pip install 'assocsim[eval]' for mlxtend")
    notes.append("cosine reuses the co-occurrence counts: its answer time is its ranking only")
    report: Progress = progress if progress is not None else _silent
    with gc_paused():
        engine = PairingEngine(config=config, catalog=Catalog(()), rules={})
        started = time.perf_counter()
        for n, basket in enumerate(train):
            engine.learn(dataset.items(basket), _phone(basket))
            if n % 4096 == 0:
                report("learning", n, len(train))
        fitted = time.perf_counter() - started
        tallies = [_Tally("engine", fit_seconds=fitted)]
        tallies.append(_Tally("engine without habits", fit_seconds=fitted))
        for method in baselines:
            started = time.perf_counter()
            method.fit(train_ids)
            tallies.append(_Tally(method.name, fit_seconds=time.perf_counter() - started))
        _answer(
            dataset,
            engine,
            baselines,
            tallies,
            test=test,
            index=index,
            train_ids=train_ids,
            k=k,
            report=report,
        )
    catalogue = len({p for basket in train_ids for p in basket})
    return Evaluation(
        dataset=dataset.name,
        split=split,
        k=k,
        train_baskets=len(train),
        test_baskets=len(test),
        results=tuple(t.result(catalogue) for t in tallies),
        notes=tuple(notes),
    )


def _answer(
    dataset: Dataset,
    engine: PairingEngine,
    baselines: Sequence[_Method],
    tallies: Sequence[_Tally],
    *,
    test: Sequence[Basket],
    index: dict[str, int],
    train_ids: Sequence[tuple[int, ...]],
    k: int,
    report: Progress,
) -> None:
    """Ask every method about every product of every test basket; tally the answers."""
    counts = Counter(p for basket in train_ids for p in basket)
    best = set(sorted(counts, key=lambda p: (-counts[p], p))[:BEST_SELLERS])
    products = dataset.products
    clock = time.perf_counter
    with_habits, without, *others = tallies
    for n, basket in enumerate(test):
        if n % 256 == 0:
            report("answering", n, len(test))
        ids = [index[s] for s in basket.skus]
        phone = _phone(basket)
        if len(ids) >= 2:
            inside = set(ids)
            small = SMALL_BASKET[0] <= len(ids) <= SMALL_BASKET[1]
            for sku, product in zip(basket.skus, ids, strict=True):
                item = (products[sku],)
                for tally, asker in ((with_habits, phone), (without, None)):
                    started = clock()
                    answer = [index[p.sku] for p in engine.pair(item, asker, k)]
                    tally.answer_seconds += clock() - started
                    tally.count(answer, inside, small, best)
                for method, tally in zip(baselines, others, strict=True):
                    started = clock()
                    answer = list(method.recommend(product, k))
                    tally.answer_seconds += clock() - started
                    tally.count(answer, inside, small, best)
        if phone is not None:  # the shopper's history grows; the co-purchase model stays
            engine.learn(dataset.items(basket), phone, co_purchase=False)
    report("answering", len(test), len(test))


def _silent(stage: str, done: int, total: int) -> None:
    """No progress shown."""


def _phone(basket: Basket) -> str | None:
    return household_phone_id(basket.household) if basket.household else None
