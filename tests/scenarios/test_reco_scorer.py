"""The pairing engine's scorer fit (scenarios._reco._scorer): a logistic regression on a
validation slice of the training baskets, non-negative weights, deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protocol import Catalog, EngineConfig, PairingEngine
from scenarios._model._datasets import household_phone_id, load_dataset
from scenarios._reco._scorer import (
    DISCOVERY_CHOICES,
    DISCOVERY_GAIN,
    answered,
    choose_discovery,
    fit_engine,
    hit_rate,
    logistic_weights,
    tune_weights,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def test_logistic_weights_keep_the_evidence_and_drop_what_goes_against_it() -> None:
    rng = np.random.default_rng(0)
    rows = rng.random((4000, 4))
    rows[:, 3] = 0.5  # never varies
    # the label follows feature 0 strongly, feature 1 weakly, feature 2 against it
    chance = 1 / (1 + np.exp(-(6 * rows[:, 0] + 2 * rows[:, 1] - 4 * rows[:, 2] - 2)))
    labels = (rng.random(4000) < chance).astype(float)
    weights = logistic_weights(rows, labels)
    assert weights[0] > weights[1] > 0
    assert weights[2] == 0.0 and weights[3] == 0.0
    assert weights[0] == pytest.approx(6, rel=0.3)
    assert logistic_weights(rows, labels) == weights  # deterministic


def test_hit_rate_counts_a_labelled_candidate_among_the_k_best_positive() -> None:
    rows = np.array([[3.0, 0], [2.0, 0], [1.0, 1], [1.0, 0], [0.0, 1], [5.0, 0]])
    labels = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    questions = np.array([0, 0, 0, 1, 1, 2])
    # question 0: the labelled row is third by the first feature
    assert hit_rate(rows, labels, questions, [1.0, 0.0], k=2) == 0.0
    assert hit_rate(rows, labels, questions, [1.0, 0.0], k=3) == pytest.approx(1 / 3)
    # question 1's labelled row scores 0 by the first feature: no answer, not a hit
    assert hit_rate(rows, labels, questions, [0.0, 1.0], k=1) == pytest.approx(2 / 3)
    assert hit_rate(rows, labels, questions, [1.0, 10.0], k=1) == pytest.approx(2 / 3)


def test_tuning_raises_the_validation_hit_rate_or_keeps_the_weights() -> None:
    rng = np.random.default_rng(1)
    questions = np.repeat(np.arange(300), 10)
    rows = rng.random((3000, 2))
    labels = (rows[:, 1] > 0.9).astype(float)  # only the second feature tells
    start = hit_rate(rows, labels, questions, [1.0, 0.1])
    tuned, rate = tune_weights(rows, labels, questions, [1.0, 0.1])
    assert rate > start and rate == hit_rate(rows, labels, questions, tuned)
    assert tuned[1] > 0.1 * tuned[0]  # the second feature gained weight against the first
    best, again = tune_weights(rows, labels, questions, [0.0, 1.0])
    assert best == (0.0, 1.0) and again == hit_rate(rows, labels, questions, [0.0, 1.0])


def test_fit_engine_learns_every_basket_with_weights_from_the_validation_slice() -> None:
    dataset = load_dataset("completejourney", DATA)
    baskets = [dataset.items(b) for b in dataset.baskets]
    shoppers = [household_phone_id(b.household) if b.household else None for b in dataset.baskets]
    engine = PairingEngine(Catalog(()), {}, EngineConfig(refresh_every=100))
    fit = fit_engine(engine, baskets, shoppers)
    assert engine.baskets == len(baskets)
    assert engine.config.weights == fit.weights != EngineConfig().weights
    assert all(w >= 0 for w in fit.weights) and any(fit.weights)
    assert 0 < fit.positives < fit.candidates and fit.queries > 100
    assert "scorer fitted on" in fit.describe() and "recency" in fit.describe()
    assert "discovery" in fit.describe()
    assert (engine.config.habit_slots, engine.config.discovery) == fit.discovery
    assert fit.tuned_hit_rate >= fit.logistic_hit_rate > 0
    again = PairingEngine(Catalog(()), {}, EngineConfig(refresh_every=100))
    assert fit_engine(again, baskets, shoppers) == fit
    phone = shoppers[-1]
    assert again.pair(baskets[-1][:1], phone, 5) == engine.pair(baskets[-1][:1], phone, 5)


def test_the_discovery_rule_chosen_shows_the_most_products_without_losing_hits() -> None:
    dataset = load_dataset("completejourney", DATA)
    baskets = [dataset.items(b) for b in dataset.baskets]
    shoppers = [household_phone_id(b.household) if b.household else None for b in dataset.baskets]
    cut = len(baskets) * 4 // 5
    engine = PairingEngine(Catalog(()), {}, EngineConfig(refresh_every=100))
    for items, shopper in zip(baskets[:cut], shoppers[:cut], strict=True):
        engine.learn(items, shopper)
    engine.refresh()
    questions = [
        (item, basket, shopper)
        for basket, shopper in zip(baskets[cut:], shoppers[cut:], strict=True)
        if 2 <= len(basket) <= 10
        for item in basket
    ]
    rule, (plain, found) = choose_discovery(engine, questions)
    assert (engine.config.habit_slots, engine.config.discovery) == rule
    assert answered(engine, questions) == found
    engine.set_discovery(None, 0.5)
    assert answered(engine, questions) == plain and plain[1] > 0
    if rule[0] is None:
        assert found == plain
    else:
        assert found[0] >= plain[0] and found[1] >= DISCOVERY_GAIN * plain[1]
    for slots, ratio in DISCOVERY_CHOICES:  # none better: fewer hits, or not more shown
        engine.set_discovery(slots, ratio)
        hits, shown = answered(engine, questions)
        assert hits < plain[0] or shown <= found[1] or shown < DISCOVERY_GAIN * plain[1]


def test_without_validation_questions_the_fit_reports_the_rule_the_engine_keeps() -> None:
    # baskets of one product: no question of 2-10 products to fit or choose a rule by
    dataset = load_dataset("completejourney", DATA)
    singles = [dataset.items(b)[:1] for b in dataset.baskets[:50]]
    shoppers = [
        household_phone_id(b.household) if b.household else None for b in dataset.baskets[:50]
    ]
    engine = PairingEngine(Catalog(()), {}, EngineConfig(habit_slots=2, discovery=0.7))
    fit = fit_engine(engine, singles, shoppers)
    assert fit.queries == 0 and engine.baskets == 50
    assert fit.discovery == (engine.config.habit_slots, engine.config.discovery) == (2, 0.7)
    assert "discovery rule as configured (at most 2 own products, 0.7)" in fit.describe()
    plain = fit_engine(PairingEngine(Catalog(()), {}, EngineConfig()), singles, shoppers)
    assert plain.discovery[0] is None and "configured (none)" in plain.describe()
