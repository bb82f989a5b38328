"""A discovery-rule chooser with a planted bug, for ``tests/scenarios/test_reco_scorer.py``:
it measures every rule as :func:`scenarios._reco._scorer.choose_discovery` does but never
keeps one, so the eval would answer without the rule whatever the validation slice shows.
On the Complete Journey excerpt no rule reaches the 1.05 gain, so only a test where one
does can tell this chooser from the real one.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol import Item, PairingEngine
from scenarios._reco._scorer import DISCOVERY_CHOICES, Rule, answered

__all__ = ["unchosen_discovery"]


def unchosen_discovery(
    engine: PairingEngine, questions: Sequence[tuple[Item, Sequence[Item], str | None]]
) -> tuple[Rule, tuple[tuple[float, float], tuple[float, float]]]:
    engine.set_discovery(None, 0.5)
    plain = answered(engine, questions)
    for rule in DISCOVERY_CHOICES:
        engine.set_discovery(*rule)
        answered(engine, questions)
    engine.set_discovery(None, 0.5)  # the bug: nothing is ever kept
    return (None, 0.5, False), (plain, plain)
