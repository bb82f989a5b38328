"""The typed errors of assocsim, under one base class.

Modelled on h11: a :class:`LocalProtocolError` means *you* broke a rule of the protocol
(built an invalid message, drove a machine wrongly); a :class:`RemoteProtocolError` means
the *peer* did (sent something the protocol does not allow).
"""

from __future__ import annotations

__all__ = [
    "AssocsimError",
    "InvalidMessage",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
]


class AssocsimError(Exception):
    """Base class of every error assocsim raises on purpose."""


class ProtocolError(AssocsimError):
    """A rule of the associated-products protocol was broken."""


class LocalProtocolError(ProtocolError):
    """This side broke a rule: e.g. built an invalid message or misused a machine."""


class RemoteProtocolError(ProtocolError):
    """The peer broke a rule: e.g. sent a message the receiving party never accepts."""


class InvalidMessage(LocalProtocolError, ValueError):
    """A message (or one of its fields) failed validation when it was built."""
