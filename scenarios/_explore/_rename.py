"""Renamings of a symmetric world: the names of symmetric purchases swapped, in texts and in
values.

A renaming swaps the receipt ids, the phone ids and the shops of purchases that play the
same role (``docs/explore.md``, *Fingerprints and symmetry*). A fingerprint needs the
renamed *text* of a state's timers, messages and checker cells (:func:`text_renaming`) and
the renamed *value* of each party's snapshot (:class:`Renaming`: rebuilt with its texts
renamed, as the run with the names swapped would have made it, before its dicts and sets
are made canonical). A message digest is renamed through the text of the body it digests
(the explorer keeps each body's text by its digest).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from scenarios._trace._checks import text_digest

from ._snapshot import Interned, Snapshot

__all__ = ["Renaming", "text_renaming"]


def text_renaming(mapping: Mapping[str, str]) -> Callable[[str], str]:
    """The text rewriting that replaces each key of ``mapping`` by its value, at once.

    A name is replaced only where it stands whole: not next to a letter or digit, so
    renaming ``r-1`` leaves ``r-10`` alone (ids start and end with one, and texts join them
    with ``/``, ``:``, quotes or spaces)."""
    if all(k == v for k, v in mapping.items()):
        return str
    names = "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True))
    pattern = re.compile(f"(?<![A-Za-z0-9])(?:{names})(?![A-Za-z0-9])")

    def rename(text: str) -> str:
        return pattern.sub(lambda found: mapping[found.group(0)], text)

    return rename


_KEPT: frozenset[type] = frozenset({int, float, bool, type(None)})
_VALUES_KEPT = 200_000  # frozen values renamed, cached per renaming (each a few hundred bytes)
_TEXTS_KEPT = 200_000  # texts renamed, cached per renaming (names, and bodies of ~0.3 KB)


class Renaming:
    """One renaming as a function on values (``renaming(value)``): a text renamed, a
    container, a named tuple or an attrs instance rebuilt with its members renamed, a
    digest of a known body renamed through the body's text (``digests``: digest -> text,
    shared with the explorer, which adds every body it reads); numbers, enums and classes
    are kept. A value of another kind raises :class:`TypeError`: renaming it is not known
    to be sound."""

    def __init__(self, mapping: Mapping[str, str], digests: dict[bytes, str]) -> None:
        self.mapping = dict(mapping)
        self.text = text_renaming(self.mapping)
        self._digests = digests
        self._texts: dict[str, str] = {}
        # a frozen value (an attrs instance, an interned one) -> its renamed value, by
        # identity: a party's snapshots share their frozen values from step to step, so
        # each is renamed once, not once per snapshot that holds it
        self._values: dict[int, tuple[Any, Any]] = {}

    def __call__(self, value: Any) -> Any:
        cls = type(value)
        if cls is str:
            found = self._texts.get(value)
            if found is None:
                if len(self._texts) >= _TEXTS_KEPT:
                    self._texts.clear()  # a cache: a long search's memory is for its states
                found = self._texts[value] = self.text(value)
            return found
        if cls in _KEPT:
            return value
        if cls is tuple:
            return tuple([self(v) for v in value])
        if cls is list:
            return [self(v) for v in value]
        if cls is dict:
            return {self(k): self(v) for k, v in value.items()}
        if cls is set:
            return {self(v) for v in value}
        if cls is frozenset:
            return frozenset([self(v) for v in value])
        if cls is bytes:
            return self._digest(value)
        if cls is Interned:
            return self._kept(value, Interned)
        if cls is Snapshot:
            return Snapshot(self(value.value))
        if isinstance(value, enum.Enum | type):
            return value
        if isinstance(value, tuple):  # a named tuple, or a snapshot's tagged container
            items = [self(v) for v in value]
            return cls(*items) if hasattr(cls, "_fields") else cls(items)
        if isinstance(value, frozenset):
            return cls([self(v) for v in value])
        if attrs.has(cls):  # a message, a timer's key, a violation: its fields renamed
            return self._kept(value, cls)
        raise TypeError(f"cannot rename a {cls.__name__} for symmetry")

    def _kept(self, value: Any, cls: type) -> Any:
        """A frozen value renamed, once per object (kept alive by its entry, so that no
        other object takes its id meanwhile)."""
        known = self._values.get(id(value))
        if known is not None and known[0] is value:
            renamed = known[1]
            return renamed
        if cls is Interned:
            renamed = Interned(self(value.value))
        else:
            renamed = object.__new__(cls)
            for field in attrs.fields(cls):
                object.__setattr__(renamed, field.name, self(getattr(value, field.name)))
        if len(self._values) >= _VALUES_KEPT:
            self._values.clear()  # a cache: the memory of a long search is for its states
        self._values[id(value)] = (value, renamed)
        return renamed

    def _digest(self, digest: bytes) -> bytes:
        body = self._digests.get(digest)
        if body is None:
            return digest  # no body the explorer read: not a digest, kept as it is
        text = self.text(body)
        renamed = text_digest(text)
        self._digests.setdefault(renamed, text)
        return renamed
