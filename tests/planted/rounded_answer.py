"""A trusted answer constructor with a planted bug: it stores the score rounded to nine
significant digits (as a fast path that formats or casts its score might), so its answers
differ from the validated constructor's in the last digits.

``tests/protocol/test_trusted_answer.py`` compares the trusted constructor with the
validated one on random inputs, and checks that the comparison catches this one.
"""

from __future__ import annotations

import attrs

from protocol import AssociatedProduct, Item, Offer, Reason
from protocol._core._trusted import answer_from_line

__all__ = ["rounded_answer_from_line"]


def rounded_answer_from_line(
    line: Item, reason: Reason, score: float, offer: Offer | None = None
) -> AssociatedProduct:
    """:func:`answer_from_line` with the score rounded (the bug)."""
    answer = answer_from_line(line, reason, score, offer)
    return attrs.evolve(answer, score=float(f"{score:.9g}"))
