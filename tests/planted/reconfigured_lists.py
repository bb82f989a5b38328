"""Planted: a pairing engine that writes the pairing lists its last refresh left
unwritten with the configuration of the moment they are first read, not the one of that
refresh (:meth:`PairingEngine._write_lists` without its swap to ``_unwritten_config``), so
a configuration changed after a refresh changes lists a question reads before the next.
Made from the real method's source (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_engine_unwritten_lists.py`` compares the lists and answers with an
engine that writes every list at its refresh and must catch it."""

from __future__ import annotations

import ast

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["ReconfiguredListsEngine"]


class _Reconfigured(ast.NodeTransformer):
    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if ast.unparse(node) == "config, self.config = (self.config, self._unwritten_config)":
            # the bug: the configuration of now, not the refresh's
            return ast.parse("config = self.config").body[0]
        return node


class ReconfiguredListsEngine(PairingEngine):
    _write_lists = mutant(PairingEngine._write_lists, _Reconfigured())
