"""The pairing engine's answers in cases the generated questions seldom or never make
(protocol/_reco/_answer.py, PairingEngine._pair): a basket product that is also the
phone's best product, its own co-purchase (a personal part added to the -inf its listing
starts from) and in another basket product's list; the same product twice in a basket;
a basket product learned after the last refresh, past the work arrays' rows (no
candidate: the planted tests/planted/unfiltered_basket.py lists it and raises); and a
question that raises partway through the merge, after which every work cell it wrote is
back at rest (the planted tests/planted/unrestored_merge.py, without the reset, is caught).
Also merge's sums bit for bit against a loop from 0.0 with -0.0, 0.0, -inf and +inf
parts: "adding 0.0 changes no bit of a sum begun at 0.0" holds, since such a sum is never
-0.0 (the planted tests/planted/negative_zero_rest.py, sums begun at -0.0, is caught)."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import EngineConfig, Item, PairingEngine, PurchaseUpload
from protocol._reco._answer import BLOCK, Scratch, merge
from protocol._reco._engine import FEATURES
from tests.planted.answered_basket import AnsweredBasketEngine
from tests.planted.negative_zero_rest import NegativeZeroScratch
from tests.planted.unfiltered_basket import UnfilteredBasketEngine
from tests.planted.unrestored_merge import unrestored_merge
from tests.protocol.test_engine_answer import at_rest, item, same_as_plain
from tests.protocol.test_engine_properties import CATALOG, PRODUCTS

PHONE = "+8613800000001"
FIRST, SECOND, THIRD = (CATALOG.to_item(p) for p in PRODUCTS[:3])


def _engine(kind: type[PairingEngine] = PairingEngine) -> PairingEngine:
    """A phone that bought FIRST with SECOND three times and FIRST with THIRD once: FIRST
    and SECOND are its best products, its own co-purchases of each other and in each
    other's lists. Every feature weighted 1."""
    baskets = [(FIRST, SECOND)] * 3 + [(FIRST, THIRD)]
    config = EngineConfig(refresh_every=1, diversity=0.7).with_weights([1.0] * len(FEATURES))
    engine = kind(config=config)
    for n, items in enumerate(baskets):
        engine.observe(
            PurchaseUpload(
                receipt_id=f"r-{n}",
                merchant_id="shop-1",
                pos_id="pos-1",
                phone_id=PHONE,
                items=items,
                purchased_at=0.0,
            )
        )
    return engine


QUESTIONS: list[tuple[tuple[Item, ...], str | None]] = [
    ((FIRST, SECOND), PHONE),
    ((FIRST, FIRST, SECOND), PHONE),  # the same product twice
    ((SECOND, FIRST, SECOND), None),
    ((FIRST,), PHONE),
]


def test_the_case_is_reached() -> None:
    engine = _engine()
    first, second = engine._ids[FIRST.sku], engine._ids[SECOND.sku]
    profile = engine._profiles[PHONE]
    assert {first, second} <= set(profile.top[0].astype(int).tolist())  # its best products
    assert {first, second} <= set(profile.together[0].tolist())  # its own co-purchases
    assert second in engine._lists[first][0].astype(int).tolist()  # in each other's list
    assert first in engine._lists[second][0].astype(int).tolist()


def test_a_basket_product_is_never_answered_whatever_else_lists_it() -> None:
    engine = _engine()
    same_as_plain(engine, QUESTIONS)  # the plain loop deletes the basket's products
    for items, phone in QUESTIONS:
        asked = {item.sku for item in items}
        answered = {p.sku for p in engine.pair(items, phone, 30)}
        assert answered and not answered & asked


def test_the_check_catches_a_basket_product_answered() -> None:
    with pytest.raises(AssertionError):  # planted: listed with 0.0 instead of -inf
        same_as_plain(_engine(AnsweredBasketEngine), QUESTIONS)


def _rests_after_a_raise(merged: Callable[..., Any]) -> bool:
    """A merge that raises after it summed the lists' parts and wrote the personal parts'
    cells (one personal value too many for its products) leaves the work arrays at rest,
    and the next question is answered as the plain loop answers it."""
    engine = _engine()
    first, second, third = (engine._ids[item.sku] for item in (FIRST, SECOND, THIRD))
    candidates = np.array([first, second, third, second], dtype=np.int64)
    with pytest.raises(ValueError):
        merged(
            engine._scratch,
            candidates,
            np.array([0.5, 0.25, 0.125, 0.5]),
            np.array([0.25, 0.0, 0.5, 0.25]),
            phone=engine._scratch.slots(PHONE),
            personal=(np.array([second, third], dtype=np.int64), np.array([1.0, 0.5, 0.25])),
        )
    if not at_rest(engine._scratch):
        return False
    same_as_plain(engine, QUESTIONS)
    return True


def test_a_merge_that_raises_leaves_every_cell_at_rest() -> None:
    assert _rests_after_a_raise(merge)


