"""Planted: a cloud whose ``learn`` hook drops its one statement (the recommender's
``observe``), so step 507's learning from stored uploads (unit 803) never happens, at
upload or at a restart. A survivor of the mutation audit of the cloud: the protocol tests'
:class:`~protocol.RuleRecommender` learns nothing, so no answer changed.

Made from the real hook's source with that one statement made ``pass``
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_machines_mutants.py`` catches
it with a recommender that records what it is taught.
"""

from __future__ import annotations

import ast

from protocol import CloudMachine
from tests.planted.mutant import mutant

__all__ = ["UnlearningCloud"]


class _DropObserve(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.body = [
            ast.Pass() if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) else stmt
            for stmt in node.body
        ]  # the bug: the docstring stays, the observe call goes
        return node


class UnlearningCloud(CloudMachine):
    """Never teaches its recommender (the bug)."""

    learn = mutant(CloudMachine.learn, _DropObserve())
