"""Offline evaluation of the pairing engine against baselines, on real baskets.

Protocol of :func:`evaluate` (one run computes every method on the same split):

* **Split**: ``time`` trains on the oldest 80 % of the baskets and tests on the newest
  20 %; ``random`` draws the 20 % at random (seeded), each part kept in time order.
* **Queries**: for each test basket with at least 2 distinct products and each product in
  it, ask for the top ``k`` (5) products given that product alone and the shopper; a
  **hit** is a recommended product that is elsewhere in the same basket.
* **History**: every history-aware method (the engine, personal popularity, count +
  history, TIFU-KNN) knows the shoppers' training baskets. With ``history="train"`` that
  is all it knows; with ``"growing"`` each method also learns each test basket's shopper
  history after answering for it (the engine: habits only, so its co-purchase model stays
  the trained one; the other methods' co-purchase parts stay the training period's too).
* **Figures**: hit-rate@k over all those queries and over the queries of baskets of 2-10
  products; the **complement-aware** hit-rate of 2-10 baskets, counting only hits on
  products outside the 50 best sellers of the training part (so "milk and bananas for
  everything" scores nothing); the share of queries **answered** (at least one product);
  the **coverage**, the share of the training catalogue ever recommended; the seconds to
  fit and to answer; the rise of the process's peak resident memory while the method was
  fitted; and, for every other method, the engine's hit-rate@k on 2-10 baskets minus the
  method's with its paired bootstrap 95 % interval over baskets
  (:func:`~scenarios._reco._bootstrap.paired_bootstrap`).
* **Methods**: the engine (:class:`~protocol.PairingEngine`, learned from the training
  baskets), the engine without habits (the same model asked without the phone), the
  baselines of :mod:`scenarios._reco._baselines` (popularity, co-occurrence count, cosine,
  mlxtend's fpgrowth when installed) and the history-aware ones of
  :mod:`scenarios._reco._personal`.
"""

from __future__ import annotations

import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from protocol import Catalog, EngineConfig, Item, PairingEngine
from scenarios._model._datasets import Basket, Dataset, gc_paused, household_phone_id
from scenarios._model._errors import ScenarioError
from scenarios._reco._baselines import (
    FPGROWTH_MEMORY,
    CoCounts,
    CoOccurrence,
    FpGrowth,
    Method,
    Popularity,
    fpgrowth_available,
    fpgrowth_support,
)
from scenarios._reco._bootstrap import Difference, paired_bootstrap
from scenarios._reco._choices import HISTORIES, SPLITS
from scenarios._reco._personal import CountHistory, PersonalPopularity, TifuKnn
from scenarios._reco._scorer import Fit, fit_engine

__all__ = [
    "HISTORIES",
    "SPLITS",
    "Evaluation",
    "MethodResult",
    "engine_config",
    "evaluate",
    "fpgrowth_available",
    "split_baskets",
]

TRAIN_SHARE = 0.8
BEST_SELLERS = 50
SMALL_BASKET = (2, 10)
EVAL_REFRESH = 1000
"""The engine's ``refresh_every`` while it learns the training baskets (it answers from a
refresh after the last one; the cloud's default, 1, recomputes each basket's lists at
every upload, which costs learning time and changes only how stale a list may be)."""

EVAL_NEIGHBOURS = {"completejourney": 32, "onlineretail": 128}
"""The engine's ``neighbours`` (co-purchase counters kept per product) per dataset, chosen
on the validation slice of the training period (its tuned hit@5): on Online Retail's
many-line wholesale orders 32 drop the counts of real complements (0.524 with 32, 0.538
with 128); on Complete Journey 128 gained nothing (0.404 against 0.406 with 32, both
without the personal feature) and costs learning time. Another dataset gets the engine's
default."""

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
    fit_memory_mb: float = 0.0
    versus_engine: Difference | None = None
    """The engine's hit-rate on 2-10 baskets minus this method's, with its 95 % interval."""

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
        versus = self.versus_engine
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
            "fit_memory_mb": round(self.fit_memory_mb, 1),
            "engine_minus_this_2_10": (
                None
                if versus is None
                else [round(versus.value, 4), round(versus.low, 4), round(versus.high, 4)]
            ),
        }


