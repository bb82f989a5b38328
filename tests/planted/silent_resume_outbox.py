"""Planted: an outbox whose ``resume`` (after a restart, when the re-send timers were
lost) arms the timers but sends nothing again (its ``sends.append`` made ``pass``): a POS
or phone restarted with an upload or request unacknowledged waits a whole backoff before
re-sending it. A survivor of the mutation audit of the outbox: no protocol test restarts a
machine with something in its outbox.

Made from the real method's source with that one statement made ``pass``
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_machines_mutants.py`` catches
it.
"""

from __future__ import annotations

import ast

from protocol.lowlevel import Outbox
from tests.planted.mutant import mutant

__all__ = ["SilentResumeOutbox"]


class _NoSends(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and ast.unparse(call.func) == "sends.append"
        ):
            return ast.Pass()  # the bug: nothing is sent again at once
        return node


class SilentResumeOutbox(Outbox):
    """Re-arms but does not re-send at a restart (the bug)."""

    resume = mutant(Outbox.resume, _NoSends())
