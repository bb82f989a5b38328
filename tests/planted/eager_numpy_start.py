"""A command-line start with a planted bug: it imports the pairing engine (and so numpy) at
once, as ``protocol``'s ``__init__`` and the runner did before the engine's names were
imported when first used: every ``assocsim`` process paid numpy's import whether it paired
or not. ``tests/test_start_imports.py`` checks what a start imports, and that it catches
this one.
"""

from __future__ import annotations

import scenarios._cli._main
from protocol import PairingEngine

__all__ = ["PairingEngine", "scenarios"]
