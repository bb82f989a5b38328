"""Planted: a phone whose subscription gave up never subscribes again (the
``self._subscribing = False`` of :meth:`~protocol.PhoneMachine.timer_fired` dropped, the
phone before reviewer B's F1): it stays "subscribing" for ever, so the next notice does
not subscribe and every later ask waits for a subscription that never comes. The cloud
withholds each of its later purchases, which is the retry policy's outcome for the
cloud, not for the phone: the ledger must judge it lost.

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/scenarios/test_subscription_gave_up.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PhoneMachine
from tests.planted.mutant import mutant

__all__ = ["UnresubscribingPhone"]


class _KeepSubscribing(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        if ast.unparse(node) == "self._subscribing = False":
            return ast.Pass()  # the bug: a subscription that gave up is never tried again
        return node


class UnresubscribingPhone(PhoneMachine):
    """Never subscribes again once its subscription gave up (the bug)."""

    timer_fired = mutant(PhoneMachine.timer_fired, _KeepSubscribing())
