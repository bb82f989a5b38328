"""Gaps a mutation audit of the cloud's store found (``protocol/_machines/_store.py``): one-edit
bugs of :class:`~protocol.InMemoryStore` that the machines' tests did not see. A step is all
or nothing: every write a rolled-back step made is undone, whatever it wrote, and nothing a
committed step wrote is. Each test here passes on the real store and fails on its planted
mutant (``tests/planted/unkept_store_writes.py``); the test beside it shows each is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from protocol import (
    Binding,
    InMemoryStore,
    MatchingRelation,
    PendingPush,
    Promotions,
)
from tests.builders import ALICE, BOB, fill_store, stored, stored_push, stored_upload
from tests.planted.unkept_store_writes import UNKEPT_STORES

Write = Callable[[InMemoryStore], None]

# Every write the store has, on a new key and on a key the filled store already holds.
WRITES: dict[str, Write] = {
    "new binding": lambda s: s.put_binding(Binding(stored_upload("R9"), stored_at=9.0)),
    "binding replaced": lambda s: s.put_binding(Binding(stored_upload("R1", BOB), stored_at=9.0)),
    "new subscription": lambda s: s.subscribe(BOB, 9.0),
    "subscribed again": lambda s: s.subscribe(ALICE, 9.0),
    "new pending push": lambda s: s.put_pending_push(PendingPush(stored("R1"), ALICE, 9.0)),
    "pending push replaced": lambda s: s.put_pending_push(PendingPush(stored("R2"), BOB, 9.0)),
    "pending push removed": lambda s: s.remove_pending_push(stored("R2")),
    "new delivery": lambda s: s.mark_delivered(stored("R2"), ALICE),
    "delivered again": lambda s: s.mark_delivered(stored("R1"), ALICE),
    "new outgoing push": lambda s: s.put_outgoing(stored_push("R2")),
    "outgoing push replaced": lambda s: s.put_outgoing(stored_push("R1", sku="SKU-9")),
    "outgoing push removed": lambda s: s.remove_outgoing(stored("R1"), ALICE),
    "new relation": lambda s: s.save_matching_relation(
        MatchingRelation(stored("R2"), ALICE, ("SKU-1",), ("SKU-3",), 9.0)
    ),
    "relation replaced": lambda s: s.save_matching_relation(
        MatchingRelation(stored("R1"), ALICE, ("SKU-1",), ("SKU-3",), 9.0)
    ),
    "new promotions": lambda s: s.set_promotions(Promotions("M2", ("SKU-3",))),
    "promotions replaced": lambda s: s.set_promotions(Promotions("M1", ("SKU-3",))),
}


def filled(store_class: type[InMemoryStore]) -> InMemoryStore:
    """One of everything, written outside any step."""
    store = store_class()
    fill_store(store)
    return store


def contents(store: InMemoryStore) -> tuple[Any, ...]:
    """Everything a restart or a later step could read, in the store's orders."""
    receipts = [stored(r) for r in ("R1", "R2", "R9")]
    return (
        tuple(store.bindings()),
        [store.is_subscribed(p) for p in (ALICE, BOB)],
        tuple(store.pending_pushes()),
        [store.was_delivered(r, ALICE) for r in receipts],
        tuple(store.outgoing()),
        [store.matching_relation(r) for r in receipts],
        [store.promotions(m) for m in ("M1", "M2")],
    )


def undone(store_class: type[InMemoryStore], write: Write) -> bool:
    """Whether a step that made ``write`` and was rolled back left the store as it was."""
    store = filled(store_class)
    before = contents(store)
    store.begin_step()
    write(store)
    write(store)  # twice in a step: the undo still goes back to before the step
    store.rollback_step()
    return contents(store) == before


def kept_after_commit(store_class: type[InMemoryStore], write: Write) -> bool:
    """Whether ``write``, made in a committed step and again after it outside any step,
    survives a rollback that follows (a driver whose sends failed after the commit): a
    committed step's undo log must end at its commit."""
    store = filled(store_class)
    store.begin_step()
    write(store)
    store.commit_step()
    write(store)
    after = contents(store)
    store.rollback_step()
    return contents(store) == after


@pytest.mark.parametrize("name", WRITES)
def test_a_rolled_back_step_undoes_every_kind_of_write(name: str) -> None:
    store = filled(InMemoryStore)
    before = contents(store)
    WRITES[name](store)
    assert contents(store) != before or name in {"subscribed again", "delivered again"}
    assert undone(InMemoryStore, WRITES[name])


@pytest.mark.parametrize("name", WRITES)
def test_a_committed_write_is_not_undone_by_a_rollback_after_the_commit(name: str) -> None:
    assert kept_after_commit(InMemoryStore, WRITES[name])


@pytest.mark.parametrize("mutant", UNKEPT_STORES)
def test_a_store_losing_a_rollback_is_caught(mutant: str) -> None:
    store_class, shows = UNKEPT_STORES[mutant]
    # the real store is (True, True) on every write (the two tests above)
    assert (undone(store_class, WRITES[shows]), kept_after_commit(store_class, WRITES[shows])) != (
        True,
        True,
    )
