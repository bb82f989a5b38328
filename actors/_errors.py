"""Errors of the actor runtime, under assocsim's one base class."""

from __future__ import annotations

from protocol import AssocsimError

__all__ = ["FaultPlanError", "StoreError", "TransportError", "UnknownAddress"]


class TransportError(AssocsimError):
    """A transport could not carry a message."""


class UnknownAddress(TransportError):
    """No party is reachable at that address on this transport."""


class StoreError(AssocsimError):
    """A durable store could not be opened, read or written (the message says what to do)."""


class FaultPlanError(AssocsimError, ValueError):
    """A network, partition or crash setting is not valid (the message names it)."""
