"""The choices of ``assocsim reco eval`` (its splits and histories), apart from the
evaluation: the command line's parser is built at every ``assocsim`` start, and the
evaluation imports numpy."""

from __future__ import annotations

__all__ = ["HISTORIES", "SPLITS"]

SPLITS = ("time", "random")
HISTORIES = ("train", "growing")
