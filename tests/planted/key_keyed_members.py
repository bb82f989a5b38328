"""An explorer with a planted bug: a checker table's member (a (key, record) item)
given the canonical form cached for its key alone, not for the whole member.

Under symmetry :class:`~scenarios._explore._model.ProtocolModel` makes a set cell's
canonical form from its members' forms, each made once per distinct member and found
again by value (``_member_renamed``). :class:`KeyKeyedMembersModel` finds them by the
member's key (a receipt, a phone): the first record a receipt had stands for every later
one, so checker states that differ in it share a fingerprint.
``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from collections.abc import Hashable

from scenarios._explore._model import ProtocolModel, _canon_renamed

__all__ = ["KeyKeyedMembersModel"]


class KeyKeyedMembersModel(ProtocolModel):
    def _member_renamed(self, member: Hashable) -> tuple[int, ...]:
        key = member[0] if isinstance(member, tuple) and member else member  # the bug
        found = self._member_forms.get(key)
        if found is None:
            digests = self._digest_texts
            found = self._member_forms[key] = tuple(
                [hash(_canon_renamed(member, rename, digests)) for rename in self._atom_renamings]
            )
        return found
