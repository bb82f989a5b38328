"""A pairing engine with a planted bug in its answering: a phone's parts, once placed in
the work arrays' slots, are kept for good instead of while its profile is the one of the
last refresh, so a question reads the phone's habits as they were when it first asked.

``tests/protocol/test_engine_answer.py`` compares the answers with the full plain-loop
ranking, and checks that the comparison catches this engine.
"""

from __future__ import annotations

from typing import Any

from protocol import PairingEngine
from protocol._reco._answer import PhoneSlots, Scratch

__all__ = ["StaleSlotsEngine"]


class StaleScratch(Scratch):
    """Keeps the first slots placed for each phone (the bug)."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[str, PhoneSlots] = {}

    def slots(self, phone: str, profile: object, keys: Any, values: Any) -> PhoneSlots:
        found = self.kept.get(phone)
        if found is None:
            found = self.kept[phone] = super().slots(phone, profile, keys, values)
        return found


class StaleSlotsEngine(PairingEngine):
    """Answers with a :class:`StaleScratch`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scratch = StaleScratch()
