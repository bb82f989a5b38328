"""An explorer with a planted bug: its memo of moves forgets the time.

:class:`~scenarios._explore._model.ProtocolModel` reuses a party's move (its snapshot after
the step, the events, timers and sends) for every state where that party, in the same
snapshot, gets the same input *at the same time*. :class:`TimelessMemoModel` keys the
move without the time, so a timer armed relative to the first time a move was computed
is reused at later times: the search then visits other states than a search that steps
every machine. ``tests/scenarios/test_explore_speed.py`` must tell.
"""

from __future__ import annotations

from collections.abc import Hashable

from scenarios._explore._model import ProtocolModel

__all__ = ["TimelessMemoModel"]


class TimelessMemoModel(ProtocolModel):
    def _memo_key(self, kind: str, actor: int, snap: int, what: Hashable, now: float) -> Hashable:
        return (kind, actor, snap, what)  # the bug: the time left out
