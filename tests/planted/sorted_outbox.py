"""Planted: an outbox that lists what waits sorted by key, not in the order sent.

``Outbox`` iterates over a snapshot of its waiting keys in the order they were sent (a
restarted machine re-sends them in that order). :class:`SortedOutbox` sorts them: with keys
sent in alphabetical order nothing tells. ``tests/protocol/test_outbox.py`` must.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from protocol.lowlevel import Outbox

__all__ = ["SortedOutbox"]


class SortedOutbox(Outbox):
    def __iter__(self) -> Iterator[Hashable]:
        return iter(sorted(super().__iter__(), key=str))  # the bug
