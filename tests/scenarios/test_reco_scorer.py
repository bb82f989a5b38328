"""The pairing engine's scorer fit (scenarios._reco._scorer): a logistic regression on a
validation slice of the training baskets, non-negative weights, deterministic; and the
discovery rule's choice on the same slice, on the Complete Journey excerpt (where no rule
reaches the gain) and on scripted answers where one does (catching the planted
``tests/planted/unchosen_discovery.py``, which never keeps one, and
``tests/planted/seedless_chooser.py``, which never tries a seeded one)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import attrs
import numpy as np
import pytest

from protocol import Catalog, EngineConfig, Item, Pairing, PairingEngine, Reason
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
from tests.builders import catalog_items
from tests.planted.seedless_chooser import seedless_chooser
from tests.planted.unchosen_discovery import unchosen_discovery

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
    config = engine.config
    assert (config.habit_slots, config.discovery, config.discovery_seeded) == fit.discovery
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
    config = engine.config
    assert (config.habit_slots, config.discovery, config.discovery_seeded) == rule
    assert answered(engine, questions) == found
    engine.set_discovery(None, 0.5)
    assert answered(engine, questions) == plain and plain[1] > 0
    if rule[0] is None:
        assert found == plain
    else:
        assert found[0] >= plain[0] and found[1] >= DISCOVERY_GAIN * plain[1]
    assert any(seeded for _, _, seeded in DISCOVERY_CHOICES)  # the seeded rules too
    for choice in DISCOVERY_CHOICES:  # none better: fewer hits, or not more shown
        engine.set_discovery(*choice)
        hits, shown = answered(engine, questions)
        assert hits < plain[0] or shown <= found[1] or shown < DISCOVERY_GAIN * plain[1]


def test_without_validation_questions_the_fit_reports_the_rule_the_engine_keeps() -> None:
    # baskets of one product: no question of 2-10 products to fit or choose a rule by
    dataset = load_dataset("completejourney", DATA)
    singles = [dataset.items(b)[:1] for b in dataset.baskets[:50]]
    shoppers = [
        household_phone_id(b.household) if b.household else None for b in dataset.baskets[:50]
    ]
    config = EngineConfig(habit_slots=2, discovery=0.7, discovery_seeded=True)
    engine = PairingEngine(Catalog(()), {}, config)
    fit = fit_engine(engine, singles, shoppers)
    assert fit.queries == 0 and engine.baskets == 50
    kept = (engine.config.habit_slots, engine.config.discovery, engine.config.discovery_seeded)
    assert fit.discovery == kept == (2, 0.7, True)
    assert "discovery rule as configured (at most 2 own products, 0.7, seeded)" in fit.describe()
    plain = fit_engine(PairingEngine(Catalog(()), {}, EngineConfig()), singles, shoppers)
    assert plain.discovery[0] is None and "configured (none)" in plain.describe()


Rule = tuple[int | None, float, bool]
(ITEM,) = catalog_items("SKIN-FW-001")  # any valid line: only its SKU is changed and read


class _ScriptedEngine:
    """Answers each question (by its number) as scripted for the rule set on it."""

    def __init__(self, script: dict[Rule, list[list[str]]], questions: int) -> None:
        self.script = script
        self.rule: Rule = (None, 0.5, False)
        self.asked = 0
        self.questions = questions

    def set_discovery(self, slots: int | None, ratio: float, seeded: bool = False) -> None:
        self.rule = (slots, ratio, seeded)
        self.asked = 0

    def pair(self, items: Sequence[Item], phone_id: str | None, limit: int) -> list[Pairing]:
        plain = self.script[(None, 0.5, False)]
        skus = self.script.get(self.rule, plain)[self.asked % self.questions]
        self.asked += 1
        return [Pairing(sku, 1.0, Reason.CO_PURCHASE) for sku in skus[:limit]]


def _question(sku: str, other: str) -> tuple[Item, list[Item], str | None]:
    """A question about *sku* from a basket that also holds *other* (only SKUs are read)."""
    item, bought = (attrs.evolve(ITEM, sku=name) for name in (sku, other))
    return item, [item, bought], "p"


def test_the_chooser_keeps_the_rule_showing_most_products_without_losing_hits() -> None:
    # without a rule: one hit of two questions, 3 products shown
    script: dict[Rule, list[list[str]]] = {
        (None, 0.5, False): [["b", "x"], ["y"]],
        (4, 0.7, False): [["b", "n1"], ["y", "n2"]],  # the same hits, 4 shown
        (3, 0.5, False): [["b", "n1", "n2"], ["d", "n3"]],  # more hits, 5 shown
        (3, 0.5, True): [["b", "n1", "n4"], ["d", "n3", "n5"]],  # as many hits, 6: kept
        (2, 0.7, False): [[f"n{k}" for k in range(5)], [f"m{k}" for k in range(5)]],  # no hit
    }
    questions = [_question("a", "b"), _question("c", "d")]
    engine = _ScriptedEngine(script, len(questions))
    rule, figures = choose_discovery(cast(Any, engine), questions)
    assert rule == (3, 0.5, True) == engine.rule  # set on the engine
    assert figures == ((0.5, 3.0), (1.0, 6.0))
    planted = _ScriptedEngine(script, len(questions))
    with pytest.raises(AssertionError):  # the planted chooser never keeps a rule
        assert unchosen_discovery(cast(Any, planted), questions)[0] == rule
    seedless = _ScriptedEngine(script, len(questions))
    with pytest.raises(AssertionError):  # the planted chooser never tries a seeded rule
        assert seedless_chooser(cast(Any, seedless), questions)[0] == rule


def test_the_chooser_keeps_no_rule_under_the_gain() -> None:
    base = [[f"p{4 * q + k}" for k in range(4)] for q in range(10)]  # 40 products shown
    more = [[*answer, "q0"] if q == 0 else answer for q, answer in enumerate(base)]  # 41
    most = [[*answer, f"q{q}"] if q < 5 else answer for q, answer in enumerate(base)]  # 45
    assert 41 / 40 < DISCOVERY_GAIN < 45 / 40
    questions = [_question(f"a{k}", "b") for k in range(10)]
    engine = _ScriptedEngine({(None, 0.5, False): base, (3, 0.5, True): more}, len(questions))
    rule, figures = choose_discovery(cast(Any, engine), questions)
    assert rule == (None, 0.5, False) == engine.rule
    assert figures == ((0.0, 40.0), (0.0, 40.0))
    engine = _ScriptedEngine({(None, 0.5, False): base, (3, 0.5, True): most}, len(questions))
    expected = ((3, 0.5, True), ((0.0, 40.0), (0.0, 45.0)))
    assert choose_discovery(cast(Any, engine), questions) == expected
