"""Planted: :func:`~protocol._machines._lifecycle.receipt_state` taking an outgoing push
of the receipt *or* of its phone as the receipt's own (``and`` made ``or`` where it
searches the store's outgoing list): a phone's answered receipt is called pushed while
another of its receipts is pushed, and a dual-sent one takes another's timeout push.

Made from the real function's source with that one edit (:func:`tests.planted.mutant.
mutant`), a survivor of the mutation audit: the hypothesis state machine of
``tests/protocol/test_lifecycle.py`` needs five steps to see it and its default budget
missed them. ``tests/protocol/test_lifecycle_cells.py`` (one phone, many pushes) catches it.
"""

from __future__ import annotations

import ast

from protocol._machines._lifecycle import receipt_state
from tests.planted.mutant import mutant

__all__ = ["any_push_receipt_state"]


class _EitherMatches(ast.NodeTransformer):
    def visit_For(self, node: ast.For) -> ast.For:
        self.generic_visit(node)
        match = node.body[0]
        assert isinstance(match, ast.If) and isinstance(match.test, ast.BoolOp)
        match.test.op = ast.Or()  # the bug: the receipt's or the phone's push
        return node


any_push_receipt_state = mutant(receipt_state, _EitherMatches())
