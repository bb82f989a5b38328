"""A checker's digest cache with a planted bug: every body fed is cached by its identity.

``scenarios/_trace/_checks.py`` finds by identity only the digests of bodies their owner
promised never to change (``keep_body_digest``: the explorer's parsed records). Until
this was found, every body the checker digested was cached by its identity (kept alive):
a caller of ``check_trace`` streaming its records with one body dict changed in place
got the first content's digest for the second, so the cloud acknowledging another upload
of a receipt was not seen (a false all-clear on ``binding``). :func:`fed_body_digest` is
that cache; ``tests/scenarios/test_checks.py`` must tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenarios._trace._checks import body_text, text_digest

__all__ = ["fed_body_digest"]

_CACHE: dict[int, tuple[Mapping[str, Any], bytes]] = {}


def fed_body_digest(msg: Mapping[str, Any]) -> bytes:
    known = _CACHE.get(id(msg))
    if known is not None and known[0] is msg:
        return known[1]  # the bug: the body may have changed since
    digest = text_digest(body_text(msg))
    _CACHE[id(msg)] = (msg, digest)
    return digest
