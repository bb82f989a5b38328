"""The wire's limits and the address rule (docs/wire-format.md, "Limits")."""

from __future__ import annotations

import re
import struct
from typing import Any, Final

import attrs

from protocol._core._errors import LocalProtocolError

FRAME_HEADER_BYTES: Final = 4
"""The length prefix: 4 bytes, big-endian, unsigned; it counts the payload only."""

MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
"""The largest payload a frame may announce (4 MiB). Every valid message fits: the largest
one (500 items whose four texts are 200 control characters, each escaped as ``\\u00XX``)
is about 2.5 MB. A length prefix above it is refused before any payload is read."""

MAX_HELLO_FRAME_BYTES: Final = 8 * 1024
"""The largest payload a server reads before it accepted the hello (8 KiB): a valid hello
(a 1,024-character credential, each character escaped as ``\\u00XX`` at worst, and a
200-character address) is at most about 6.5 KB. Until the hello-ack a longer length prefix
is refused at once, so that an unauthenticated connection never holds more."""

MAX_ADDRESS_LENGTH: Final = 200
"""Addresses (``to``, ``from``, a hello's ``address``): 1 to 200 characters."""

MAX_CREDENTIAL_LENGTH: Final = 1024
"""A hello's ``credential``: at most 1024 characters (may be empty)."""

MAX_FRAME_ID: Final = 2**53 - 1
"""The largest frame ``id`` (the largest integer every JSON parser reads exactly)."""

MAX_DETAIL_LENGTH: Final = 400
"""An error reply's ``detail``: at most 400 characters (longer explanations are cut)."""

MAX_ERRORS_PER_CONNECTION: Final = 32
"""A server closes a connection after refusing this many of its frames."""

CONTROL_TYPES: Final = ("hello", "hello-ack")
"""Envelope types that belong to the connection, not to the protocol's messages."""

_HEADER = struct.Struct(">I")
_ADDRESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+@-]{0,199}")
_ENVELOPE_KEYS: Final = frozenset({"v", "id", "type", "from", "to", "re", "body"})


def is_address(value: object) -> bool:
    """True when ``value`` is a well-formed address: 1 to 200 letters, digits or
    ``._:+@-``, starting with a letter or digit (``cloud``, ``phone:+8613800000001``,
    ``pos:shop-01:pos-1``)."""
    return isinstance(value, str) and _ADDRESS.fullmatch(value) is not None


def _address_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_address(value):
        raise LocalProtocolError(
            f"{type(instance).__name__}.{attribute.name}: malformed address {value!r} "
            "(expected 1 to 200 letters, digits or '._:+@-', starting with a letter or digit)"
        )
