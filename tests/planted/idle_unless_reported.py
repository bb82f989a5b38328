"""Planted: a report builder that takes every message class its own figures do not read
as idle.

:class:`~scenarios.ReportBuilder` returns from ``sent`` and ``received`` at once on a
message class whose dispatch entry does nothing (``_IDLE``: no ledger handler, no handler
of the report's own, no receipt named: the acknowledgements once the ledger is reliable).
This one is its ``__init__`` made from its own source (:func:`tests.planted.mutant.mutant`)
with a helper that also takes as idle an entry with only the ledger's handler: the cloud's
``upload-ack`` and ``subscribe-ack`` are then never folded, no upload is bound and no phone
subscribed, so nothing is owed and a cloud that never delivers is judged all clear.
``tests/scenarios/test_report_shortcuts.py`` must tell it apart.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from scenarios import ReportBuilder
from scenarios._sim._report import _IDLE
from tests.planted.mutant import mutant

__all__ = ["IdleUnlessReported"]


def _idle_unless_reported(entry: Any) -> Any:
    return _IDLE if entry[1] is None else entry  # the bug: the ledger's handler dropped


# The source unchanged (no edit), its helper replaced:
_init: Callable[..., Any] = mutant(
    ReportBuilder.__init__, ast.NodeTransformer(), {"_idle_as_such": _idle_unless_reported}
)


class IdleUnlessReported(ReportBuilder):
    __init__ = _init
