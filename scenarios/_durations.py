"""Durations in scenario files: a number of seconds, or text like ``"90s"``, ``"10m"``."""

from __future__ import annotations

import math
import re

from ._errors import ScenarioError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s|min|m|h|d)?\s*")


def parse_duration(value: object) -> float:
    """Seconds in ``value``: ``30``, ``2.5``, ``"90s"``, ``"10m"``, ``"1.5h"``, ``"250ms"``."""
    if isinstance(value, bool):
        raise ScenarioError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise ScenarioError(
            f'expected a duration such as 30, "90s", "10m", "1.5h" (units ms, s, m, h, d), '
            f"got {value!r}"
        )
    if not math.isfinite(seconds) or seconds < 0:
        raise ScenarioError(f"a duration must be finite and >= 0, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """A short human form: ``"45s"``, ``"10m"``, ``"1h30m"``, ``"250ms"``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}h" if hours else ""
    text += f"{minutes}m" if minutes else ""
    text += f"{secs}s" if secs else ""
    return text or "0s"
