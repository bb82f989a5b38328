"""Every list of a message body checked against its bound before any entry is structured.

A peer's list is read entry by entry into attrs instances (fast path, then the strict
converter on any doubt), and only the finished message's validator saw its length: a
4 MiB upload of 31k valid items took 270 ms to refuse, building 62k items (issue 14).
The bounds are the messages' own (the ``MAX_ENTRIES`` metadata of each list field, which
its validator enforces too), so the two checks never disagree.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

import attrs

from protocol._core._errors import RemoteProtocolError
from protocol._core._messages import MAX_ENTRIES

ListBounds = tuple[tuple[str, int], ...]
"""(field name, most entries) for each list field of a message class."""


def list_bounds(cls: type[Any]) -> ListBounds:
    """The bounded list fields of the message class ``cls``.

    Raises ``TypeError`` for a list field without a bound, or a list inside a nested class
    (which a check of the body's own keys would not reach): every list a peer sends must be
    refused by its length before it is read.
    """
    bounds = []
    for field in attrs.fields(cls):
        type_ = typing.get_type_hints(cls)[field.name]
        if typing.get_origin(type_) is tuple:
            if MAX_ENTRIES not in field.metadata:
                raise TypeError(f"{cls.__name__}.{field.name}: a list without MAX_ENTRIES")
            bounds.append((field.name, int(field.metadata[MAX_ENTRIES])))
            type_ = typing.get_args(type_)[0]
        if attrs.has(type_) and list_bounds(type_):
            raise TypeError(f"{cls.__name__}.{field.name}: a list inside a nested class")
    return tuple(bounds)


def bounds_of(classes: Iterable[tuple[str, type[Any]]]) -> dict[str, ListBounds]:
    """Wire type name -> its list bounds, for the classes that have lists."""
    return {name: bounds for name, cls in classes if (bounds := list_bounds(cls))}


def refuse_long_lists(name: str, cls_name: str, bounds: ListBounds, body: dict[str, Any]) -> None:
    """Raise :class:`RemoteProtocolError` if a list of ``body`` (of wire type ``name``) has
    more entries than its bound; the message reads as the validator's would."""
    for key, most in bounds:
        value = body.get(key)
        if isinstance(value, list | tuple) and len(value) > most:
            raise RemoteProtocolError(
                f"{name}: {cls_name}.{key}: {len(value)} entries, at most {most}"
            )
