"""Planted: ``protocol._reco._answer.merge`` without its ``except`` clause, so a question
that raises partway leaves the cells it wrote (first places, summed parts, the personal
parts in the first-place cells, the phone's part slots) for the next question to read.

Made from the real function's source with the ``try`` statement replaced by its body (an
AST edit, not a copy to keep in step). ``tests/protocol/test_engine_basket_edges.py``
shows the real merge leaves the work arrays at rest when it raises, and this one does not.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, cast

from protocol._reco import _answer

__all__ = ["unrestored_merge"]


def _without_rest() -> Any:
    tree = ast.parse(textwrap.dedent(inspect.getsource(_answer.merge)))

    class Unwrap(ast.NodeTransformer):
        def visit_Try(self, node: ast.Try) -> list[ast.stmt]:
            return node.body  # the bug: no reset when the body raises

    module = ast.fix_missing_locations(Unwrap().visit(tree))
    namespace = dict(vars(_answer))
    exec(compile(module, _answer.__file__, "exec"), namespace)
    return namespace["merge"]


unrestored_merge = cast(Any, _without_rest())
