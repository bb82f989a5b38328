"""The refresh's three-key sort with a planted bug, for
``tests/protocol/test_engine_batching.py``, which compares it with ``np.lexsort`` and must
catch it: :func:`protocol._reco._engine._by_keys`'s plain sort of each key packed with
its place, the place's field one bit too narrow, so a place past it runs into the key.
Made from the real function's source (:func:`tests.planted.mutant.mutant`: ``shift``
made ``max(shift - 1, 0)``), so it stays in step with it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol._reco import _engine
from tests.planted.mutant import mutant

__all__ = ["narrow_packed_by_keys"]


class _OneBitShort(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        names = [target.id for target in node.targets if isinstance(target, ast.Name)]
        if names == ["shift"]:  # the bug: the place's field one bit short
            short = ast.BinOp(node.value, ast.Sub(), ast.Constant(1))
            node.value = ast.Call(ast.Name("max", ast.Load()), [short, ast.Constant(0)], [])
        return node


narrow_packed_by_keys: Callable[..., Any] = mutant(_engine._by_keys, _OneBitShort())
