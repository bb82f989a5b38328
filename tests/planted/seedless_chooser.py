"""A discovery-rule chooser with a planted bug, for ``tests/scenarios/test_reco_scorer.py``:
it tries only the rules taking the best alternative and skips the seeded ones, so the
eval would never keep a seeded rule whatever the validation slice shows. On the Complete
Journey excerpt that changes nothing (no rule reaches the gain), so only the scripted
answers where a seeded rule is the one to keep can tell it from the real chooser. Made
from :func:`scenarios._reco._scorer.choose_discovery`'s own source
(:func:`tests.planted.mutant.mutant`: ``if rule[2]: continue`` first in its loop), so it
stays in step with it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from scenarios._reco._scorer import choose_discovery
from tests.planted.mutant import mutant

__all__ = ["seedless_chooser"]


class _Seedless(ast.NodeTransformer):
    def visit_For(self, node: ast.For) -> ast.For:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name) and node.target.id == "rule":
            seeded = ast.Subscript(ast.Name("rule", ast.Load()), ast.Constant(2), ast.Load())
            # the bug: the seeded rules are never tried
            node.body.insert(0, ast.If(seeded, [ast.Continue()], []))
        return node


seedless_chooser: Callable[..., Any] = mutant(choose_discovery, _Seedless())
