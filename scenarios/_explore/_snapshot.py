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

__all__ = ["Dict", "Interned", "Snapshot", "freeze", "freeze_attributes", "thaw", "thaw_attributes"]


class _Dict(tuple[Any, ...]):
    __slots__ = ()


Dict = _Dict
"""The snapshot of a dict: its items, in insertion order."""


class _List(tuple[Any, ...]):
    __slots__ = ()


class _Set(frozenset[Any]):
    __slots__ = ()


class _Obj(tuple[Any, ...]):
    """(class, attribute items)"""

    __slots__ = ()


class _Slots(tuple[Any, ...]):
    """(class, field values)"""

    __slots__ = ()


class Snapshot:
    """A party's frozen attributes with their hash computed once: a state's fingerprint
    hashes every party, and all but one are unchanged from the parent state."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        try:
            self._hash = hash(value)
        except TypeError as exc:
            raise TypeError(f"a party's state holds a value that cannot be hashed: {exc}") from None

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Snapshot) and self._hash == other._hash and self.value == other.value
        )

    def __repr__(self) -> str:
        return f"Snapshot({self.value!r})"


_ATOMS: frozenset[type] = frozenset({str, int, float, bool, type(None)})

_SHARE, _DICT, _LIST, _SET, _SLOTS, _OBJ, _INTERN = range(7)
_KINDS: dict[type, int] = dict.fromkeys(_ATOMS, _SHARE)
_KINDS.update({dict: _DICT, list: _LIST, set: _SET})


def _kind_of(cls: type) -> int:
    """How :func:`freeze` takes a value of ``cls`` (decided once per class)."""
    kind = _KINDS.get(cls)
    if kind is None:
        if issubclass(cls, tuple | frozenset | bytes | enum.Enum):
            kind = _SHARE  # immutable (a tuple's members are checked when it is hashed)
        elif attrs.has(cls):
            kind = _INTERN if _is_frozen(cls) else _SLOTS
        elif hasattr(cls, "__dict__") and cls.__init__ is not object.__init__:
            kind = _OBJ
        else:
            raise TypeError(f"cannot snapshot a {cls.__name__} for exploration")
        _KINDS[cls] = kind
    return kind


class Interned:
    """A frozen value with its hash computed once (attrs values recompute theirs at every
    ``hash``, and a message's products are many)."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Interned) and self._hash == other._hash and self.value == other.value
        )

    def __repr__(self) -> str:
        return repr(self.value)


# id -> its Interned, each value kept alive by its entry (so no id is reused meanwhile)
_INTERNED: dict[int, Interned] = {}
_INTERNED_KEPT = 500_000


def freeze(value: Any) -> Any:
    """A hashable snapshot of ``value`` (see the module doc)."""
    cls = type(value)
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _kind_of(cls)
    if kind == _SHARE:
        return value  # atoms, tuples, enums: immutable, shared
    if kind == _INTERN:  # a frozen attrs value (a message, a delivery): shared, hashed once
        interned = _INTERNED.get(id(value))
        if interned is None:
            if len(_INTERNED) > _INTERNED_KEPT:
                _INTERNED.clear()
            interned = _INTERNED[id(value)] = Interned(value)
        return interned
    if kind == _DICT:
        return _Dict([(k, freeze(v)) for k, v in value.items()])
    if kind == _LIST:
        return _List([freeze(v) for v in value])
    if kind == _SET:
        return _Set(value)  # set members are hashable already
    if kind == _SLOTS:
        fields = attrs.fields(cls)
        return _Slots((cls, tuple([freeze(getattr(value, f.name)) for f in fields])))
    return _Obj((cls, freeze_attributes(value, ())))


def thaw(value: Any) -> Any:
    """A fresh mutable copy of what :func:`freeze` made."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is _Dict:
        return {k: thaw(v) for k, v in value}
    if kind is _List:
        return [thaw(v) for v in value]
    if kind is Interned:
        return value.value
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
    return tuple([(k, freeze(v)) for k, v in vars(obj).items() if k not in skip])


def thaw_attributes(obj: object, items: tuple[tuple[str, Any], ...]) -> None:
    """Put the attributes :func:`freeze_attributes` took back into ``obj``."""
    attributes = vars(obj)
    for k, v in items:
        attributes[k] = thaw(v)


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
