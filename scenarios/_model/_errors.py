"""Errors of scenarios and the runner, under assocsim's one base class."""

from __future__ import annotations

from protocol import AssocsimError

__all__ = ["ScenarioError"]


class ScenarioError(AssocsimError, ValueError):
    """A scenario (file, name or override) is not valid; the message says where and why."""
