"""Planted: work arrays that store a product's four slot numbers in its row as float
values (a cast, as the row held them before 6a5d890) while ``merge`` reads the cells' int64
bits: every slot but 0 is read as a huge number (a float's bits), so a question with a
phone reads no part of it or fails. ``tests/protocol/test_engine_slot_bits.py`` checks the
rows hold the slots' bits and that the vectorised ranking's comparison with the plain loop
catches this scratch.
"""

from __future__ import annotations

from typing import Any

from protocol import PairingEngine
from protocol._reco._answer import Scratch

__all__ = ["FloatSlotEngine", "FloatSlotScratch"]


class FloatSlotScratch(Scratch):
    """Writes the slot numbers as float values (the bug)."""

    def fit(self, rows: Any, categories: int, words: int) -> bool:
        known = self._slotted
        made = super().fit(rows, categories, words)
        start = 0 if made else known
        self.rows[start : len(rows), 4:] = self._placed(rows[start:, 1:5])  # a cast to float
        return made


class FloatSlotEngine(PairingEngine):
    """Answers from work arrays whose slot numbers are float values (the bug)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scratch = FloatSlotScratch()
        self.refresh(full=True)  # its phones placed in the new work arrays
