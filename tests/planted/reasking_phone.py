"""Planted: a phone whose ``ask`` forgets to strike the receipt off its planned asks (its
``_asks_due.pop`` made ``pass``): a phone restarted after asking re-arms the ask it already
made, and the user asks again (a second request, a second answer to show or skip). A
survivor of the mutation audit of the phone: no protocol test restarts a phone.

Made from the real method's source with that one statement made ``pass``
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_machines_mutants.py`` catches
it.
"""

from __future__ import annotations

import ast

from protocol import PhoneMachine
from tests.planted.mutant import mutant

__all__ = ["ReaskingPhone"]


class _KeepPlanned(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.body[1] = ast.Pass()  # the bug: after the docstring, the pop goes
        return node


class ReaskingPhone(PhoneMachine):
    """Keeps an ask planned after making it (the bug)."""

    ask = mutant(PhoneMachine.ask, _KeepPlanned())
