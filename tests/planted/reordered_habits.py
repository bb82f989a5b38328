"""A pairing engine with a planted bug in its habit counters: a phone's ``last`` (the
basket each product was last bought in) is kept in product-number order instead of the
order of its ``items``, as a cut that rebuilt it from a sorted list would.

The refresh reads a phone's ``last``, ``decayed`` and ``together`` values in the order of
its items (``_following`` in ``protocol/_reco/_engine.py``), so this engine's profiles put
one product's recency on another. ``tests/protocol/test_engine_lists.py`` compares the
profiles with a plain loop that looks each product up, and must catch it.
"""

from __future__ import annotations

from protocol import PairingEngine

__all__ = ["ReorderedHabitsEngine"]


class ReorderedHabitsEngine(PairingEngine):
    """Keeps each phone's ``last`` in product-number order (the bug)."""

    def _learn_habits(self, phone_id: str, ids: list[int]) -> None:
        super()._learn_habits(phone_id, ids)
        habits = self._habits[phone_id]
        habits.last = dict(sorted(habits.last.items()))
