"""Planted: a cloud whose ``_repair_push`` tests the table's answer against ``withheld``
instead of ``push-pending``, so it never re-arms a receipt's push (step 602 again) for a
re-sent upload: a store that lost a pending push (a per-write store, a partial backup)
is never mended, and the push is lost. A survivor of the mutation audit of the cloud (no
test in the fast or the wide selection saw it).

Made from the real method's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_lifecycle_cells.py`` catches it (the withheld receipt's repeated
upload must re-arm its push).
"""

from __future__ import annotations

import ast

from protocol import CloudMachine
from tests.planted.mutant import mutant

__all__ = ["UnrepairingCloud"]


class _Withheld(ast.NodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.Attribute:
        if node.attr == "PUSH_PENDING":
            node.attr = "WITHHELD"  # the bug: the answer is never withheld, so nothing is mended
        return node


class UnrepairingCloud(CloudMachine):
    """Never re-arms a push for a re-sent upload (the bug)."""

    _repair_push = mutant(CloudMachine._repair_push, _Withheld())
