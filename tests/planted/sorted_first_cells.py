"""Planted: a checker cell's canonical text with its sets sorted before its texts are
renamed.

Under symmetry a state's fingerprint holds, per renaming, the canonical text of each of
the checker's cells renamed (``scenarios/_explore/_model.py``, ``_canon_renamed``): texts
renamed first, sets sorted after, so a cell renamed reads as the cell of the checker fed
the renamed trace. :func:`sorted_first_canon` sorts first: a renamed set keeps its own
names' order, and a state and its mirror no longer share a fingerprint.
``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scenarios._explore._model import _canon_renamed

__all__ = ["sorted_first_canon"]


def sorted_first_canon(value: Any, rename: Callable[[str], str], digests: dict[bytes, str]) -> str:
    """``_canon_renamed``, but the cell's text made in its own names, then renamed."""
    return rename(_canon_renamed(value, str, digests))  # the bug: sorted before renamed
