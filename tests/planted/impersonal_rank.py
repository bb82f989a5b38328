"""A pairing engine with a planted bug in its vectorised ranking: it lists the phone's own
co-purchases as candidates but forgets to add their personal part to the score.

``tests/protocol/test_engine_vectorised.py`` checks the vectorised ranking against a
plain loop over the same refreshed model, and that the check catches this engine.
"""

from __future__ import annotations

from typing import Any

from protocol import PairingEngine

__all__ = ["ImpersonalEngine"]


class ImpersonalEngine(PairingEngine):
    """Ranks as if every personal part were 0 (the bug)."""

    def _rank(
        self,
        candidates: Any,
        co_parts: Any,
        near_parts: Any,
        profile: Any,
        limit: int,
        **options: Any,
    ) -> Any:
        options.pop("personal", None)  # the phone's own co-purchases listed, their part lost
        return super()._rank(candidates, co_parts, near_parts, profile, limit, **options)
