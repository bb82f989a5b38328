"""Planted bug for the merge of a field trial's traces (tests/scenarios/test_merge_untraced.py):
a merge that takes whatever traces it is given for the whole trial, as it once did. Merged
without the POS's trace, the cloud's and the phones' passed ``assocsim check``: what only
the POS records (each upload's acknowledgement received) was judged by nothing."""

from __future__ import annotations

from collections.abc import Mapping


def trust(heard: Mapping[str, object], own: set[str]) -> list[str]:
    """``scenarios._trace._reader.untraced`` that finds every process traced."""
    return []
