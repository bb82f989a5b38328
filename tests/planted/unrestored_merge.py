"""Planted: ``protocol._reco._answer.merge`` without its ``except`` clause, so a question
that raises partway leaves the cells it wrote (first places, summed parts, the personal
parts in the first-place cells, the phone's part slots) for the next question to read.

Made from the real function's source with the ``try`` statement replaced by its body
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_engine_basket_edges.py``
shows the real merge leaves the work arrays at rest when it raises, and this one does not.
"""

from __future__ import annotations

import ast

from protocol._reco._answer import merge
from tests.planted.mutant import mutant

__all__ = ["unrestored_merge"]


class _Unwrapped(ast.NodeTransformer):
    def visit_Try(self, node: ast.Try) -> list[ast.stmt]:
        return node.body  # the bug: no reset when the body raises


unrestored_merge = mutant(merge, _Unwrapped())
