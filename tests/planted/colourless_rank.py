"""A pairing engine with a planted bug in its vectorised ranking: it reads the phone's
product, category and brand parts from their slots in the work arrays but forgets the
colour part, so a shopper's colour habit no longer counts.

``tests/protocol/test_engine_vectorised.py`` checks the vectorised ranking against a
plain loop over the same refreshed model, and that the check catches this engine.
"""

from __future__ import annotations

from typing import Any

from protocol import PairingEngine
from protocol._reco._answer import PhoneSlots, Scratch

__all__ = ["ColourlessEngine"]


class ColourlessScratch(Scratch):
    """Gives every phone's slots as if it had no colour part (the bug): the colour parts
    are written into their slots but never read."""

    def slots(self, phone: str) -> PhoneSlots:
        return super().slots(phone)._replace(coloured=False)


class ColourlessEngine(PairingEngine):
    """Ranks as if every colour part were 0 (the bug)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scratch = ColourlessScratch()
        self.refresh(full=True)  # its phones placed in the new work arrays
