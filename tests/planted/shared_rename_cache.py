"""Planted: the renamed frozen values cached once for every renaming, not per renaming.

A :class:`~scenarios._explore._rename.Renaming` renames each frozen value of a party's
snapshot (an attrs instance, an interned message) once and keeps the result by the
value's identity, since snapshots share those values from step to step. A cache shared
by all the renamings (as a module-level one would be) hands the swap what the identity
made of a value, so a state's mirror gets its own names back and no longer shares its
fingerprint. ``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenarios._explore._rename import Renaming

_EVERY_RENAMINGS: dict[int, tuple[Any, Any]] = {}


class SharedCacheRenaming(Renaming):
    """:class:`Renaming`, but its cache of renamed values is every instance's."""

    def __init__(self, mapping: Mapping[str, str], digests: dict[bytes, str]) -> None:
        super().__init__(mapping, digests)
        self._values = _EVERY_RENAMINGS  # the bug: one cache for every renaming
