"""Planted: idle faults blind to crashes that lost nothing (the
``_crashes_that_lost_nothing`` line of :func:`actors.idle_faults` dropped, the check before
reviewer B's F2): a crash of the cloud at 100 h of an 8 h day, after the run's last
message, was counted "faults: crashes 1" with no warning, though it found no timer armed,
no message waiting and none arriving while down.

Made from the real function's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/actors/test_idle_crash.py`` catches it.
"""

from __future__ import annotations

import ast

from actors import idle_faults
from tests.planted.mutant import mutant

__all__ = ["lossless_crashes_counted"]


class _LostNothingIgnored(ast.NodeTransformer):
    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        if "_crashes_that_lost_nothing" in ast.unparse(node):
            return ast.Pass()  # the bug: a crash that lost nothing counts as exercised
        return node


lossless_crashes_counted = mutant(idle_faults, _LostNothingIgnored())
