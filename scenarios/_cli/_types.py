"""The argparse ``type=`` functions of the command line: durations and numbers.

Each turns an option's text into its value or raises :class:`argparse.ArgumentTypeError`,
which argparse prints as one usage line (exit status 2).
"""

from __future__ import annotations

import argparse

from scenarios._model._durations import parse_duration
from scenarios._model._errors import ScenarioError

__all__ = ["duration", "positive_duration", "positive_number"]


def duration(text: str) -> float:
    """Seconds, or a duration such as 90s, 10m, 1.5h."""
    try:
        return parse_duration(text)
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_duration(text: str) -> float:
    """A duration longer than 0."""
    seconds = duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than 0, got {text!r}")
    return seconds


def positive_number(text: str) -> float:
    """A finite number greater than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value
