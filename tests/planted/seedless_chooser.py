"""A discovery-rule chooser with a planted bug, for ``tests/scenarios/test_reco_scorer.py``:
it tries only the rules taking the best alternative and skips the seeded ones, so the
eval would never keep a seeded rule whatever the validation slice shows. On the Complete
Journey excerpt that changes nothing (no rule reaches the gain), so only the scripted
answers where a seeded rule is the one to keep can tell it from the real chooser.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol import Item, PairingEngine
from scenarios._reco._scorer import DISCOVERY_CHOICES, DISCOVERY_GAIN, Rule, answered

__all__ = ["seedless_chooser"]


def seedless_chooser(
    engine: PairingEngine, questions: Sequence[tuple[Item, Sequence[Item], str | None]]
) -> tuple[Rule, tuple[tuple[float, float], tuple[float, float]]]:
    engine.set_discovery(None, 0.5)
    plain = answered(engine, questions)
    best: Rule = (None, 0.5, False)
    found = plain
    for rule in DISCOVERY_CHOICES:
        if rule[2]:
            continue  # the bug: the seeded rules are never tried
        engine.set_discovery(*rule)
        trial = answered(engine, questions)
        if trial[0] >= plain[0] and trial[1] > found[1] and trial[1] >= DISCOVERY_GAIN * plain[1]:
            best, found = rule, trial
    engine.set_discovery(*best)
    return best, (plain, found)
