"""A pairing engine with a planted bug in its category offers: it weighs an offer without
the colour affinity. ``tests/protocol/test_engine_counts.py`` compares every offer's
weighting with the plain loop and must catch it."""

from __future__ import annotations

import numpy as np

from protocol import PairingEngine

__all__ = ["ColourlessOffersEngine"]


class ColourlessOffersEngine(PairingEngine):
    def _colour_row(self, colour: str) -> np.ndarray:
        return np.zeros(len(self._word_ids))