@attrs.frozen
class Evaluation:
    """Every method's figures on one dataset, split and history."""

    dataset: str
    split: str
    k: int
    train_baskets: int
    test_baskets: int
    results: tuple[MethodResult, ...]
    notes: tuple[str, ...] = ()
    history: str = "train"
    peak_memory_mb: float = 0.0

    def result(self, method: str) -> MethodResult:
        """The figures of *method* (KeyError if it did not run)."""
        for result in self.results:
            if result.method == method:
                return result
        raise KeyError(method)

    def as_json(self) -> list[dict[str, Any]]:
        """One object per method: its name, the dataset, split and history, every figure."""
        return [
            {
                "dataset": self.dataset,
                "split": self.split,
                "history": self.history,
                "k": self.k,
                **r.as_dict(),
            }
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
            "fit MB",
            f"engine - it, hit@{k} 2-10 [95% CI]",
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
                f"{r.fit_memory_mb:.0f}",
                r.versus_engine.format() if r.versus_engine is not None else "",
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
            f"{self.dataset}, {self.split} split, {self.history} history: "
            f"{self.train_baskets} training baskets, {self.test_baskets} test baskets, "
            f"{first.queries if first else 0} queries "
            f"({first.small_queries if first else 0} in baskets of 2-10 products)"
        )
        out = [title, line(headers), "  ".join("-" * w for w in widths)]
        out += [line(row) for row in rows]
        out.append(f"peak memory of the process: {self.peak_memory_mb:.0f} MB")
        out += [f"note: {note}" for note in self.notes]
        return "\n".join(out)


# ------------------------------------------------------------------ the engine as a method


class _Engine:
    """The engine behind the evaluation's method interface; ``habits=False`` asks the
    same model without the phone (and neither fits nor grows it)."""

    def __init__(
        self, engine: PairingEngine, items: Sequence[Item], *, habits: bool, scorer: bool = True
    ) -> None:
        self.name = "engine" if habits else "engine without habits"
        self.engine = engine
        self._items = items  # product id -> its item
        self._ids = {item.sku: n for n, item in enumerate(items)}
        self._habits = habits
        self._scorer = scorer
        self.fitted: Fit | None = None

    def fit(self, train: Sequence[tuple[int, ...]], shoppers: Sequence[str | None]) -> None:
        if not self._habits:
            return  # the model is the engine's
        items = self._items
        baskets = [[items[p] for p in basket] for basket in train]
        if self._scorer:
            self.fitted = fit_engine(self.engine, baskets, shoppers)
            return
        for basket, shopper in zip(baskets, shoppers, strict=True):
            self.engine.learn(basket, shopper)
        self.engine.refresh()

    def recommend(self, product: int, shopper: str | None, k: int) -> Sequence[int]:
        ids = self._ids
        asker = shopper if self._habits else None
        return [ids[p.sku] for p in self.engine.pair((self._items[product],), asker, k)]

    def grow(self, basket: tuple[int, ...], shopper: str | None) -> None:
        if self._habits and shopper is not None:
            items = self._items
            self.engine.learn([items[p] for p in basket], shopper, co_purchase=False)
            self.engine.refresh()  # the shopper's profile alone: cheap


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
    fit_memory_mb: float = 0.0
    basket_hits: list[int] = attrs.Factory(list)  # per 2-10 basket: its questions with a hit

    def count(
        self, answer: Sequence[int], asked: int, basket: set[int], small: bool, best: set[int]
    ) -> None:
        """One question's answer: a hit is a product of the basket other than the one
        asked about (as the scorer's validation counts, ``_scorer.answered``)."""
        self.queries += 1
        if answer:
            self.answered += 1
            self.seen.update(answer)
        hit = [p for p in answer if p in basket and p != asked]
        if hit:
            self.hits += 1
        if small:
            self.small_queries += 1
            if hit:
                self.small_hits += 1
                self.basket_hits[-1] += 1
                if any(p not in best for p in hit):
                    self.small_complement_hits += 1

    def result(self, catalogue: int, versus: Difference | None) -> MethodResult:
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
            fit_memory_mb=self.fit_memory_mb,
            versus_engine=versus,
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