def test_the_check_catches_a_merge_that_leaves_cells_written() -> None:
    assert not _rests_after_a_raise(unrestored_merge)  # planted: no reset on a raise


_PARTS = st.sampled_from([0.0, -0.0, -math.inf, math.inf, 0.5, -0.5, 1e-300, 3.0])


def _bits(values: Any) -> list[int]:
    """Each float's bit pattern (tells -0.0 from 0.0)."""
    return [struct.unpack("<q", struct.pack("<d", v))[0] for v in np.asarray(values).tolist()]


def _sums_are_a_loop_from_zero(
    make: Callable[[], Scratch], listed: list[tuple[int, float, float]], extra: list[int]
) -> None:
    """merge's co-purchase and category sums and impersonal scores, bit for bit, against a
    loop that starts each candidate's sums at 0.0 and adds its parts in list order."""
    products = 8
    table = np.zeros((products, 5))
    table[:, 0] = np.linspace(-0.5, 1.0, products)  # popularity parts
    table[:, 1] = np.arange(products)  # each product's own key; one category, one word
    table[:, 2:] = np.array([BLOCK, 2 * BLOCK, 3 * BLOCK])
    scratch = make()
    scratch.fit(table, 1, 1)
    candidates = np.array([j for j, _, _ in listed] + extra, dtype=np.int64)
    co_parts = np.array([a for _, a, _ in listed])
    near_parts = np.array([b for _, _, b in listed])
    with np.errstate(invalid="ignore"):  # -inf + inf parts: NaN, as in the loop
        merged = merge(scratch, candidates, co_parts, near_parts, phone=None, personal=None)
    co: dict[int, float] = {}
    near: dict[int, float] = {}
    for j in candidates.tolist():
        co.setdefault(j, 0.0)
        near.setdefault(j, 0.0)
    for j, a, b in listed:
        co[j] += a
        near[j] += b
    order = list(co)  # first listed first
    assert merged.candidates.tolist() == order
    assert _bits(merged.co) == _bits([co[j] for j in order])
    assert _bits(merged.near) == _bits([near[j] for j in order])
    plain = [co[j] + near[j] + table[j, 0] for j in order]
    assert [math.isnan(s) for s in merged.scores.tolist()] == [math.isnan(s) for s in plain]
    assert _bits([s for s in merged.scores.tolist() if not math.isnan(s)]) == _bits(
        [s for s in plain if not math.isnan(s)]
    )


_LISTED = st.lists(st.tuples(st.integers(0, 7), _PARTS, _PARTS), max_size=12)
_EXTRA = st.lists(st.integers(0, 7), max_size=4)


@settings(max_examples=200, deadline=None)
@given(_LISTED, _EXTRA)
def test_merges_sums_are_bit_for_bit_a_loop_from_zero(
    listed: list[tuple[int, float, float]], extra: list[int]
) -> None:
    assert _bits([-0.0]) != _bits([0.0])  # the comparison is by bits, not by ==
    _sums_are_a_loop_from_zero(Scratch, listed, extra)


def test_the_bit_check_catches_sums_begun_at_negative_zero() -> None:
    # a candidate listed once with parts -0.0: 0.0 + -0.0 is 0.0, -0.0 + -0.0 is -0.0
    with pytest.raises(AssertionError):
        _sums_are_a_loop_from_zero(NegativeZeroScratch, [(3, -0.0, -0.0)], [])
    _sums_are_a_loop_from_zero(Scratch, [(3, -0.0, -0.0)], [])


def _asks_past_the_refresh(kind: type[PairingEngine]) -> None:
    """Ask a basket holding products learned after the last refresh, more of them than the
    work arrays (sized at that refresh) have spare rows: they are no candidates, and the
    question is answered as the plain loop answers it."""
    weights = [0.0] * len(FEATURES)
    for name in ("confidence", "habit", "personal"):
        weights[FEATURES.index(name)] = 1.0
    engine = kind(config=EngineConfig(refresh_every=1000).with_weights(weights))
    old = [CATALOG.to_item(p) for p in PRODUCTS[:2]]
    engine.learn(old, PHONE)
    engine.refresh()
    spare = len(engine._scratch.rows)
    new = [item(f"NEW-{n}", f"new-{n % 5}") for n in range(spare + 30)]
    for n in range(0, len(new), 3):
        engine.learn([*new[n : n + 3], old[0]], PHONE)
    assert engine._ids[new[-1].sku] >= spare  # past the work arrays' rows
    same_as_plain(engine, [((new[-1], old[0]), PHONE), ((new[-1],), None)])


def test_a_basket_product_learned_after_the_refresh_is_no_candidate() -> None:
    _asks_past_the_refresh(PairingEngine)


def test_the_check_catches_a_basket_product_learned_after_the_refresh_listed() -> None:
    with pytest.raises(IndexError):  # planted: listed at -inf, it has no row
        _asks_past_the_refresh(UnfilteredBasketEngine)
