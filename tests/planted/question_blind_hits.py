"""Planted bug for tests/scenarios/test_reco_hits.py: ``assocsim reco eval``'s hit count
before reviewer R's R2, blind to which product was asked about (a method echoing the
question scored a hit on every question)."""

from __future__ import annotations

from collections.abc import Sequence

from scenarios._reco._eval import _Tally


def question_blind_count(tally: _Tally, answer: Sequence[int], basket: set[int]) -> None:
    """Any product of the basket is a hit, the asked one included."""
    tally.queries += 1
    if any(p in basket for p in answer):
        tally.hits += 1
        tally.small_hits += 1