def engine_config(dataset: str) -> EngineConfig:
    """The engine's configuration for *dataset* in the evaluation: ``EVAL_REFRESH`` and
    the dataset's ``EVAL_NEIGHBOURS``; the weights are fitted later."""
    config = EngineConfig(refresh_every=EVAL_REFRESH)
    neighbours = EVAL_NEIGHBOURS.get(dataset)
    return config if neighbours is None else attrs.evolve(config, neighbours=neighbours)


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def evaluate(
    dataset: Dataset,
    *,
    split: str = "time",
    history: str = "train",
    k: int = 5,
    seed: int = 0,
    rounds: int = 1000,
    config: EngineConfig | None = None,
    scorer: bool = True,
    fpgrowth: bool | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Every method's figures on *dataset* under *split* and *history* (see the module
    docstring); *rounds* bootstrap resamples for the intervals. With *scorer* the
    engine's weights are fitted on a validation slice of the training baskets
    (:func:`~scenarios._reco._scorer.fit_engine`); without, *config*'s are used.

    ``fpgrowth=None`` runs the mlxtend baseline when it is installed, ``True`` requires it
    (ImportError otherwise), ``False`` skips it.
    """
    if history not in HISTORIES:
        raise ScenarioError(f"unknown history {history!r} (known: {', '.join(HISTORIES)})")
    train, test = split_baskets(dataset.baskets, split, seed)
    skus = sorted(dataset.products)
    index = {sku: n for n, sku in enumerate(skus)}
    items = [dataset.products[sku] for sku in skus]
    train_ids = [tuple(index[s] for s in b.skus) for b in train]
    shoppers = [_phone(b) for b in train]
    notes: list[str] = []
    if config is None:
        config = engine_config(dataset.name)
    engine = PairingEngine(config=config, catalog=Catalog(()), rules={})
    counts = CoCounts()
    popularity = Popularity()
    reference = _Engine(engine, items, habits=True, scorer=scorer)
    methods: list[Method] = [
        reference,
        _Engine(engine, items, habits=False),
        popularity,
        CoOccurrence(counts, cosine=False),
        CoOccurrence(counts, cosine=True),
        PersonalPopularity(popularity),
        CountHistory(counts, popularity),
        TifuKnn(popularity),
    ]
    if fpgrowth_available() if fpgrowth is None else fpgrowth:
        item_counts = Counter(p for basket in train_ids for p in basket)
        support, kept = fpgrowth_support(item_counts, len(train_ids))
        methods.append(FpGrowth(support))
        notes.append(
            f"fpgrowth: min_support {support:.4g} ({kept} products: the smallest support of at "
            f"least 0.001 whose frequent products fit {FPGROWTH_MEMORY >> 30} GB by the "
            "estimate of fpgrowth_support), rules from one product to one, by confidence"
        )
    elif fpgrowth is None:
        notes.append("fpgrowth baseline skipped: pip install 'assocsim[eval]' for mlxtend")
    notes.append("cosine reuses the co-occurrence counts: its answer time is its ranking only")
    notes.append(
        "fit MB: the rise of the process's peak memory while the method was fitted "
        "(0 when it stayed below an earlier peak; shared counts are charged to the first)"
    )
    report: Progress = progress if progress is not None else _silent
    tallies = [_Tally(method.name) for method in methods]
    with gc_paused():
        for method, tally in zip(methods, tallies, strict=True):
            report(f"fitting {method.name}", 0, 0)
            before = _peak_mb()
            started = time.perf_counter()
            method.fit(train_ids, shoppers)
            tally.fit_seconds = time.perf_counter() - started
            tally.fit_memory_mb = _peak_mb() - before
        tallies[1].fit_seconds = tallies[0].fit_seconds  # one model, fitted once
        if reference.fitted is not None:
            notes.insert(0, f"engine: {reference.fitted.describe()}")
        questions = _answer(
            methods, tallies, test=test, index=index, train_ids=train_ids, k=k,
            grow=history == "growing", report=report,
        )  # fmt: skip
    catalogue = len({p for basket in train_ids for p in basket})
    engine_tally = tallies[0]
    results = []
    for tally in tallies:
        versus = None
        if tally is not engine_tally:
            versus = paired_bootstrap(
                engine_tally.basket_hits, tally.basket_hits, questions, rounds=rounds, seed=seed
            )
        results.append(tally.result(catalogue, versus))
    return Evaluation(
        dataset=dataset.name,
        split=split,
        k=k,
        train_baskets=len(train),
        test_baskets=len(test),
        results=tuple(results),
        notes=tuple(notes),
        history=history,
        peak_memory_mb=_peak_mb(),
    )


def _answer(
    methods: Sequence[Method],
    tallies: Sequence[_Tally],
    *,
    test: Sequence[Basket],
    index: dict[str, int],
    train_ids: Sequence[tuple[int, ...]],
    k: int,
    grow: bool,
    report: Progress,
) -> list[int]:
    """Ask every method about every product of every test basket; tally the answers.
    Returns the questions of each 2-10 basket (the bootstrap's weights)."""
    counts = Counter(p for basket in train_ids for p in basket)
    best = set(sorted(counts, key=lambda p: (-counts[p], p))[:BEST_SELLERS])
    clock = time.perf_counter
    questions: list[int] = []
    pairs = list(zip(methods, tallies, strict=True))
    for n, basket in enumerate(test):
        if n % 256 == 0:
            report("answering", n, len(test))
        ids = tuple(index[s] for s in basket.skus)
        phone = _phone(basket)
        if len(ids) >= 2:
            inside = set(ids)
            small = SMALL_BASKET[0] <= len(ids) <= SMALL_BASKET[1]
            if small:
                questions.append(len(ids))
                for tally in tallies:
                    tally.basket_hits.append(0)
            for method, tally in pairs:
                started = clock()
                answers = [list(method.recommend(product, phone, k)) for product in ids]
                tally.answer_seconds += clock() - started
                for product, answer in zip(ids, answers, strict=True):
                    tally.count(answer, product, inside, small, best)
        if grow:
            for method, tally in pairs:
                started = clock()
                method.grow(ids, phone)
                tally.answer_seconds += clock() - started
    report("answering", len(test), len(test))
    return questions


def _silent(stage: str, done: int, total: int) -> None:
    """No progress shown."""


def _phone(basket: Basket) -> str | None:
    return household_phone_id(basket.household) if basket.household else None
