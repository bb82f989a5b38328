"""The pairing engine's discovery rule (protocol/_reco/_discovery.py): at most
``habit_slots`` of an answer's products are the phone's own while a product it has not
bought scores at least ``discovery`` times the one it would displace. The rule is
compared with a plain loop on small random inputs, the engine's answers with the
plain-loop ranking followed by that loop, and both comparisons catch the planted rule
that ignores the ratio (tests/planted/ratioless_discovery.py). The seeded rule (the
alternative drawn in the question's own order) is compared with a plain loop over a
plain splitmix64, and an engine asked the same question with others between answers the
same; both catch the planted rule seeded by a call counter as well
(tests/planted/stateful_discovery.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, cast

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import EngineConfig, Item, LocalProtocolError, PairingEngine, PurchaseUpload, Reason
from protocol._reco._answer import Merged
from protocol._reco._discovery import bought_of, discover, question_order
from protocol._reco._engine import FEATURES
from tests.builders import PHONES
from tests.planted.ratioless_discovery import RatiolessEngine, ratioless_discover
from tests.planted.stateful_discovery import StatefulEngine, stateful_discover
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


# ------------------------------------------------------------------ the seeded rule

_MASK = (1 << 64) - 1


def plain_order(question: Sequence[int], product: int) -> int:
    """:func:`question_order` by Python integers: splitmix64 of the product plus the
    question's seed (blake2b of its products as little-endian 64-bit integers)."""
    data = b"".join(p.to_bytes(8, "little", signed=True) for p in question)
    seed = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
    z = (product + seed) & _MASK
    z = (z * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def plain_seeded(
    candidates: Sequence[int],
    scores: Sequence[float],
    bought: Sequence[bool],
    chosen: Chosen,
    *,
    slots: int,
    ratio: float,
) -> Chosen:
    """The seeded rule by a plain loop: own products past *slots*, in rank order, each
    give way to the first positive non-own candidate not chosen nor taken, in the
    question's order (seeded by its positive candidates, ascending), that scores at least
    *ratio* times the displaced one; then ordered by score, ties keeping places."""
    if sum(bought[k] for _, _, k in chosen) <= slots:
        return list(chosen)
    question = sorted(c for c, score in zip(candidates, scores, strict=True) if score > 0)
    places = {k for _, _, k in chosen}
    waiting = sorted(
        (k for k in range(len(candidates)) if not bought[k] and k not in places and scores[k] > 0),
        key=lambda k: plain_order(question, candidates[k]),
    )
    result: Chosen = []
    own = 0
    for j, score, k in chosen:
        if bought[k] and own >= slots:
            found = [a for a in waiting if scores[a] >= ratio * score]
            if found:
                waiting.remove(found[0])
                result.append((candidates[found[0]], scores[found[0]], found[0]))
                continue
        own += bought[k]
        result.append((j, score, k))
    ordered = sorted(range(len(result)), key=lambda n: (-result[n][1], n))
    return [result[n] for n in ordered]


def _plain_seeded_of(
    merged: Merged, chosen: Chosen, bought: np.ndarray, *, slots: int, ratio: float
) -> Chosen:
    return plain_seeded(
        merged.candidates.tolist(),
        merged.scores.tolist(),
        bought.tolist(),
        chosen,
        slots=slots,
        ratio=ratio,
    )


@settings(max_examples=300, deadline=None)
@given(questions(), st.integers(0, 5), st.sampled_from([0.0, 0.5, 0.7, 1.0]))
def test_the_seeded_rule_is_the_plain_loop(
    question: tuple[Merged, Chosen, np.ndarray, np.ndarray], slots: int, ratio: float
) -> None:
    merged, chosen, bought, ranks = question
    keys = keys_of(merged, bought)
    got = discover(merged, chosen, keys, ranks, slots=slots, ratio=ratio, seeded=True)
    assert got == _plain_seeded_of(merged, chosen, bought, slots=slots, ratio=ratio)
    assert len(got) == len(chosen)
    assert len({k for _, _, k in got}) == len(got)  # never one candidate twice


@given(st.lists(st.integers(0, 1 << 40), max_size=6, unique=True), st.integers(0, 1 << 40))
def test_the_question_order_is_the_plain_splitmix(question: list[int], product: int) -> None:
    ordered = np.array(sorted(question), dtype=np.int64)
    got = question_order(ordered, np.array([product], dtype=np.int64))
    assert int(got[0]) == plain_order(sorted(question), product)


def _many_strangers() -> tuple[Merged, Chosen, np.ndarray]:
    """Five own products scoring 1 to 0.92, eight strangers scoring 0.9 to 0.55: with one
    slot and ratio 0.5 four own products give way, each to a stranger of the question's
    order."""
    scores = np.array([*[1.0 - 0.02 * n for n in range(5)], *[0.9 - 0.05 * n for n in range(8)]])
    size = len(scores)
    zeros = np.zeros(size)
    merged = Merged(np.arange(size, dtype=np.int64) * 7 + 3, zeros, zeros, zeros, scores)
    chosen = [(int(merged.candidates[k]), float(scores[k]), k) for k in range(5)]
    bought = np.array([True] * 5 + [False] * 8)
    return merged, chosen, bought


def test_the_plain_comparison_catches_a_rule_seeded_by_earlier_questions() -> None:
    merged, chosen, bought = _many_strangers()
    keys = keys_of(merged, bought)
    ranks = np.arange(100, dtype=np.int64)
    expected = _plain_seeded_of(merged, chosen, bought, slots=1, ratio=0.5)
    assert sum(bought[k] for _, _, k in expected) == 1  # four strangers came in
    # not simply the best four: the question's order chose among them
    best = discover(merged, chosen, keys, ranks, slots=1, ratio=0.5)
    assert expected != best
    for _ in range(4):  # asked again and again, the same answer
        assert discover(merged, chosen, keys, ranks, slots=1, ratio=0.5, seeded=True) == expected
    planted = [
        stateful_discover(merged, chosen, keys, ranks, slots=1, ratio=0.5, seeded=True)
        for _ in range(4)
    ]
    assert any(answer != expected for answer in planted)


def _seeded_engine(kind: type[PairingEngine]) -> PairingEngine:
    """One phone with five own products; other phones bought the first of them with nine
    products each once: strangers close enough to displace some own products."""
    own = tuple(CATALOG.to_item(p) for p in PRODUCTS[:5])
    history = [_upload(f"r{n}", PHONES[0], own) for n in range(2)]
    for n, product in enumerate(PRODUCTS[5:14]):
        history.append(_upload(f"s{n}", PHONES[1 + n % 2], (own[0], CATALOG.to_item(product))))
    config = EngineConfig(diversity=1.0, habit_slots=0, discovery=0.0, discovery_seeded=True)
    return _engine(kind, config.with_weights([1.0] * len(FEATURES)), history)


def test_a_seeded_answer_does_not_depend_on_earlier_questions() -> None:
    question = ((CATALOG.to_item(PRODUCTS[0]),), PHONES[0])
    others = [((CATALOG.to_item(p),), PHONES[0]) for p in PRODUCTS[1:5]]
    engine = _seeded_engine(PairingEngine)
    first = engine.pair(*question, 5)
    assert {p.sku for p in first} & {CATALOG.to_item(p).sku for p in PRODUCTS[5:14]}
    for item, phone in others:
        engine.pair(item, phone, 5)
    assert engine.pair(*question, 5) == first
    planted = _seeded_engine(StatefulEngine)
    answers = [planted.pair(*question, 5)]
    for item, phone in others:
        planted.pair(item, phone, 5)
        answers.append(planted.pair(*question, 5))
    assert any(answer != answers[0] for answer in answers)


def test_set_discovery_sets_the_seeded_choice_and_a_bad_one_is_refused() -> None:
    engine = PairingEngine()
    engine.set_discovery(2, 0.5, seeded=True)
    assert engine.config.discovery_seeded
    engine.set_discovery(2, 0.5)
    assert not engine.config.discovery_seeded
    with pytest.raises(LocalProtocolError, match=r"EngineConfig\.discovery_seeded: "):
        EngineConfig(discovery_seeded=cast(Any, 1))
