"""An explorer with a planted bug: its cache of symmetric fingerprints forgets the monitor.

:class:`~scenarios._explore._model.ProtocolModel` caches a state's symmetric fingerprint by
the hash of the state's key *and* the number of its monitor's state (``assocsim check``'s
checker after the path), since the fingerprint is the product's.
:class:`MonitorlessFingerprintsModel` keys that same cache by the state's key alone, so
two paths into one world state with different monitor states get the first one's
fingerprint and merge: the search visits fewer states than the product has.
``tests/scenarios/test_explore_speed.py`` must tell.
"""

from __future__ import annotations

from scenarios._explore._model import ProtocolModel, WorldState

__all__ = ["MonitorlessFingerprintsModel"]


class MonitorlessFingerprintsModel(ProtocolModel):
    def _product(self, state: WorldState) -> int:
        return hash(state.key)  # the bug: only the world's key, the monitor dropped
