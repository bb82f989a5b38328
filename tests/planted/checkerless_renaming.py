"""An explorer with a planted bug: its symmetric fingerprints rename the world but not the
checker.

Under symmetry :class:`~scenarios._explore._model.ProtocolModel` merges a state with its
mirrors: its fingerprint is the least hash, over the renamings, of the canonical form of
the machines' snapshots, the timers, the messages in flight *and* the state of
``assocsim check``'s checker, each renamed by the same renaming (``docs/explore.md``,
*Fingerprints and symmetry*). :class:`CheckerlessRenamingModel` renames the world but
keeps the checker's form in its own names, so a state merges with the mirror of its world
joined to a checker that is not the mirror's: two histories the checker tells apart become
one. ``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from collections.abc import Sequence

from scenarios._explore._model import ProtocolModel

__all__ = ["CheckerlessRenamingModel"]


class CheckerlessRenamingModel(ProtocolModel):
    def _renamed(self, key: tuple[object, ...], monitor: Sequence[int] | None = None) -> list[int]:
        if monitor is not None:
            monitor = [monitor[0]] * len(monitor)  # the bug: the checker's form not renamed
        return super()._renamed(key, monitor)
