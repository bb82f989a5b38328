"""The pairing engine's discovery rule (protocol/_reco/_discovery.py): at most
``habit_slots`` of an answer's products are the phone's own while a product it has not
bought scores at least ``discovery`` times the one it would displace. The rule is
compared with a plain loop on small random inputs, the engine's answers with the
plain-loop ranking followed by that loop, and both comparisons catch the planted rule
that ignores the ratio (tests/planted/ratioless_discovery.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import EngineConfig, Item, LocalProtocolError, PairingEngine, PurchaseUpload, Reason
from protocol._reco._answer import Merged
from protocol._reco._discovery import bought_of, discover
from protocol._reco._engine import FEATURES
from tests.builders import PHONES
from tests.planted.ratioless_discovery import RatiolessEngine, ratioless_discover
from tests.protocol.test_engine_properties import CATALOG, HISTORIES, PRODUCTS, baskets
from tests.protocol.test_engine_vectorised import plain_pair

BLOCK = 1 << 40  # a profile's product keys lie below it (protocol/_reco/_answer.py)

Chosen = list[tuple[int, float, int]]


def plain_discover(
    candidates: Sequence[int],
    scores: Sequence[float],
    bought: Sequence[bool],
    sku_ranks: Sequence[int],
    chosen: Chosen,
    *,
    slots: int,
    ratio: float,
) -> Chosen:
    """The rule by a plain loop: own products past *slots* give way, in rank order, to the
    best (score, then SKU) positive non-own candidates not chosen while those score at
    least *ratio* times the displaced one; then ordered by score, ties keeping places."""
    if sum(bought[k] for _, _, k in chosen) <= slots:
        return list(chosen)
    places = {k for _, _, k in chosen}
    waiting = sorted(
        (k for k in range(len(candidates)) if not bought[k] and k not in places and scores[k] > 0),
        key=lambda k: (-scores[k], sku_ranks[candidates[k]]),
    )
    result: Chosen = []
    own = 0
    for j, score, k in chosen:
        if bought[k] and own >= slots and waiting and scores[waiting[0]] >= ratio * score:
            a = waiting.pop(0)
            result.append((candidates[a], scores[a], a))
        else:
            own += bought[k]
            result.append((j, score, k))
    ordered = sorted(range(len(result)), key=lambda n: (-result[n][1], n))
    return [result[n] for n in ordered]


@st.composite
def questions(draw: st.DrawFn) -> tuple[Merged, Chosen, np.ndarray, np.ndarray]:
    """A question's merged candidates, a ranked answer of some of them (scores as the
    diversity decay may leave them: at most their own), who bought which, SKU ranks."""
    size = draw(st.integers(1, 12))
    candidates = np.array(draw(st.permutations(range(16)))[:size], dtype=np.int64)
    # few distinct values: ties in score and between alternatives are common
    values = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    scores = np.array(draw(st.lists(values, min_size=size, max_size=size)))
    bought = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    positive = [k for k in range(size) if scores[k] > 0]
    places = draw(st.permutations(positive))[: draw(st.integers(0, len(positive)))]
    decays = draw(
        st.lists(st.sampled_from([1.0, 0.8, 0.5]), min_size=len(places), max_size=len(places))
    )
    decayed = [(float(scores[k]) * d, k) for k, d in zip(places, decays, strict=True)]
    ranked = sorted(decayed, key=lambda e: -e[0])
    chosen = [(int(candidates[k]), s, k) for s, k in ranked]
    sku_ranks = np.array(draw(st.permutations(range(16))), dtype=np.int64)
    zeros = np.zeros(size)
    return Merged(candidates, zeros, zeros, zeros, scores), chosen, bought, sku_ranks


def keys_of(merged: Merged, bought: np.ndarray) -> np.ndarray:
    """A profile's sorted lookup keys holding the *bought* candidates, a product that is no
    candidate and a category key, as the engine's profiles hold them."""
    products = sorted({*merged.candidates[bought].tolist(), 99})
    return np.array([*products, BLOCK + 1.0], dtype=np.float64)


