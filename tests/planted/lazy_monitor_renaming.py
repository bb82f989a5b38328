"""Explorers with planted bugs in the renamed checker states kept as their origin alone
(``docs/explore.md``, "Speed").

Under symmetry a checker state that a renaming makes is not renamed cell by cell: it is
numbered as (the fed state it comes from, the renaming), its canonical forms are its
origin's permuted (its form under renaming ``r`` is its origin's under the renaming, then
``r``), and its verdict at a path's end is made from a renamed checker only when its
origin breaks a promise. :class:`UnpermutedTextsModel` gives a renamed state its origin's
canonical forms as they are (as if the renaming were the identity);
:class:`OriginVerdictModel` judges a renamed state by its origin's verdict lines, not
renamed. ``tests/scenarios/test_explore_symmetry.py`` must tell both.
"""

from __future__ import annotations

from scenarios._explore._model import ProtocolModel

__all__ = ["OriginVerdictModel", "UnpermutedTextsModel"]


class UnpermutedTextsModel(ProtocolModel):
    def _monitor_renamed(self, n: int, base: int) -> int:
        number = super()._monitor_renamed(n, base)
        self._monitor_texts[number] = self._monitor_texts[base]  # the bug: not permuted
        return number


class OriginVerdictModel(ProtocolModel):
    def _verdict(self, monitor: int) -> tuple[str, ...]:
        base, _ = self._monitor_origin[monitor]
        return super()._verdict(base)  # the bug: the origin's lines, in the origin's names
