"""Planted bug for the trace reader (tests/scenarios/test_trace_unknown_kinds.py): a reader
that takes every event kind and message type for one of the format's. The checkers skip
what they do not know, so ``assocsim check`` judged a trace of unknown kinds (another
writer's, a misspelt one) as a trace with no events at all, and said all clear."""

from __future__ import annotations


class Anything(frozenset[str]):
    """A set that holds every text: ``OTHER_EVENTS`` and ``KNOWN_MESSAGE_TYPES`` as the
    reader was before it refused unknown kinds."""

    def __contains__(self, item: object) -> bool:
        return True


ANYTHING = Anything()