def _plain_of(
    merged: Merged,
    chosen: Chosen,
    bought: np.ndarray,
    sku_ranks: np.ndarray,
    *,
    slots: int,
    ratio: float,
) -> Chosen:
    candidates, scores = merged.candidates.tolist(), merged.scores.tolist()
    ranks = sku_ranks.tolist()
    return plain_discover(
        candidates, scores, bought.tolist(), ranks, chosen, slots=slots, ratio=ratio
    )


@settings(max_examples=300, deadline=None)
@given(questions(), st.integers(0, 5), st.sampled_from([0.0, 0.5, 0.7, 1.0]))
def test_the_rule_is_the_plain_loop(
    question: tuple[Merged, Chosen, np.ndarray, np.ndarray], slots: int, ratio: float
) -> None:
    merged, chosen, bought, ranks = question
    got = discover(merged, chosen, keys_of(merged, bought), ranks, slots=slots, ratio=ratio)
    assert got == _plain_of(merged, chosen, bought, ranks, slots=slots, ratio=ratio)
    assert len(got) == len(chosen)
    assert len({k for _, _, k in got}) == len(got)  # never one candidate twice


def test_the_plain_comparison_catches_a_rule_without_its_ratio() -> None:
    # own products 0 and 1 (3.0, 2.0), a stranger scoring 0.5: below half of either
    zeros = np.zeros(3)
    merged = Merged(
        np.array([0, 1, 2], dtype=np.int64), zeros, zeros, zeros, np.array([3.0, 2.0, 0.5])
    )
    chosen = [(0, 3.0, 0), (1, 2.0, 1)]
    bought = np.array([True, True, False])
    ranks = np.arange(3, dtype=np.int64)
    expected = _plain_of(merged, chosen, bought, ranks, slots=1, ratio=0.5)
    assert expected == chosen  # the stranger is too weak to displace product 1
    keys = keys_of(merged, bought)
    assert discover(merged, chosen, keys, ranks, slots=1, ratio=0.5) == expected
    assert ratioless_discover(merged, chosen, keys, ranks, slots=1, ratio=0.5) != expected
    # at a ratio it meets, it does displace: the answer is product 0, then the stranger
    assert discover(merged, chosen, keys, ranks, slots=1, ratio=0.25) == [
        (0, 3.0, 0),
        (2, 0.5, 2),
    ]


def test_bought_of_reads_the_product_keys_only() -> None:
    keys = np.array([2.0, 5.0, BLOCK + 1.0, 2 * BLOCK + 3.0])  # products 2, 5; then others
    got = bought_of(np.array([1, 2, 3, 5, 6], dtype=np.int64), keys)
    assert got.tolist() == [False, True, False, True, False]
    assert not bought_of(np.array([1], dtype=np.int64), np.zeros(0)).any()


# ------------------------------------------------------------------ the engine


def plain_answer(
    engine: PairingEngine, items: Sequence[Item], phone: str | None, limit: int
) -> list[tuple[str, float, Reason]]:
    """The engine's answer by plain loops: the plain ranking (no diversity decay, so a
    ranked score is the score) of every positive candidate, its first *limit*, then the
    plain rule over the rest as the alternatives."""
    ranked = plain_pair(engine, items, phone, 10**6)
    slots = engine.config.habit_slots
    profile = engine._profiles.get(phone) if phone is not None else None
    if profile is None or slots is None:
        return ranked[:limit]
    mine = {engine._skus[int(k)] for k in profile.parts[0].tolist() if k < BLOCK}
    skus = [sku for sku, _, _ in ranked]
    scores = [score for _, score, _ in ranked]
    bought = [sku in mine for sku in skus]
    chosen = [(n, scores[n], n) for n in range(min(limit, len(ranked)))]
    # candidates numbered by rank: the SKU order of equal scores is the rank order
    numbers = list(range(len(ranked)))
    found = plain_discover(
        numbers, scores, bought, numbers, chosen, slots=slots, ratio=engine.config.discovery
    )
    return [ranked[n] for n, _, _ in found]


def _engine(
    kind: type[PairingEngine], config: EngineConfig, history: list[PurchaseUpload]
) -> PairingEngine:
    engine = kind(config=config)
    for purchase in history:
        engine.observe(purchase)
    return engine


WEIGHTS = st.lists(st.floats(0.0, 3.0), min_size=len(FEATURES), max_size=len(FEATURES))


