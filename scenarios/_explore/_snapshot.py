"""Compact, hashable snapshots of a machine's attributes, and back.

A search keeps millions of states, so it never deep-copies a machine: it freezes the
machine's attributes into tuples and frozensets (hashable, so they fingerprint) and,
before a step, thaws them into the one live machine of that party. Frozen values
(messages, effects, attrs frozen classes, strings, numbers) are shared, not copied.

Containers are tagged by type so they come back as they were: a dict as :class:`_Dict`
(its items in insertion order: the store's orders matter to a restart), a list as
:class:`_List`, a set as :class:`_Set`, a plain object (an outbox) as :class:`_Obj` and
a mutable attrs instance with slots as :class:`_Slots`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Any

import attrs

__all__ = ["Dict", "Snapshot", "freeze", "freeze_attributes", "thaw", "thaw_attributes"]


class _Dict(tuple):  # type: ignore[type-arg]
    __slots__ = ()


Dict = _Dict
"""The snapshot of a dict: its items, in insertion order."""


class _List(tuple):  # type: ignore[type-arg]
    __slots__ = ()


class _Set(frozenset):  # type: ignore[type-arg]
    __slots__ = ()


class _Obj(tuple):  # type: ignore[type-arg]
    """(class, attribute items)"""

    __slots__ = ()


class _Slots(tuple):  # type: ignore[type-arg]
    """(class, field values)"""

    __slots__ = ()


class Snapshot:
    """A party's frozen attributes with their hash computed once: a state's fingerprint
    hashes every party, and all but one are unchanged from the parent state."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Snapshot) and self._hash == other._hash and self.value == other.value
        )

    def __repr__(self) -> str:
        return f"Snapshot({self.value!r})"


_ATOMS = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """A hashable snapshot of ``value`` (see the module doc)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return _Dict((k, freeze(v)) for k, v in value.items())
    if kind is list:
        return _List(freeze(v) for v in value)
    if kind is set:
        return _Set(value)  # set members are hashable already
    if isinstance(value, tuple):  # a tuple or a named tuple (a ReceiptKey)
        return value if _hashable(value) else tuple(freeze(v) for v in value)
    if attrs.has(kind):
        if _is_frozen(kind):
            return value  # a frozen value (a message, a timer key): immutable, shared
        fields = attrs.fields(kind)
        return _Slots((kind, tuple(freeze(getattr(value, f.name)) for f in fields)))
    if isinstance(value, enum.Enum | frozenset | bytes):
        return value
    if hasattr(value, "__dict__"):
        return _Obj((kind, freeze_attributes(value, ())))
    raise TypeError(f"cannot snapshot a {kind.__name__} for exploration")


def thaw(value: Any) -> Any:
    """A fresh mutable copy of what :func:`freeze` made."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is _Dict:
        return {k: thaw(v) for k, v in value}
    if kind is _List:
        return [thaw(v) for v in value]
    if kind is _Set:
        return set(value)
    if kind is _Obj:
        cls, items = value
        obj = cls.__new__(cls)
        thaw_attributes(obj, items)
        return obj
    if kind is _Slots:
        cls, values = value
        obj = cls.__new__(cls)
        for field, v in zip(attrs.fields(cls), values, strict=True):
            object.__setattr__(obj, field.name, thaw(v))
        return obj
    if kind is tuple:
        return tuple(thaw(v) for v in value)
    return value


def freeze_attributes(obj: object, skip: Collection[str]) -> tuple[tuple[str, Any], ...]:
    """``obj``'s attributes but ``skip``, frozen, in a fixed order."""
    return tuple((k, freeze(v)) for k, v in vars(obj).items() if k not in skip)


def thaw_attributes(obj: object, items: tuple[tuple[str, Any], ...]) -> None:
    """Put the attributes :func:`freeze_attributes` took back into ``obj``."""
    attributes = vars(obj)
    for k, v in items:
        attributes[k] = thaw(v)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


_FROZEN: dict[type, bool] = {}


def _is_frozen(cls: type) -> bool:
    """An attrs class whose instances cannot change (``@attrs.frozen``): hashable."""
    frozen = _FROZEN.get(cls)
    if frozen is None:
        frozen = (
            getattr(cls, "__hash__", None) is not None
            and getattr(cls, "__setattr__", None) is not object.__setattr__
        )
        _FROZEN[cls] = frozen
    return frozen
