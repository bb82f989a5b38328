"""A pairing engine with a planted bug in its refresh: the work arrays' rows take a
product's popularity part only when the product is first placed in them, so a candidate's
popularity stays that of the refresh before (or earlier) once its count has changed.

``tests/protocol/test_engine_answer.py`` compares the answers with the full plain-loop
ranking (which reads the popularity of the last refresh), and checks that the comparison
catches this engine.
"""

from __future__ import annotations

from typing import Any

from protocol import PairingEngine
from protocol._reco._answer import Scratch

__all__ = ["StalePopularityEngine"]


class StalePopularityScratch(Scratch):
    """Keeps every placed product's popularity part from the fit that placed it (the
    bug)."""

    def fit(self, rows: Any, categories: int, words: int) -> bool:
        known = min(self._slotted, len(rows))
        kept = self.rows[:known, 3].copy()
        made = super().fit(rows, categories, words)
        if not made:
            self.rows[:known, 3] = kept
        return made


class StalePopularityEngine(PairingEngine):
    """Answers with a :class:`StalePopularityScratch`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scratch = StalePopularityScratch()
        self.refresh(full=True)
