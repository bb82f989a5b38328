"""Planted bug for ``assocsim check`` and ``find`` (tests/scenarios/test_check_cut_run.py):
tools that do not compare a run's trace with the purchases its header plans, as they once
did not. A run's trace has no gap record, so a trace cut before the run's first purchase
(the header alone, or its first promotions) broke no promise yet and was judged all
clear (find: nothing found)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def never_cut(header: Mapping[str, Any], receipts: int) -> str | None:
    """``scenarios._trace._reader.cut_run`` that finds no trace cut."""
    return None
