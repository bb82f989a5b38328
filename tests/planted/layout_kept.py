"""Planted: a checker's cells read through a layout that is never found again.

``TraceChecker`` finds once where its cells lie (each owner's attribute names) and reads
them through that layout; an owner that gains an attribute after its ``__init__`` (a fact
container made on first use) must be laid out again, or that container is in no state
and two states that differ only there merge. :func:`layout_kept_cells` keeps the first
layout. ``tests/scenarios/test_explore_monitor.py`` must tell.
"""

from __future__ import annotations

from typing import Any

from scenarios import TraceChecker

__all__ = ["layout_kept_cells"]


def layout_kept_cells(checker: TraceChecker) -> list[Any]:
    """``TraceChecker._cells``, without laying an owner out again when it grows."""
    layout = checker._laid_out()
    cells: list[Any] = []
    for attributes, getter in zip(layout.owners, layout.shape.getters, strict=True):
        cells += getter(attributes)  # the bug: an attribute set since is never read
    return cells
