"""Errors of the actor runtime, under assocsim's one base class."""

from __future__ import annotations

from protocol import AssocsimError

__all__ = ["TransportError", "UnknownAddress"]


class TransportError(AssocsimError):
    """A transport could not carry a message."""


class UnknownAddress(TransportError):
    """No party is reachable at that address on this transport."""
