"""A pairing engine with a planted bug in its answering: a phone's parts, once placed in
the work arrays' slots, are kept for good instead of placed again by each refresh that
recomputes its profile, so a question reads the phone's habits as they were when its
parts were first placed.

``tests/protocol/test_engine_answer.py`` compares the answers with the full plain-loop
ranking, and checks that the comparison catches this engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from protocol import PairingEngine
from protocol._reco._answer import PhoneSlots, Scratch

__all__ = ["StaleSlotsEngine"]


class StaleScratch(Scratch):
    """Keeps the first slots placed for each phone (the bug): a refresh that recomputed
    a phone's profile does not place its parts again."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[str, PhoneSlots] = {}

    def place(self, phones: Sequence[tuple[str, Any, Any]]) -> None:
        super().place([entry for entry in phones if entry[0] not in self.kept])
        for phone, _, _ in phones:
            self.kept.setdefault(phone, super().slots(phone))

    def slots(self, phone: str) -> PhoneSlots:
        return self.kept[phone]


class StaleSlotsEngine(PairingEngine):
    """Answers with a :class:`StaleScratch`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scratch = StaleScratch()
        self.refresh(full=True)  # its phones placed in the new work arrays
