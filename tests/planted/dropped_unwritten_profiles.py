"""Planted: a pairing engine whose refresh drops the phone profiles the last refresh left
unwritten instead of writing those of the phones not learned since (the
``self._write_profiles(superseded=...)`` call of :meth:`PairingEngine._write_unread`,
which a refresh starts with, replaced by forgetting them), so a phone that bought in one
refresh period and not in the next keeps a profile older than the last refresh that
changed it (or none). Made from the real method's source
(:func:`tests.planted.mutant.mutant`). ``tests/protocol/test_engine_unwritten_lists.py``
compares the profiles and answers with an engine that writes every profile at its
refresh and must catch it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from protocol import PairingEngine
from tests.planted.mutant import mutant

__all__ = ["DroppedUnwrittenProfilesEngine"]


class _Dropped(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if ast.unparse(node).startswith("self._write_profiles(superseded="):
            # the bug: the unwritten profiles are dropped, not written
            return ast.parse("self._unwritten_phones = []").body[0]
        return node


class DroppedUnwrittenProfilesEngine(PairingEngine):
    _write_unread: Callable[..., Any] = mutant(PairingEngine._write_unread, _Dropped())
