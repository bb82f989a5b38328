"""Durations in scenario files: a number of seconds, or text like ``"90s"``, ``"10m"``."""

from __future__ import annotations

import math
import re

from ._errors import ScenarioError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_DURATION = re.compile(rf"\s*([-+]?{_NUMBER})\s*(ms|s|min|m|h|d)?\s*")
_PART = re.compile(rf"\s*({_NUMBER})\s*(ms|s|min|m|h|d)\s*")
_COMPOUND = re.compile(rf"\s*([-+]?)((?:{_PART.pattern})+)")


def parse_duration(value: object, *, positive: bool = False) -> float:
    """Seconds in ``value``: ``30``, ``2.5``, ``"90s"``, ``"10m"``, ``"1.5h"``, ``"250ms"``,
    ``"1h30m"``; longer than 0 if ``positive``, else not negative.

    A sign is read (``"-5m"``) so that a negative duration is refused as one, in the
    words of the config validators, rather than as text that is no duration."""
    if isinstance(value, bool):
        raise ScenarioError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    elif isinstance(value, str) and (match := _COMPOUND.fullmatch(value)):  # "1h30m", as printed
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(match.group(2)))
        seconds = -seconds if match.group(1) == "-" else seconds
    else:
        raise ScenarioError(
            f'expected a duration such as 30, "90s", "10m", "1.5h" (units ms, s, m, h, d), '
            f"got {value!r}"
        )
    if not math.isfinite(seconds):
        raise ScenarioError(f"must be a finite duration, got {value!r}")
    if positive and not seconds > 0:
        raise ScenarioError(f"must be longer than 0, got {value!r}")
    if seconds < 0:
        raise ScenarioError(f"must not be negative, got {value!r}")
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
