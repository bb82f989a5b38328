"""A function rebuilt from its own source with one AST edit: a planted bug that stays in
step with the real function (no copy of it to keep up to date)."""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["mutant"]


def mutant(
    function: Callable[..., Any],
    edit: ast.NodeTransformer,
    names: Mapping[str, Any] | None = None,
) -> Callable[..., Any]:
    """*function* with *edit* applied to its source, defined in its own module's names
    (those in *names* replaced: a function calling a planted helper)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    tree = ast.fix_missing_locations(edit.visit(tree))
    module = sys.modules[function.__module__]
    namespace = dict(vars(module))
    namespace.update(names or {})
    exec(compile(tree, inspect.getfile(function), "exec"), namespace)
    made: Callable[..., Any] = namespace[function.__name__]
    return made
