"""Planted: a report builder that takes a receipt's record by its id alone.

:class:`~scenarios.ReportBuilder` finds a message's receipt record with one probe of the
receipt id, then checks the record's merchant: receipt ids are unique within a merchant
only, so shop-02's R1 is another receipt than shop-01's R1 (kept apart in ``_by_key``).
:class:`MerchantBlindReceipts` is the builder with that check left out of ``sent`` and
``received`` (made from their own source, :func:`tests.planted.mutant.mutant`: ``record is
None or record[_R_MERCHANT] != ...`` made ``record is None``), so the second merchant's
events land on the first's record. ``tests/actors/test_sink.py`` must catch it on a run
whose merchants number their receipts alike.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from scenarios import ReportBuilder
from tests.planted.mutant import mutant

__all__ = ["MerchantBlindReceipts"]


class _IdAlone(ast.NodeTransformer):
    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        first = node.values[0]
        if (
            isinstance(node.op, ast.Or)
            and isinstance(first, ast.Compare)
            and isinstance(first.ops[0], ast.Is)
            and ast.unparse(first) == "record is None"
        ):
            return first  # the bug: the merchant is not checked
        return node


_sent: Callable[..., Any] = mutant(ReportBuilder.sent, _IdAlone())
_received: Callable[..., Any] = mutant(ReportBuilder.received, _IdAlone())


class MerchantBlindReceipts(ReportBuilder):
    sent = _sent
    received = _received
