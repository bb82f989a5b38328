"""Planted bug for ``tests/scenarios/test_serve.py``: a merchant key generator that keeps
its first draw even when it starts with ``-``, which ``assocsim pos --key KEY`` then reads
as an option (1 draw in 64 of ``secrets.token_urlsafe``). Made from
:func:`protocol.lowlevel.generate_key`'s own source (:func:`tests.planted.mutant.mutant`:
its ``if not key.startswith("-")`` made ``if True``), so it stays in step with it."""

from __future__ import annotations

import ast
from collections.abc import Callable

from protocol.lowlevel import generate_key
from tests.planted.mutant import mutant

__all__ = ["dashed_generate_key"]


class _FirstDraw(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.If:
        self.generic_visit(node)
        if "startswith" in ast.unparse(node.test):
            node.test = ast.Constant(True)  # the bug: any first draw is the key
        return node


dashed_generate_key: Callable[[], str] = mutant(generate_key, _FirstDraw())
