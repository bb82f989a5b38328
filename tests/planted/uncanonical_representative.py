"""Explorers with planted bugs in exploring from representatives (``docs/explore.md``,
"Speed").

:class:`AsReachedModel`'s representative of a state is the state as it was reached, not
its canonical one: two symmetric states are then explored each in its own names, and
the checker's transitions are paid once per state rather than once per class of them.
:class:`UnrenamedEventsModel` moves a renamed checker state by feeding a transition's
events as they are to the state it was renamed from, instead of the events renamed back:
the checker then reads one purchase's events against the other's facts.
``tests/scenarios/test_explore_symmetry.py`` must tell both.
"""

from __future__ import annotations

from typing import Any

from scenarios._explore._model import ProtocolModel, WorldState

__all__ = ["AsReachedModel", "UnrenamedEventsModel"]


class AsReachedModel(ProtocolModel):
    def representative(self, state: WorldState) -> WorldState:
        return state  # the bug: not renamed to the canonical form


class UnrenamedEventsModel(ProtocolModel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inverse = (0,) * len(self._inverse)  # the bug: events not renamed back
