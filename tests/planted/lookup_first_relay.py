"""Planted: a TCP server that looks the recipient up before it asks the relay policy (the
order before the reviewer's finding S1). A message the policy refuses gets ``unauthorized``
if the recipient is connected and silence if not, so anyone, even a token-less enrolling
phone, learns which numbers are online (a presence oracle).

Made from the real :meth:`_ServerSide._relay` with its policy check moved after the
lookup (:func:`tests.planted.mutant.mutant`). ``tests/scenarios/test_threat_model.py``
catches it.
"""

from __future__ import annotations

import ast

from actors._tcp_server_side import _ServerSide
from tests.planted.mutant import mutant

__all__ = ["lookup_first_relay"]


class _LookupFirst(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        body = node.body
        policy = next(
            i
            for i, s in enumerate(body)
            if isinstance(s, ast.If) and "may_relay(" in ast.unparse(s)
        )
        lookup = next(
            i
            for i, s in enumerate(body)
            if isinstance(s, ast.Assign) and ast.unparse(s).startswith("target = ")
        )
        assert lookup == policy + 1, "the real _relay changed: update the plant"
        # the bug: the lookup and its early return first, then the policy
        node.body = [
            *body[:policy],
            body[lookup],
            body[lookup + 1],
            body[policy],
            *body[lookup + 2 :],
        ]
        return node


lookup_first_relay = mutant(_ServerSide._relay, _LookupFirst())
"""``_ServerSide._relay`` with the lookup before the policy (the bug)."""
