"""Planted: in-memory stores that lose part of a step's rollback, survivors of a mutation
audit of ``protocol/_machines/_store.py`` that no test of the machines saw (a rollback
happens only when a step raises, and the machines' tests never make one raise).

Each is :class:`~protocol.InMemoryStore` with one method rebuilt from its own source with
one AST edit (:func:`tests.planted.mutant.mutant`), so it stays in step with the store.
:data:`UNKEPT_STORES` maps a name to the store and the write (a key of
``tests/protocol/test_store_mutants.py``'s ``WRITES``) whose rollback it gets wrong; that
test catches each.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, ClassVar

from protocol import InMemoryStore
from protocol._machines import _store
from tests.planted.mutant import mutant

__all__ = ["UNKEPT_STORES"]


class _Drop(ast.NodeTransformer):
    """Make the statement whose source starts with ``start`` a ``pass``."""

    def __init__(self, start: str) -> None:
        self.start = start

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        return ast.Pass() if ast.unparse(node).startswith(self.start) else node

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        return ast.Pass() if ast.unparse(node).startswith(self.start) else node


class _Flip(ast.NodeTransformer):
    """Make the comparison ``compare`` its opposite (``not in`` -> ``in``, ``is`` -> ``is not``)."""

    FLIP: ClassVar[dict[type[ast.cmpop], type[ast.cmpop]]] = {
        ast.NotIn: ast.In,
        ast.In: ast.NotIn,
        ast.Is: ast.IsNot,
    }

    def __init__(self, compare: str) -> None:
        self.compare = compare

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        if ast.unparse(node) == self.compare:
            node.ops = [self.FLIP[type(node.ops[0])]()]
        return node


def _store_with(method: str, edit: ast.NodeTransformer) -> type[InMemoryStore]:
    """InMemoryStore with ``method`` rebuilt with ``edit``."""
    made = mutant(getattr(InMemoryStore, method), edit)
    return type(f"Unkept_{method}", (InMemoryStore,), {method: made})


def _restoring_with(edit: ast.NodeTransformer) -> type[InMemoryStore]:
    """InMemoryStore whose undo records call ``_restore`` rebuilt with ``edit``."""
    restore: Callable[..., Any] = mutant(_store._restore, edit)
    keep = mutant(InMemoryStore._keep, ast.NodeTransformer(), {"_restore": restore})
    return type("UnrestoringStore", (InMemoryStore,), {"_keep": keep})


UNKEPT_STORES: dict[str, tuple[type[InMemoryStore], str]] = {
    # name: (store, the write whose rollback it gets wrong). The first four and the last
    # survived the audit's tests of the store (tests/actors/test_atomic_steps.py included);
    # the other three that test catches too, and they are here to show this one does. The
    # last one only a direct caller sees: actors' driver never rolls back after a commit.
    "relation-unkept": (
        _store_with("save_matching_relation", _Drop("self._keep(")),
        "new relation",
    ),
    "promotions-unkept": (_store_with("set_promotions", _Drop("self._keep(")), "new promotions"),
    "outgoing-unkept": (_store_with("put_outgoing", _Drop("self._keep(")), "new outgoing push"),
    "pending-unkept": (
        _store_with("put_pending_push", _Drop("self._keep(")),
        "pending push replaced",
    ),
    "redelivery-undone": (
        _store_with("mark_delivered", _Flip("key not in self._delivered")),
        "delivered again",
    ),
    "removed-value-not-restored": (
        _restoring_with(_Drop("table[key] = old")),
        "pending push removed",
    ),
    "new-key-not-removed": (_restoring_with(_Flip("old is _ABSENT")), "new binding"),
    "commit-keeps-log": (_store_with("commit_step", _Drop("self._undo = None")), "new binding"),
}
