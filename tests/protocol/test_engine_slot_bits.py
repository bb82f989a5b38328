"""A candidate's four slot numbers are kept in its work row as whole numbers in the cells'
int64 bits (``Scratch.fit``) and ``merge`` reads them through an int64 view, one column at
a time: the rows must hold exactly the slots ``Scratch._placed`` gives each product's keys,
for every product known at the last refresh, through the arrays' growth and remaking; the
vectorised ranking's comparison with the plain loop catches work arrays that store them as
float values (``tests/planted/float_slot_rows.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from protocol import PairingEngine, PurchaseUpload
from protocol._reco._engine import FEATURES
from tests.planted.float_slot_rows import FloatSlotEngine
from tests.protocol.test_engine_properties import CATALOG, HISTORIES, PRODUCTS
from tests.protocol.test_engine_vectorised import _engine, _same

ALL_ON = [1.0] * len(FEATURES)


def _slots_are_the_placed_keys(engine: PairingEngine) -> bool:
    scratch = engine._scratch
    keys = engine._tables.rows
    held = scratch.rows.view(np.int64)[: len(keys), 4:]
    return bool(np.array_equal(held, scratch._placed(keys[:, 1:5])))


@settings(max_examples=40, deadline=None)
@given(HISTORIES)
def test_the_rows_hold_each_products_slots_as_whole_numbers(
    history: list[PurchaseUpload],
) -> None:
    engine = PairingEngine()
    for n, purchase in enumerate(history):
        engine.observe(purchase)
        if n % 3 == 0:
            engine.refresh()
            assert _slots_are_the_placed_keys(engine)
    engine.refresh(full=True)
    assert _slots_are_the_placed_keys(engine)


def _history() -> list[PurchaseUpload]:
    phone = "+8613800000001"
    return [
        PurchaseUpload(
            receipt_id=f"r-{n}",
            merchant_id="shop-1",
            pos_id="pos-1",
            phone_id=phone,
            items=tuple(CATALOG.to_item(p) for p in PRODUCTS[n : n + 3]),
            purchased_at=0.0,
        )
        for n in range(6)
    ]


def test_the_check_catches_slots_stored_as_float_values() -> None:
    history = _history()
    questions = [((CATALOG.to_item(p),), "+8613800000001") for p in PRODUCTS[:8]]
    _same(_engine(PairingEngine, history, ALL_ON, 1), questions)
    planted = _engine(FloatSlotEngine, history, ALL_ON, 1)
    assert not _slots_are_the_placed_keys(planted)
    with pytest.raises((AssertionError, IndexError)):  # wrong parts, or a slot past the end
        _same(planted, questions)
