"""An explorer with a planted bug: a snapshot attribute's canonical form cached by the
attribute's name alone, not by its value.

Under symmetry :class:`~scenarios._explore._model.ProtocolModel` makes a party
snapshot's canonical form from its attributes' forms, each made once per distinct
(name, value) and found again by value (``_attributes_renamed``).
:class:`NameKeyedFormsModel` finds them by name: the first value an attribute had stands
for every later one, so states that differ in it share a fingerprint.
``tests/scenarios/test_explore_symmetry.py`` must tell.
"""

from __future__ import annotations

from typing import Any

from scenarios._explore._model import ProtocolModel, _canon_value

__all__ = ["NameKeyedFormsModel"]


class NameKeyedFormsModel(ProtocolModel):
    def _attributes_renamed(self, items: tuple[tuple[str, Any], ...], n: int) -> tuple[int, ...]:
        memo: dict[Any, int] = self._attribute_forms[n]
        forms = []
        for item in items:
            form = memo.get(item[0])  # the bug: keyed by the attribute's name
            if form is None:
                form = memo[item[0]] = hash(_canon_value(item, self._names[n]))
            forms.append(form)
        return tuple(forms)
