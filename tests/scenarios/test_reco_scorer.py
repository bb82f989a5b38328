"""The pairing engine's scorer fit (scenarios._reco._scorer): a logistic regression on a
validation slice of the training baskets, non-negative weights, deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protocol import Catalog, EngineConfig, PairingEngine
from scenarios._model._datasets import household_phone_id, load_dataset
from scenarios._reco._scorer import fit_engine, logistic_weights

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
    again = PairingEngine(Catalog(()), {}, EngineConfig(refresh_every=100))
    assert fit_engine(again, baskets, shoppers) == fit
    phone = shoppers[-1]
    assert again.pair(baskets[-1][:1], phone, 5) == engine.pair(baskets[-1][:1], phone, 5)
