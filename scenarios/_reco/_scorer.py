"""Fitting the pairing engine's scorer: a logistic regression on a validation slice carved
from the training period (numpy).

:func:`fit_engine` learns the oldest 90 % of the training baskets, asks the engine for the
raw features of every candidate (:meth:`~protocol.PairingEngine.features`) for the
products of the newest 10 %'s baskets of 2-10 products (the evaluation's target figure; at
most :data:`MAX_QUERIES` questions, every n-th, so the fit is deterministic), labels a
candidate 1 when it is elsewhere in the same basket, fits a logistic regression (Newton's
method, a small L2 penalty, standardised features, an intercept the ranking does not
need), keeps the weights non-negative (a feature with a negative weight is dropped and the
rest refitted: every part of the score then adds evidence, and an answer's score stays
positive), then tunes them for what the evaluation measures: a coordinate search (each
weight times 0, 1/4, 1/2, 2 and 4, or, if 0, set to 1/4, 1 or 4 over the feature's spread;
two passes) keeps a change when it raises the hit-rate@5 of the same validation questions
(:func:`hit_rate`). It sets them on the engine, then chooses the engine's discovery rule
(``EngineConfig.habit_slots``, ``discovery`` and ``discovery_seeded``,
:func:`choose_discovery`) on the same
validation questions, and learns the newest 10 %. Nothing of the test period is read.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from protocol import EngineConfig, Item, PairingEngine

FEATURES = EngineConfig.FEATURES

__all__ = [
    "DISCOVERY_CHOICES",
    "DISCOVERY_GAIN",
    "MAX_QUERIES",
    "VALIDATION_SHARE",
    "Fit",
    "Rule",
    "choose_discovery",
    "fit_engine",
    "hit_rate",
    "logistic_weights",
    "tune_weights",
]

VALIDATION_SHARE = 0.1
MAX_QUERIES = 8_000
SMALL = (2, 10)
"""The baskets whose questions the fit asks: those the evaluation's target figure counts."""
_PENALTY = 1e-4
DISCOVERY_CHOICES = tuple(
    (slots, ratio, seeded)
    for slots in (4, 3, 2, 1)
    for ratio in (0.7, 0.5)
    for seeded in (False, True)
)
"""The discovery rules :func:`choose_discovery` tries: (habit_slots, discovery,
discovery_seeded), the least displacing first, the best alternative before the seeded."""
DISCOVERY_GAIN = 1.05
"""A rule is kept only if its answers show at least this many times the products shown
without it: a smaller gain is within what chance moves on a validation slice, and any rule
changes answers (on Online Retail, the only one that kept the hit-rate showed 0.9 % more
products on the validation slice and none more on the test split)."""
K = 5
"""The answer's length the fit measures (the evaluation's k)."""
Rule = tuple[int | None, float, bool]
"""A discovery rule: (habit_slots, discovery, discovery_seeded) of ``EngineConfig``."""


@attrs.frozen
class Fit:
    """What :func:`fit_engine` learned: the weights (in the order of ``FEATURES``) and
    the validation slice's size."""

    weights: tuple[float, ...]
    queries: int
    candidates: int
    positives: int
    logistic_hit_rate: float = 0.0
    """The validation hit-rate@5 of the logistic regression's weights..."""
    tuned_hit_rate: float = 0.0
    """...and of the tuned ones."""
    discovery: Rule = (None, 0.5, False)
    """The engine's discovery rule after the fit, (habit_slots, discovery,
    discovery_seeded): (None, ...) for none; the configured one, kept, when there was no
    validation question to choose by (``queries`` 0)."""
    discovery_figures: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    """The validation (hit@5, products recommended) of the answers without the rule and
    with the one chosen."""

    def describe(self) -> str:
        parts = ", ".join(f"{n} {w:.3g}" for n, w in zip(FEATURES, self.weights, strict=True))
        return (
            f"scorer fitted on {self.queries} validation questions ({self.candidates} "
            f"candidates, {self.positives} in the basket; validation hit@5 "
            f"{self.logistic_hit_rate:.3f} logistic, {self.tuned_hit_rate:.3f} tuned): {parts}; "
            f"{self._discovery()}"
        )

    def _discovery(self) -> str:
        slots, ratio, seeded = self.discovery
        (hit, shown), (rule_hit, rule_shown) = self.discovery_figures
        pick = ", seeded" if seeded else ""
        if not self.queries:  # nothing answered: no figures to print
            kept = "none" if slots is None else f"at most {slots} own products, {ratio:g}{pick}"
            return f"discovery rule as configured ({kept}): no validation question to choose by"
        if slots is None:
            return f"no discovery rule (answered: hit@5 {hit:.3f}, {shown:.0f} products shown)"
        chosen = "one drawn in the question's order" if seeded else "the best"
        return (
            f"discovery rule: at most {slots} of the phone's own products while another "
            f"scores {ratio:g} of the one displaced, {chosen} (answered: hit@5 {hit:.3f} -> "
            f"{rule_hit:.3f}, products shown {shown:.0f} -> {rule_shown:.0f})"
        )


