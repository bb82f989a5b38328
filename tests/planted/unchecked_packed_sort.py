"""Planted: the refresh's three-key sort packing each key with its place whether or not
the two fit 63 bits together (:func:`protocol._reco._engine._by_keys` without its second
width check, the one 097965d added before the packed sort). A key that fits alone but not
with its place shifted in loses its top bits, and the order is wrong. Made from the real
function's source (:func:`tests.planted.mutant.mutant`). ``tests/protocol/
test_engine_batching.py`` draws keys in that band and must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco import _engine
from tests.planted.mutant import mutant

__all__ = ["unchecked_by_keys"]


class _Unchecked(ast.NodeTransformer):
    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        if "+ shift >" in ast.unparse(node.test):
            return []  # the bug: pack with the place whatever the width
        return node


unchecked_by_keys: Callable[..., Any] = mutant(_engine._by_keys, _Unchecked())
