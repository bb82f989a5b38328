"""A pairing engine with a planted bug in its vectorised ranking: it reads the phone's
product, category and brand parts from the profile's lookup table but forgets the colour
part, so a shopper's colour habit no longer counts.

``tests/protocol/test_engine_vectorised.py`` checks the vectorised ranking against a
plain loop over the same refreshed model, and that the check catches this engine.
"""

from __future__ import annotations

from typing import Any

from protocol import PairingEngine

__all__ = ["ColourlessEngine"]


class ColourlessEngine(PairingEngine):
    """Ranks as if every colour part were 0 (the bug)."""

    def _rank(
        self,
        candidates: Any,
        co_parts: Any,
        near_parts: Any,
        profile: Any,
        limit: int,
        **options: Any,
    ) -> Any:
        if profile is not None:
            keys, values = profile.parts
            values = values.copy()
            values[keys >= 3 << 40] = 0.0  # the colour block of the table
            profile = profile._replace(parts=(keys, values))
        return super()._rank(candidates, co_parts, near_parts, profile, limit, **options)
