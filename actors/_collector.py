"""The cyclic garbage collector during a long simulated run: full passes made rare.

CPython collects its youngest objects often and cheaply, but a full (oldest generation)
pass visits every live object, and a run's live state grows with its purchases: the
workload, the machines' and stores' records, the report's ledger. In ``bench/simpy_peer.py``
the 4 full passes of a 10k-purchase run took about 12 % of its CPU time, under SimPy as
under assocsim. A run makes almost no cyclic garbage (messages, effects and trace events
are acyclic and freed by reference counting: 68 unreachable objects after a whole
10k-purchase run with the collector off), so an inline :class:`~actors.World` makes
full passes rarer while it runs: the young generations are collected as before, the oldest
only after :data:`FULL_PASS_EVERY` collections of the middle one (CPython's default: 10),
and what survives a collection is not visited again until the run ends.
``scenarios.run_scenario`` (inline) holds the same policy from the workload on: generating
the workload and building the world grow the heap too (their 7 full passes were 3 % of a
100k-purchase run's CPU).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["FULL_PASS_EVERY", "rare_full_collections"]

FULL_PASS_EVERY = 1000
"""Collections of the middle generation between two full passes during a run."""


@contextlib.contextmanager
def rare_full_collections() -> Iterator[None]:
    """Within the block, full collections at most every :data:`FULL_PASS_EVERY` middle ones,
    and what survives any collection is frozen (:func:`gc.freeze`) until the block ends, so
    that a collection visits only what was made since the last one: a full pass no longer
    costs in proportion to the run's live state, and a middle one no longer walks again
    what the young ones walked. (At 1M purchases, 7 passes over a 4 GB heap were 21 % of
    the CPU; then, freezing what survived a full pass only, 10 passes were still 11 %:
    together they walked all that was made between the first and the last; freezing what
    survived a middle one, 4 %, ``bench/simpy_peer.py``. Freezing what survives a young
    one too, each object a run keeps is visited once instead of twice: at 2,000 purchases
    18 M instructions and 1.1 M first-level data-cache misses fewer, cachegrind.) Frozen
    objects are still freed by reference counting; a cycle among them (one that became
    garbage after it survived a collection) waits for the first full pass after the
    block. The thresholds found are restored after it (unless changed within it
    meanwhile). Nested blocks, and a block entered with objects frozen already (by the
    caller, for its own reasons), freeze nothing more."""
    found = gc.get_threshold()
    first, second, third = found
    ours = (first, second, max(third, FULL_PASS_EVERY))
    gc.set_threshold(*ours)
    # The callback first: get_freeze_count walks every frozen object (a nested block, as
    # World.run's inside scenarios.run_scenario's, walked the whole workload and world).
    freezing = _freeze_survivors not in gc.callbacks and gc.get_freeze_count() == 0
    if freezing:
        gc.callbacks.append(_freeze_survivors)
    try:
        yield
    finally:
        if freezing:
            gc.callbacks.remove(_freeze_survivors)
            gc.unfreeze()
        if gc.get_threshold() == ours:
            gc.set_threshold(*found)


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    if phase == "stop":
        # What is left in the generations survived this collection (or, in the older
        # ones, an earlier one since the last freeze): freeze it all, so that no later
        # collection visits it again.
        gc.freeze()
