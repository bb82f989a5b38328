"""The cyclic garbage collector during a long simulated run: full passes made rare.

CPython collects its youngest objects often and cheaply, but a full (oldest generation)
pass visits every live object, and a run's live state grows with its purchases: the
workload, the machines' and stores' records, the report's ledger. In ``bench/simpy_peer.py``
the 4 full passes of a 10k-purchase run took about 12 % of its CPU time, under SimPy as
under assocsim. A run makes almost no cyclic garbage (messages, effects and trace events
are acyclic and freed by reference counting: 68 unreachable objects after a whole
10k-purchase run with the collector off), so an inline :class:`~actors.World` makes
full passes rarer while it runs: the young generations are collected as before, the oldest
only after :data:`FULL_PASS_EVERY` collections of the middle one (CPython's default: 10).
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
    and what survives a middle or a full one is frozen (:func:`gc.freeze`) until the block
    ends, so that a full pass visits only what was made since the last middle one: a full
    pass no longer costs in proportion to the run's live state. (At 1M purchases, 7 passes
    over a 4 GB heap were 21 % of the CPU; then, freezing what survived a full pass only, 10
    passes were still 11 %: together they walked all that was made between the first and
    the last; now 4 %, ``bench/simpy_peer.py``.) Frozen objects are still freed by
    reference counting; a cycle among them (one that became garbage after it survived a
    middle collection) waits for the first full pass after the block. The thresholds found
    are restored after it (unless changed within it meanwhile). Nested blocks, and a block
    entered with objects frozen already (by the caller, for its own reasons), freeze
    nothing more."""
    found = gc.get_threshold()
    first, second, third = found
    ours = (first, second, max(third, FULL_PASS_EVERY))
    gc.set_threshold(*ours)
    freezing = gc.get_freeze_count() == 0 and _freeze_survivors not in gc.callbacks
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
    if phase == "stop" and info["generation"] >= 1:
        # The young and middle generations were just collected, and the oldest holds only
        # survivors (of this pass, or of middle ones since the last freeze): freeze them all.
        gc.freeze()
