"""Errors of the actor runtime, under assocsim's one base class.

:class:`AuthenticationError` is the protocol's own (``protocol.AuthenticationError``),
re-exported here: a TCP server's ``authenticate`` callback raises it to refuse a hello, and
:class:`protocol.lowlevel.Authenticator` raises it too, so the server catches one class.
"""

from __future__ import annotations

from protocol import AssocsimError, AuthenticationError

__all__ = [
    "AuthenticationError",
    "FaultPlanError",
    "HelloRefused",
    "StoreError",
    "TlsVerificationFailed",
    "TransportError",
    "UnknownAddress",
]


class TransportError(AssocsimError):
    """A transport could not carry a message."""


class UnknownAddress(TransportError):
    """No party is reachable at that address on this transport."""


class HelloRefused(TransportError):
    """The server refused this connection's hello (``code``: ``unauthorized``,
    ``unsupported-version``, ...; ``detail``: its explanation). Permanent: no reconnect."""

    def __init__(self, address: str, code: str, detail: str) -> None:
        super().__init__(f"the server refused the hello of {address}: {code}: {detail}")
        self.address = address
        self.code = code
        self.detail = detail


class TlsVerificationFailed(HelloRefused):
    """This client could not verify the server's TLS certificate (``detail`` says why: an
    unknown authority, another host name, an expired certificate). Permanent, as a refused
    hello is: reconnecting cannot change a certificate."""

    def __init__(self, address: str, detail: str) -> None:
        TransportError.__init__(
            self, f"{address}: cannot verify the server's TLS certificate: {detail}"
        )
        self.address = address
        self.code = "tls-verification-failed"
        self.detail = detail


class StoreError(AssocsimError):
    """A durable store could not be opened, read or written (the message says what to do)."""


class FaultPlanError(AssocsimError, ValueError):
    """A network, partition or crash setting is not valid (the message names it)."""


class LivelockError(AssocsimError):
    """A party fired timers at one instant without end (a timer re-armed for the instant it
    fires): virtual time could never go on, and the run would never end."""
