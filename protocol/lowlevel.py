"""The protocol's low layers, for transports, tools and tests that need them.

Framing and the connection state machines of the TCP transport (h11 style), the outbox
that re-sends until acknowledged, the parts of authentication (device tokens, merchant
keys, the authenticator and the gatekeeper), and the kits the core is built with (the
strict cattrs converter, config validators, the messages' text bound). :mod:`protocol`
keeps the names a protocol researcher needs; these are here, as ``trio.lowlevel`` is
beside ``trio``.
"""

from protocol._core._ids import (
    is_phone_id,
    is_token,
)
from protocol._core._messages import (
    MAX_TEXT_LENGTH,
)
from protocol._core._structuring import (
    MAX_LISTED_KEYS,
    describe_errors,
    strict_converter,
)
from protocol._core._validators import (
    ConfigValidators,
)
from protocol._machines._auth import (
    Authenticator,
    DeviceTokens,
    Gatekeeper,
    GatekeeperNote,
    MerchantKeys,
    claims_refusal,
    generate_key,
    generate_secret,
    hash_key,
    phone_of,
    pos_of,
)
from protocol._machines._durable import (
    Part,
    decode_state,
    encode_part,
    encode_state,
)
from protocol._machines._outbox import (
    Kept,
    Outbox,
    OutboxNote,
    Resend,
    ResendResult,
)
from protocol._wire._client_connection import (
    ClientConnection,
)
from protocol._wire._decode import (
    decode_payload,
)
from protocol._wire._encode import (
    encode_envelope,
    encode_frame,
)
from protocol._wire._envelope import (
    Frame,
)
from protocol._wire._events import (
    ClientEvent,
    Connected,
    ConnectionClosed,
    ConnectionState,
    FrameRefused,
    HelloReceived,
    MessageReceived,
    PeerRefused,
    ServerEvent,
)
from protocol._wire._frame_decoder import (
    FrameDecoder,
)
from protocol._wire._hello import (
    Hello,
    HelloAck,
    WireMessage,
)
from protocol._wire._limits import (
    CONTROL_TYPES,
    FRAME_HEADER_BYTES,
    MAX_ADDRESS_LENGTH,
    MAX_CREDENTIAL_LENGTH,
    MAX_DETAIL_LENGTH,
    MAX_ERRORS_PER_CONNECTION,
    MAX_FRAME_BYTES,
    MAX_FRAME_ID,
    MAX_HELLO_FRAME_BYTES,
    is_address,
)
from protocol._wire._refusals import (
    FrameTooLarge,
    HelloRequired,
    InvalidBody,
    MalformedFrame,
    TruncatedFrame,
    UnexpectedFrame,
    UnsupportedVersion,
    WireError,
)
from protocol._wire._server_connection import (
    ServerConnection,
)

__all__ = [
    "CONTROL_TYPES",
    "FRAME_HEADER_BYTES",
    "MAX_ADDRESS_LENGTH",
    "MAX_CREDENTIAL_LENGTH",
    "MAX_DETAIL_LENGTH",
    "MAX_ERRORS_PER_CONNECTION",
    "MAX_FRAME_BYTES",
    "MAX_FRAME_ID",
    "MAX_HELLO_FRAME_BYTES",
    "MAX_LISTED_KEYS",
    "MAX_TEXT_LENGTH",
    "Authenticator",
    "ClientConnection",
    "ClientEvent",
    "ConfigValidators",
    "Connected",
    "ConnectionClosed",
    "ConnectionState",
    "DeviceTokens",
    "Frame",
    "FrameDecoder",
    "FrameRefused",
    "FrameTooLarge",
    "Gatekeeper",
    "GatekeeperNote",
    "Hello",
    "HelloAck",
    "HelloReceived",
    "HelloRequired",
    "InvalidBody",
    "Kept",
    "MalformedFrame",
    "MerchantKeys",
    "MessageReceived",
    "Outbox",
    "OutboxNote",
    "Part",
    "PeerRefused",
    "Resend",
    "ResendResult",
    "ServerConnection",
    "ServerEvent",
    "TruncatedFrame",
    "UnexpectedFrame",
    "UnsupportedVersion",
    "WireError",
    "WireMessage",
    "claims_refusal",
    "decode_payload",
    "decode_state",
    "describe_errors",
    "encode_envelope",
    "encode_frame",
    "encode_part",
    "encode_state",
    "generate_key",
    "generate_secret",
    "hash_key",
    "is_address",
    "is_phone_id",
    "is_token",
    "phone_of",
    "pos_of",
    "strict_converter",
]
