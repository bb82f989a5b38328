"""A pairing engine with a planted bug in its refresh: when the model outgrows the work
arrays and they are made anew, the phones whose profiles did not change keep the slot
numbers placed for the old arrays instead of being placed again, so such a phone's
category, brand and colour parts are read from the wrong slots.

``tests/protocol/test_engine_answer.py`` compares the answers with the full plain-loop
ranking, and checks that the comparison catches this engine.
"""

from __future__ import annotations

from typing import Any

from protocol import PairingEngine
from protocol._reco._answer import Scratch

__all__ = ["UnmovedSlotsEngine"]


class UnmovedScratch(Scratch):
    """Keeps every phone's slots when the arrays are made anew, and says they were kept
    (the bug): the refresh then places only the phones it recomputed."""

    def fit(self, rows: Any, categories: int, words: int) -> bool:
        kept = dict(self._phones)
        super().fit(rows, categories, words)
        self._phones.update({p: s for p, s in kept.items() if p not in self._phones})
        return False


class UnmovedSlotsEngine(PairingEngine):
    """Answers with an :class:`UnmovedScratch`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scratch = UnmovedScratch()
        self.refresh(full=True)  # its phones placed in the new work arrays
