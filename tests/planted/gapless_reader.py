"""Planted bug for the bounded trace (tests/scenarios/test_trace_gap.py): a trace reader
that passes over the gap record a bounded writer ends with, so a checker reading through
it judges a cut trace as if it were whole (and may say all clear)."""

from __future__ import annotations


def ignore_gap(self: object, record: object) -> None:
    """``TraceReader._refuse_gap`` that refuses nothing."""
