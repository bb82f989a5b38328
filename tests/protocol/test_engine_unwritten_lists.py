"""A refresh leaves the changed products' pairing lists unwritten: they are computed when
first read (``PairingEngine._lists``: every question reads them there) or, for products
not learned again since, at the start of the next refresh; those learned again are
recomputed by that refresh and never computed for the last one (no reader could tell).
Whenever they are computed, the lists and the answers are those of an engine that writes
every list at its refresh: computed from the last refresh's counts, rows, popularity and
offers (the next refresh, and :meth:`PairingEngine.features` when it settles the counts
between two, write them first) and with its configuration.

Catches the planted ``tests/planted/dropped_unwritten_lists.py`` (a refresh that drops
the unwritten lists of products not learned since), ``unwritten_features.py`` (features
settling the counts under unwritten lists), ``reconfigured_lists.py`` (lists written with
the configuration of when they are read) and ``unwritten_table_read.py`` (a question
reading the table without writing the unwritten lists first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, EngineConfig, Item, PairingEngine
from tests.planted.dropped_unwritten_lists import DroppedUnwrittenListsEngine
from tests.planted.reconfigured_lists import ReconfiguredListsEngine
from tests.planted.unwritten_features import UnwrittenFeaturesEngine
from tests.planted.unwritten_table_read import UnwrittenTableReadEngine

PHONES = ("+8613800000001", "+8613800000002")
POOL = tuple(
    Item(
        sku=f"P{k:02d}",
        name=f"product {k}",
        category=f"c{k % 3}",
        brand=f"b{k % 2}",
        colour=("", "black", "red")[k % 3],
        quantity=1,
        price=1.0,
    )
    for k in range(12)
)
A, B, C, D, E, F = POOL[:6]
CONFIG = EngineConfig(refresh_every=2, pairings=4, popularity_weight=0.5, cosine_weight=0.3)

_Step = tuple[str, list[Item], str | None]


def _engine(kind: type[PairingEngine]) -> PairingEngine:
    return kind(catalog=Catalog(()), rules={}, config=CONFIG)


def _apply(engine: PairingEngine, step: _Step, *, write: bool) -> None:
    """One step; with *write*, every list the step's refresh left unwritten is written at
    once (the engine of reference)."""
    action, items, phone = step
    if action == "learn":
        engine.learn(items, phone)
    elif action == "refresh":
        engine.refresh()
    elif action == "features":
        engine.features(items, phone)
    elif action == "reconfigure":  # a configuration changed between two refreshes
        engine.config = attrs.evolve(
            engine.config, confidence_weight=engine.config.confidence_weight + 1.0
        )
    if write:
        engine._write_lists()


def _same(live: PairingEngine, reference: PairingEngine) -> None:
    """The same answers for every product alone and with a phone (asked first: a question
    writes the lists), then the same lists, byte for byte."""
    for item in POOL:
        for phone in (None, PHONES[0]):
            assert live.pair([item], phone, 5) == reference.pair([item], phone, 5)
    assert live.pair(POOL[:4], PHONES[1], 6) == reference.pair(POOL[:4], PHONES[1], 6)
    ours, theirs = live._lists, reference._lists
    for i in range(live.products):
        assert ours[i].tobytes() == theirs[i].tobytes(), f"product {i}'s list"


def _check(kind: type[PairingEngine], steps: list[_Step]) -> None:
    live, reference = _engine(kind), _engine(PairingEngine)
    for step in steps:
        if step[0] == "ask":
            _same(live, reference)
            continue
        _apply(live, step, write=False)
        _apply(reference, step, write=True)
    _same(live, reference)


# A, B, C are bought in the first period (refresh: their lists unwritten), only D, E, F
# in the second: the second refresh writes A's, B's and C's from the first one's model.
NOT_LEARNED_AGAIN: list[_Step] = [
    ("learn", [A, B], PHONES[0]),
    ("learn", [A, C], PHONES[1]),
    ("learn", [D, E], PHONES[0]),
    ("learn", [D, F], None),
]
# After the refresh, one more basket with A and a scorer's features: the counts settled
# (A's count and rows move on) while A's list is still unwritten.
FEATURES_BETWEEN: list[_Step] = [
    ("learn", [A, B], PHONES[0]),
    ("learn", [A, C], PHONES[1]),
    ("learn", [A, B, D], PHONES[0]),
    ("features", [A], PHONES[0]),
]
RECONFIGURED: list[_Step] = [
    ("learn", [A, B], PHONES[0]),
    ("learn", [A, C], PHONES[1]),
    ("reconfigure", [], None),
]


def test_lists_not_learned_again_are_written_by_the_next_refresh() -> None:
    _check(PairingEngine, NOT_LEARNED_AGAIN)
    with pytest.raises(AssertionError):
        _check(DroppedUnwrittenListsEngine, NOT_LEARNED_AGAIN)


def test_features_write_the_unwritten_lists_before_settling() -> None:
    _check(PairingEngine, FEATURES_BETWEEN)
    with pytest.raises(AssertionError):
        _check(UnwrittenFeaturesEngine, FEATURES_BETWEEN)


def test_unwritten_lists_take_their_refresh_configuration() -> None:
    _check(PairingEngine, RECONFIGURED)
    with pytest.raises(AssertionError):
        _check(ReconfiguredListsEngine, RECONFIGURED)


def test_a_question_writes_the_unwritten_lists_before_reading() -> None:
    _check(PairingEngine, NOT_LEARNED_AGAIN)
    with pytest.raises(AssertionError):
        _check(UnwrittenTableReadEngine, NOT_LEARNED_AGAIN)


def test_a_refresh_leaves_lists_unwritten_and_skips_those_learned_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the deferral is real: a refresh computes no list, and a list superseded before it
    # was read is never computed (what makes learning cheaper)
    engine = _engine(PairingEngine)
    computed: list[int] = []
    plain = engine._compute_lists

    def counted(entries: Sequence[tuple[int | None, Item]]) -> tuple[Any, Any]:
        computed.extend(-1 if i is None else i for i, _ in entries)
        return plain(entries)

    monkeypatch.setattr(engine, "_compute_lists", counted)
    engine.learn([A, B], PHONES[0])
    engine.learn([A, C], PHONES[1])  # refresh: A, B, C unwritten
    assert computed == [] and engine._unwritten == [0, 1, 2]
    engine.learn([A, D], PHONES[0])
    engine.learn([E], None)  # refresh: B's and C's written, A's recomputed only now
    assert computed == [1, 2] and engine._unwritten == [0, 3, 4]
    engine.pair([A], None, 3)  # a question writes them
    assert computed == [1, 2, 0, 3, 4] and engine._unwritten == []


BASKET = st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True)
PHONE = st.sampled_from((None, *PHONES))
STEP = st.one_of(
    st.tuples(st.just("learn"), BASKET, PHONE),
    st.tuples(st.just("learn"), BASKET, PHONE),
    st.tuples(st.just("learn"), BASKET, PHONE),
    st.tuples(st.just("refresh"), st.just([]), st.none()),
    st.tuples(st.just("features"), BASKET, PHONE),
    st.tuples(st.just("reconfigure"), st.just([]), st.none()),
    st.tuples(st.just("ask"), st.just([]), st.none()),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(STEP, max_size=30))
def test_unwritten_lists_answer_as_lists_written_at_their_refresh(steps: list[_Step]) -> None:
    _check(PairingEngine, steps)
