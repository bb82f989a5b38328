"""A planted bug: the storeless shortcut taken for a machine that keeps a store.

An inline world's actor calls a storeless machine's handlers directly, without
``run_step`` (a595cc8). :class:`StorelessStoreSteps` takes that shortcut for every
machine, as if the actor tested the wrong attribute: a step that raises half-way keeps
its first writes. ``tests/actors/test_driver_review.py`` must catch it.
"""

from __future__ import annotations

from typing import Any

from actors import Actor

__all__ = ["StorelessStoreSteps"]


class StorelessStoreSteps(Actor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._store = None  # BUG: the steps of a machine with a store run unwrapped