@settings(max_examples=80, deadline=None)
@given(
    HISTORIES,
    WEIGHTS,
    st.integers(0, 4),
    st.sampled_from([0.0, 0.3, 0.7, 1.0]),
    st.lists(st.tuples(baskets(), st.sampled_from([None, *PHONES])), max_size=4),
)
def test_answers_are_the_plain_ranking_then_the_plain_rule(
    history: list[PurchaseUpload],
    weights: list[float],
    slots: int,
    ratio: float,
    asked: list[tuple[tuple[Item, ...], str | None]],
) -> None:
    config = EngineConfig(diversity=1.0, habit_slots=slots, discovery=ratio)
    engine = _engine(PairingEngine, config.with_weights(weights), history)
    for items, phone in asked:
        for limit in (1, 3, 5):
            got = [(p.sku, p.score, p.reason) for p in engine.pair(items, phone, limit)]
            assert got == plain_answer(engine, items, phone, limit)


def _upload(receipt: str, phone: str, items: tuple[Item, ...]) -> PurchaseUpload:
    return PurchaseUpload(
        receipt_id=receipt,
        merchant_id="shop-a",
        pos_id="pos-1",
        phone_id=phone,
        items=items,
        purchased_at=0.0,
    )


def _habitual(kind: type[PairingEngine], ratio: float) -> PairingEngine:
    """A phone that bought the first four products together three times; others bought
    the first with the fifth once: habits strong, the stranger weak."""
    own = tuple(CATALOG.to_item(p) for p in PRODUCTS[:4])
    stranger = CATALOG.to_item(PRODUCTS[4])
    history = [_upload(f"r{n}", PHONES[0], own) for n in range(3)]
    history.append(_upload("r9", PHONES[1], (own[0], stranger)))
    config = EngineConfig(diversity=1.0, habit_slots=1, discovery=ratio)
    return _engine(kind, config, history)


def test_a_strong_habit_stays_and_a_close_stranger_comes_in() -> None:
    question = ((CATALOG.to_item(PRODUCTS[0]),), PHONES[0])
    stranger = CATALOG.to_item(PRODUCTS[4]).sku
    strict = _habitual(PairingEngine, 1.0)
    answer = [p.sku for p in strict.pair(*question, 3)]
    assert stranger not in answer  # it scores below the habits: ratio 1 keeps them
    assert answer == [sku for sku, _, _ in plain_answer(strict, *question, 3)]
    loose = _habitual(PairingEngine, 0.0)
    assert stranger in [p.sku for p in loose.pair(*question, 3)]
    with pytest.raises(AssertionError):  # the planted rule lets the weak stranger in
        planted = _habitual(RatiolessEngine, 1.0)
        assert [p.sku for p in planted.pair(*question, 3)] == answer


@pytest.mark.parametrize(
    "field",
    [
        {"habit_slots": -1},
        {"habit_slots": True},  # a bool is never a number (the validator kit's rule)
        {"habit_slots": 2.0},
        {"habit_slots": "2"},
        {"discovery": -0.1},
        {"discovery": 1.5},
        {"discovery": float("nan")},
        {"discovery": float("inf")},
        {"discovery": True},
        {"discovery": None},
    ],
)
def test_a_bad_rule_setting_is_refused_with_the_field_named(field: dict[str, Any]) -> None:
    (name,) = field
    with pytest.raises(LocalProtocolError, match=f"EngineConfig.{name}: "):
        attrs.evolve(EngineConfig(), **field)
    engine = PairingEngine()
    slots, ratio = field.get("habit_slots", 2), field.get("discovery", 0.5)
    with pytest.raises(LocalProtocolError, match=f"EngineConfig.{name}: "):
        engine.set_discovery(slots, ratio)
    assert engine.config.habit_slots is None  # the refused setting left nothing behind


def test_the_rule_is_off_by_default_and_set_discovery_turns_it_off() -> None:
    assert EngineConfig().habit_slots is None
    engine = PairingEngine(config=EngineConfig(habit_slots=2, discovery=0.7))
    engine.set_discovery(None, 0.5)
    assert (engine.config.habit_slots, engine.config.discovery) == (None, 0.5)
    engine.set_discovery(0, 0.0)  # the extremes are settings: every own product may go
    assert (engine.config.habit_slots, engine.config.discovery) == (0, 0.0)
