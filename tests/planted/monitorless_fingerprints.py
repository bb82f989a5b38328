"""An explorer with a planted bug: its cache of symmetric fingerprints forgets the monitor.

:class:`~scenarios._explore._model.ProtocolModel` caches a state's symmetric fingerprint by
the state's key *and* the number of its monitor's state (``assocsim check``'s checker after
the path), since the fingerprint is the product's. :class:`MonitorlessFingerprintsModel`
keys that same cache by the state's key alone, so two paths into one world state with
different monitor states get the first one's fingerprint and merge: the search visits
fewer states than the product has. ``tests/scenarios/test_explore_speed.py`` must tell.
"""

from __future__ import annotations

from typing import Any

from scenarios._explore._model import ProtocolModel

__all__ = ["MonitorlessFingerprintsModel"]


class _ByKeyAlone(dict[Any, tuple[int, int]]):
    """The model's cache, keyed by (key, monitor), with the monitor dropped (its values:
    the fingerprint and the renaming that gives it)."""

    def get(self, product: Any, default: Any = None) -> Any:
        return super().get(product[0], default)  # the bug: only the world's key

    def __setitem__(self, product: Any, fingerprint: tuple[int, int]) -> None:
        super().__setitem__(product[0], fingerprint)


class MonitorlessFingerprintsModel(ProtocolModel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fingerprints = _ByKeyAlone()