def logistic_weights(
    rows: np.ndarray, labels: np.ndarray, *, iterations: int = 30
) -> tuple[float, ...]:
    """Non-negative weights of a logistic regression of *labels* on *rows* (one
    candidate a row), on the rows' own scale; 0 for a feature that never varies."""
    size = rows.shape[1]
    spread = rows.std(axis=0)
    active = [f for f in range(size) if spread[f] > 0]
    while True:
        found = _newton(rows[:, active] / spread[active], labels, iterations)
        negative = [f for f, w in zip(active, found, strict=True) if w < 0]
        if not negative:
            break
        active = [f for f in active if f not in negative]
    weights = [0.0] * size
    for f, w in zip(active, found, strict=True):
        weights[f] = float(w / spread[f])
    return tuple(weights)


def _newton(x: np.ndarray, y: np.ndarray, iterations: int) -> np.ndarray:
    """Logistic regression with an intercept by Newton's method; the slopes."""
    if x.shape[1] == 0:
        return np.zeros(0)
    design = np.hstack([np.ones((x.shape[0], 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = _PENALTY * x.shape[0] * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (y - p) - penalty @ beta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if float(np.abs(step).max()) < 1e-8:
            break
    slopes: np.ndarray = beta[1:]
    return slopes


def hit_rate(
    rows: np.ndarray,
    labels: np.ndarray,
    questions: np.ndarray,
    weights: Sequence[float],
    k: int = 5,
) -> float:
    """The share of questions with a labelled candidate among their *k* best positive
    scores (ties: the earlier row, i.e. the smaller SKU). *questions* numbers each row's
    question, rows of a question together, numbered from 0."""
    scores = rows @ np.asarray(weights, dtype=np.float64)
    order = np.lexsort((np.arange(len(scores)), -scores, questions))
    asked = questions[order]
    starts = np.searchsorted(asked, asked, side="left")
    chosen = order[(np.arange(len(order)) - starts < k) & (scores[order] > 0)]
    count = int(questions[-1]) + 1 if len(questions) else 0
    hits = np.zeros(count)
    np.add.at(hits, questions[chosen], labels[chosen])
    return float((hits > 0).sum()) / count if count else 0.0


def tune_weights(
    rows: np.ndarray, labels: np.ndarray, questions: np.ndarray, weights: Sequence[float]
) -> tuple[tuple[float, ...], float]:
    """*weights* after the coordinate search of the module docstring, and their hit-rate."""
    best = [float(w) for w in weights]
    found = hit_rate(rows, labels, questions, best)
    spread = rows.std(axis=0)
    for _ in range(2):
        for f in range(len(best)):
            if spread[f] == 0:
                continue
            if best[f]:
                trials = [best[f] * factor for factor in (0.0, 0.25, 0.5, 2.0, 4.0)]
            else:
                trials = [factor / spread[f] for factor in (0.25, 1.0, 4.0)]
            for value in trials:
                trial = [*best[:f], float(value), *best[f + 1 :]]
                rate = hit_rate(rows, labels, questions, trial)
                if rate > found:
                    best, found = trial, rate
    return tuple(best), found


def answered(
    engine: PairingEngine, questions: Sequence[tuple[Item, Sequence[Item], str | None]]
) -> tuple[float, float]:
    """The engine's hit-rate@K on *questions* (a product, its basket, the shopper), asked
    as the evaluation asks, and how many distinct products its answers showed."""
    hits = 0
    shown: set[str] = set()
    for item, basket, shopper in questions:
        inside = {i.sku for i in basket if i.sku != item.sku}
        answer = [p.sku for p in engine.pair((item,), shopper, K)]
        hits += any(sku in inside for sku in answer)
        shown.update(answer)
    return (hits / len(questions) if questions else 0.0), float(len(shown))


def choose_discovery(
    engine: PairingEngine, questions: Sequence[tuple[Item, Sequence[Item], str | None]]
) -> tuple[Rule, tuple[tuple[float, float], tuple[float, float]]]:
    """Of :data:`DISCOVERY_CHOICES`, the rule whose answers to *questions* show the most
    products with a hit-rate@K not below the answers' without any rule (the first such,
    the least displacing, on a tie); none if no rule shows :data:`DISCOVERY_GAIN` times as
    many products as no rule. Sets it on *engine*.
    Returns it and the (hit-rate, products shown) without and with it."""
    engine.set_discovery(None, 0.5)
    plain = answered(engine, questions)
    best: Rule = (None, 0.5, False)
    found = plain
    for rule in DISCOVERY_CHOICES:
        engine.set_discovery(*rule)
        trial = answered(engine, questions)
        if trial[0] >= plain[0] and trial[1] > found[1] and trial[1] >= DISCOVERY_GAIN * plain[1]:
            best, found = rule, trial
    engine.set_discovery(*best)
    return best, (plain, found)


def fit_engine(
    engine: PairingEngine,
    baskets: Sequence[Sequence[Item]],
    shoppers: Sequence[str | None],
) -> Fit:
    """Learn *baskets* (oldest first, each with its shopper) into *engine*, fitting its
    scorer on the newest :data:`VALIDATION_SHARE` of them first (see the module)."""
    cut = int(len(baskets) * (1 - VALIDATION_SHARE))
    for items, shopper in zip(baskets[:cut], shoppers[:cut], strict=True):
        engine.learn(items, shopper)
    asked = [
        (item, basket, shopper)
        for basket, shopper in zip(baskets[cut:], shoppers[cut:], strict=True)
        if SMALL[0] <= len({i.sku for i in basket}) <= SMALL[1]
        for item in basket
    ]
    step = max(1, -(-len(asked) // MAX_QUERIES))
    rows: list[list[float]] = []
    labels: list[float] = []
    numbers: list[int] = []
    for number, (item, basket, shopper) in enumerate(asked[::step]):
        inside = {i.sku for i in basket}
        for sku, features in engine.features((item,), shopper):
            rows.append(features)
            labels.append(1.0 if sku in inside else 0.0)
            numbers.append(number)
    configured = (
        engine.config.habit_slots,
        engine.config.discovery,
        engine.config.discovery_seeded,
    )
    fit = Fit(
        engine.config.weights, len(asked[::step]), len(rows), int(sum(labels)), discovery=configured
    )
    if rows and 0 < fit.positives < len(rows):
        x, y, q = np.asarray(rows), np.asarray(labels), np.asarray(numbers)
        logistic = logistic_weights(x, y)
        if any(logistic):
            tuned, rate = tune_weights(x, y, q, logistic)
            engine.set_weights(tuned)
            fit = attrs.evolve(
                fit,
                weights=tuned,
                logistic_hit_rate=hit_rate(x, y, q, logistic),
                tuned_hit_rate=rate,
            )
    if asked:
        questions = [(item, basket, shopper) for item, basket, shopper in asked[::step]]
        rule, figures = choose_discovery(engine, questions)
        fit = attrs.evolve(fit, discovery=rule, discovery_figures=figures)
    for items, shopper in zip(baskets[cut:], shoppers[cut:], strict=True):
        engine.learn(items, shopper)
    engine.refresh()
    return fit
