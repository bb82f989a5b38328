"""Planted: ``bench/explore.py --split`` leaving the checker's moves warm.

:func:`split` times a second search over the same model with one kind's caches emptied
and calls the difference that kind's first-time work. :func:`warm_checker_forget` empties
only the quiet states' verdicts for the checker's kind and keeps its moves, states and
parsed events: the second search then feeds no checker at all and the split would report
the checker's first-time work as nearly free. ``tests/scenarios/test_explore_split.py``
must tell.
"""

from __future__ import annotations

from typing import Any


def warm_checker_forget(forget: Any, model: Any, kind: str, built: tuple[int, int]) -> None:
    """``forget`` (the bench's ``_forget``), but the checker's caches kept for its kind."""
    if kind == "checker":
        model._verdicts.clear()  # the bug: the rest of the checker's work stays cached
        return
    forget(model, kind, built)
