"""A package's lazy names (PEP 562) with a planted bug: its table of homes files
``Pairing`` under the engine's class, so ``Pairing`` is another object than the one its
home module defines under that name (a one-word slip in a table of ~90 rows, seen only
where a user first reaches for the name). ``tests/scenarios/test_testing_plugin.py``
resolves every lazy package's public names, and catches this one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from protocol._reco._engine import EngineConfig, Pairing, PairingEngine

__all__ = ["EngineConfig", "Pairing", "PairingEngine"]

_HOMES: dict[str, tuple[str, str]] = {
    "EngineConfig": ("protocol._reco._engine", "EngineConfig"),
    "Pairing": ("protocol._reco._engine", "PairingEngine"),  # the bug: not "Pairing"
    "PairingEngine": ("protocol._reco._engine", "PairingEngine"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = home
    return getattr(importlib.import_module(module), attribute)
