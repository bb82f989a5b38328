"""A checker's digest cache with a planted bug: a body's digest cached by the body's id
alone, the body not kept alive nor compared.

``scenarios/_trace/_checks.py`` caches each message body's digest by the body's
identity and keeps the body alive in the entry, so that no other body takes its id while
the entry lasts. :func:`id_keyed_digest` forgets both: once a body is dropped, the next
body given its memory gets the old one's digest (an upload's content or a timeout push
judged by another's). ``tests/scenarios/test_checks.py`` must tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenarios._trace._checks import body_text, text_digest

__all__ = ["id_keyed_digest"]

_CACHE: dict[int, bytes] = {}


def id_keyed_digest(msg: Mapping[str, Any]) -> bytes:
    found = _CACHE.get(id(msg))  # the bug: by id alone, the body not kept
    if found is None:
        found = _CACHE[id(msg)] = text_digest(body_text(msg))
    return found
