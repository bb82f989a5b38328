"""Planted: a phone that keeps a request it got its answer to (``self._asking.pop(...)``
dropped from the ``AssociationResponse`` branch of :meth:`~protocol.PhoneMachine.handle`): a
refusal of the same request arriving after the answer (of a copy it re-sent) is recorded as
a refusal. A survivor of the mutation audit of the phone (``protocol/_machines/_phone.py``).

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast

from protocol import PhoneMachine
from tests.planted.mutant import mutant

__all__ = ["UnforgettingPhone"]


class _KeepAsking(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        if ast.unparse(node) == "self._asking.pop(message.request_id, None)":
            return ast.Pass()  # the bug: an answered request stays outstanding
        return node


class UnforgettingPhone(PhoneMachine):
    """Keeps an answered request outstanding (the bug)."""

    handle = mutant(PhoneMachine.handle, _KeepAsking())
