"""Planted: the explorer skips transitions that mirror others in states whose *world* a
renaming maps onto itself, whatever the checker's state.

:class:`~scenarios._explore._model.ProtocolModel` counts without computing a transition
that mirrors an earlier one of its state only when a renaming maps the whole product's
state onto itself: the world's state and ``assocsim check``'s checker state after the
path (``docs/explore.md``, *Mirrored transitions*). :class:`WorldlyMirrorsModel` asks it
of the world's state alone, so in a state whose world is symmetric but whose checker has
seen one purchase's history and not its mirror's, a transition whose state is not a
mirror of one visited is skipped, and the search misses states.
``tests/scenarios/test_explore_mirrors.py`` must tell.
"""

from __future__ import annotations

from typing import Any

from scenarios._explore._model import ProtocolModel, WorldState

__all__ = ["WorldlyMirrorsModel"]


class _EveryMonitor(set[int]):
    """Every checker state, as if some renaming kept each."""

    def __contains__(self, number: object) -> bool:
        return True


class WorldlyMirrorsModel(ProtocolModel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mirrored_monitors = _EveryMonitor()  # the bug, too: the checker's state ignored

    def _least(self, state: WorldState) -> int:
        found = super()._least(state)
        hashes = self._renamed(state.key)  # the bug: the checker's state left out
        if hashes.count(hashes[0]) > 1:
            self._stabilizers[self._product(state)] = tuple(
                [n for n in range(1, len(hashes)) if hashes[n] == hashes[0]]
            )
        else:
            self._stabilizers.pop(self._product(state), None)
        return found
