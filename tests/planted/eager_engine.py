"""A pairing engine with a planted bug: it answers from everything learned so far, not
from the model of the last refresh (it refreshes before every question).

Its answers then depend on when the question comes between two refreshes, and a cloud
restarted on the same store could answer differently from one that was asked before
(the refreshes fall elsewhere). ``tests/protocol/test_engine_refresh.py`` checks that
learning between refreshes changes no answer, and that it catches this engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from protocol import Item, Pairing, PairingEngine

__all__ = ["EagerEngine"]


class EagerEngine(PairingEngine):
    """Refreshes at every question (the bug)."""

    def pair(self, items: Iterable[Item], phone_id: str | None, limit: int) -> list[Pairing]:
        self.refresh()
        return super().pair(items, phone_id, limit)
