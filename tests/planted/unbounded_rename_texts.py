"""Planted: a renaming whose cache of renamed texts is never trimmed.

:class:`~scenarios._explore._rename.Renaming` caches each text it renames (a checker
cell's names, a body's text under its digest); a long search passes hundreds of thousands
of distinct texts through it, once per renaming, so the cache is cleared at
``_TEXTS_KEPT`` like every other cache of the explorer. :class:`UnboundedTextsRenaming`
keeps every text; ``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from typing import Any

from scenarios._explore._rename import Renaming

__all__ = ["UnboundedTextsRenaming"]


class UnboundedTextsRenaming(Renaming):
    def __call__(self, value: Any) -> Any:
        if type(value) is str:
            found = self._texts.get(value)
            if found is None:
                found = self._texts[value] = self.text(value)  # the bug: never cleared
            return found
        return super().__call__(value)
