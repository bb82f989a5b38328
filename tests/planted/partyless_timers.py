"""Planted: the explorer's cache of armed timers keyed without the restarted party.

:class:`~scenarios._explore._model.ProtocolModel` keeps the timers armed after a move by
(the party if the move restarted it, the move's cancels and arms, the timers before): a
restart drops the restarted party's timers, so which party restarted is part of the key.
:class:`PartylessTimersModel` keys it by whether the move restarted a party, not which:
one party's restart then reuses another's timers, and the search visits other states.
``tests/scenarios/test_explore_speed.py`` must tell.
"""

from __future__ import annotations

from scenarios._explore import _model
from scenarios._explore._model import ProtocolModel, WorldState

__all__ = ["PartylessTimersModel"]


class PartylessTimersModel(ProtocolModel):
    def _child(  # noqa: PLR0917 - the same signature as the method it replaces
        self,
        state: WorldState,
        actor: int,
        move: _model._Move,
        now: float,
        network: tuple[int, ...],
        timers: frozenset[int],
        budgets: tuple[int, int, int],
    ) -> WorldState:
        if move.restarted or move.cancels or move.arms:
            timed = (int(move.restarted), move.cancels, move.arms, timers)  # the bug
            found = self._timed_moves.get(timed)
            if found is None:
                found = self._timed_moves[timed] = self._timed(actor, move, timers)
            timers = found
        # the rest as the model does it, with the timers already armed
        plain = move._replace(restarted=False, cancels=(), arms=())
        return super()._child(state, actor, plain, now, network, timers, budgets)
