"""The pairing lists kept in one table (``protocol/_reco/_lists.py``, ``ListTable``): each
product's list reads back as the plain list last stored for it, through the table's growth
in rows and width and through lists that became shorter; an engine's lists that a refresh
does not recompute survive the table's growth. Catches the planted
``tests/planted/uncopied_lists.py`` (growth that leaves the stored lists behind),
``tests/planted/stale_list_lengths.py`` (a shorter list keeping its old length) and
``tests/planted/unviewed_lists.py`` (a list whose length changed read through its old
view)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, EngineConfig, Item, PairingEngine
from protocol._reco import _engine
from protocol._reco._lists import ListTable
from tests.planted.stale_list_lengths import StaleLengthsListTable
from tests.planted.uncopied_lists import UncopiedListTable
from tests.planted.unrowed_as_stranger import UnrowedAsStrangerEngine
from tests.planted.unviewed_lists import UnviewedListTable

# one operation: ("fit", rows, width) or ("store", rows, seed of their lists)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("fit"), st.integers(0, 150), st.integers(0, 6)),
        st.tuples(st.just("store"), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    ),
    max_size=25,
)


def _run(kind: type[ListTable], operations: list[tuple[str, int, int]]) -> None:
    """Apply *operations* to a *kind* table and to plain lists; after each, every row of
    the table reads as the plain list last stored for it (empty if none)."""
    table = kind()
    plain: dict[int, np.ndarray] = {}
    for name, a, b in operations:
        if name == "fit":
            table.fit(a, b)
        elif len(table) and table.cells.shape[2]:
            rng = np.random.default_rng((a, b))
            size = int(rng.integers(1, len(table) + 1))
            rows = np.sort(rng.choice(len(table), size=size, replace=False)).astype(np.int64)
            counts = rng.integers(0, table.cells.shape[2] + 1, size=size)
            lists = [rng.normal(size=(3, int(n))) for n in counts]
            table.store(rows, np.cumsum(counts), np.concatenate(lists, axis=1))
            plain.update(zip(rows.tolist(), lists, strict=True))
        assert len(table) >= max(plain, default=-1) + 1
        for i in range(len(table)):
            expected = plain.get(i, np.zeros((3, 0)))
            assert table[i].tobytes() == expected.tobytes(), f"row {i}"
            assert table[i].shape == expected.shape, f"row {i}"


@settings(max_examples=150, deadline=None)
@given(OPERATIONS)
def test_the_table_reads_back_the_lists_stored(operations: list[tuple[str, int, int]]) -> None:
    _run(ListTable, operations)


# grown after a list was stored, then a list made shorter than the one it replaces
GROWN = [("fit", 3, 4), ("store", 1, 2), ("fit", 100, 4), ("fit", 100, 6)]
SHORTER = [("fit", 5, 4), ("store", 7, 1), ("store", 7, 2), ("store", 7, 3), ("store", 7, 4)]


@pytest.mark.parametrize(
    ("kind", "operations"),
    [
        (UncopiedListTable, GROWN),
        (StaleLengthsListTable, SHORTER),
        (UnviewedListTable, SHORTER),
    ],
)
def test_the_check_catches_a_planted_table(
    kind: type[ListTable], operations: list[tuple[str, int, int]]
) -> None:
    _run(ListTable, operations)  # the real table passes these operations
    with pytest.raises(AssertionError):
        _run(kind, operations)


def _item(k: int) -> Item:
    return Item(
        sku=f"P{k:03d}",
        name=f"product {k}",
        category=f"c{k % 3}",
        brand="b",
        colour="",
        quantity=1,
        price=1.0,
    )


def _kept_through_growth(kind: type[ListTable], monkeypatch: pytest.MonkeyPatch) -> None:
    """Lists of products the second refresh does not recompute are those of the first,
    though the table grew between (200 products learned past its 64 first rows)."""
    monkeypatch.setattr(_engine, "ListTable", kind)
    engine = PairingEngine(catalog=Catalog(()), rules={}, config=EngineConfig(refresh_every=1000))
    for k in range(10):
        engine.learn([_item(k), _item((k + 1) % 10), _item((k + 3) % 10)], "phone")
    engine.refresh()
    before = [engine._lists[i].copy() for i in range(10)]
    assert all(len(found[0]) for found in before)
    for k in range(10, 210, 2):  # new products only: the first ten are not recomputed
        engine.learn([_item(k), _item(k + 1)])
    engine.refresh()
    assert len(engine._lists) >= 210
    for i in range(10):
        assert engine._lists[i].tobytes() == before[i].tobytes()


def test_lists_not_recomputed_survive_the_table_growing(monkeypatch: pytest.MonkeyPatch) -> None:
    _kept_through_growth(ListTable, monkeypatch)


def test_the_check_catches_lists_lost_when_the_table_grows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(AssertionError):
        _kept_through_growth(UncopiedListTable, monkeypatch)


def _learned_since(kind: type[PairingEngine]) -> None:
    """Products learned since the last refresh read as empty lists, whether the table
    has a spare row for them (its first 64 rows) or not (past them): a basket of them
    alone has no answer, and with a refreshed product answers as that product alone."""
    engine = kind(catalog=Catalog(()), rules={}, config=EngineConfig(refresh_every=1000))
    for k in range(10):
        engine.learn([_item(k), _item((k + 1) % 10), _item((k + 3) % 10)], "phone")
    engine.refresh()
    rows = len(engine._lists)
    for k in range(10, 110):  # bought with refreshed products, in their categories
        engine.learn([_item(k % 10), _item(k)], "phone")
    spare, past = engine._ids["P020"], engine._ids["P100"]
    assert spare < rows <= past
    for new in (_item(20), _item(100)):
        assert engine.pair([new], None, 5) == []
        assert engine.pair([new], "phone", 5) == engine.pair([], "phone", 5)
        for old in (_item(0), _item(7)):
            assert engine.pair([old, new], None, 5) == engine.pair([old], None, 5)
    assert engine._lists[spare].shape == engine._lists[past].shape == (3, 0)


def test_products_learned_since_the_refresh_read_as_empty_lists() -> None:
    _learned_since(PairingEngine)


def test_the_check_catches_unrowed_products_read_as_never_learned() -> None:
    with pytest.raises(AssertionError):
        _learned_since(UnrowedAsStrangerEngine)


def _kept_through_widening(kind: type[ListTable], monkeypatch: pytest.MonkeyPatch) -> None:
    """A product interned but not refreshed, then a refresh with wider lists (``pairings``
    raised on the engine's config): the rows not recomputed keep their values, and the
    product interned since reads its new list, longer than the old width."""
    monkeypatch.setattr(_engine, "ListTable", kind)
    config = EngineConfig(refresh_every=1000, pairings=2)
    engine = PairingEngine(catalog=Catalog(()), rules={}, config=config)
    for k in range(10):
        engine.learn([_item(k), _item((k + 1) % 10), _item((k + 3) % 10)], "phone")
    engine.refresh()
    before = [engine._lists[i].copy() for i in range(10)]
    engine.learn([_item(10), _item(11)])  # new products only: the first ten kept
    assert engine._lists[engine._ids["P010"]].shape == (3, 0)
    engine.config = attrs.evolve(engine.config, pairings=6)
    engine.refresh()
    assert engine._lists.cells.shape[2] == 6
    for i in range(10):
        assert engine._lists[i].tobytes() == before[i].tobytes()
    found = engine._lists[engine._ids["P010"]]  # its co-purchase first, then its category's
    assert found[0, 0] == engine._ids["P011"] and found.shape[1] > 2


def test_lists_not_recomputed_survive_the_table_widening(monkeypatch: pytest.MonkeyPatch) -> None:
    _kept_through_widening(ListTable, monkeypatch)


def test_the_check_catches_lists_lost_when_the_table_widens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(AssertionError):
        _kept_through_widening(UncopiedListTable, monkeypatch)
