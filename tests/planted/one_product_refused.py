"""Planted: a :class:`~protocol.CloudConfig` that refuses ``max_products=1`` and a
:class:`~protocol.RetryPolicy` that refuses ``max_attempts=1`` (each one's
``whole_number(1)`` minimum made 2), survivors of the mutation audit of the cloud and the
outbox: the config tests refused 0 and a float but never accepted the smallest valid
value, so a scenario asking for one associated product, or for one send and no re-send,
would stop at its start.

Made from the real class's source with that one edit (:func:`tests.planted.mutant.mutant`).
``tests/protocol/test_machines_mutants.py`` catches it.
"""

from __future__ import annotations

import ast
from typing import cast

from protocol import CloudConfig, RetryPolicy
from tests.planted.mutant import mutant

__all__ = ["OneProductRefusedConfig", "OneSendRefusedPolicy"]


class _MinimumTwo(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "whole_number":
            node.args = [ast.Constant(2)]  # the bug: one product is refused
        return node


OneProductRefusedConfig = cast(type[CloudConfig], mutant(CloudConfig, _MinimumTwo()))
OneSendRefusedPolicy = cast(type[RetryPolicy], mutant(RetryPolicy, _MinimumTwo()))
