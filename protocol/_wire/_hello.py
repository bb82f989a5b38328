"""The connection's own frames: the client's hello and the server's hello-ack."""

from __future__ import annotations

from typing import Final

import attrs

from protocol._core._effects import Address
from protocol._core._messages import Message
from protocol._core._validators import positive_int, text

from ._codec import (
    message_type,
)
from ._limits import MAX_CREDENTIAL_LENGTH, _address_validator


@attrs.frozen
class Hello:
    """Client -> server, the first frame of every connection.

    ``version``: the wire version the client speaks. ``address``: the party it speaks for
    (``pos:shop-01:pos-1``, ``phone:+8613800000001``). ``credential``: what proves it (a
    merchant key, a device token; may be empty), checked by the server's authentication.
    """

    version: int = attrs.field(validator=positive_int)
    address: Address = attrs.field(validator=_address_validator)
    credential: str = attrs.field(
        default="", repr=False, validator=text(MAX_CREDENTIAL_LENGTH, allow_empty=True)
    )


@attrs.frozen
class HelloAck:
    """Server -> client: the connection is open and speaks for ``address``."""

    version: int = attrs.field(validator=positive_int)
    address: Address = attrs.field(validator=_address_validator)


WireMessage = Message | Hello | HelloAck
"""What a frame can carry: a protocol message, or a connection's hello or its ack."""

_CONTROL_CLASSES: Final[dict[str, type[Hello] | type[HelloAck]]] = {
    "hello": Hello,
    "hello-ack": HelloAck,
}
_CONTROL_NAMES: Final[dict[type[Hello] | type[HelloAck], str]] = {
    Hello: "hello",
    HelloAck: "hello-ack",
}


def _type_name(message: WireMessage) -> str:
    if isinstance(message, Hello | HelloAck):
        return _CONTROL_NAMES[type(message)]
    return message_type(message)
