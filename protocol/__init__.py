"""The sans-I/O core of assocsim: the CN103177372A protocol without any I/O.

Messages validate themselves; the cloud, POS and phone machines take a message (or a fired
timer) and the current virtual time and return the :class:`Effects` to carry out. Nothing
here imports trio, sockets or clocks, so any driver (trio actors, a test, a hypothesis state
machine) can run it.

The low layers (framing and connections of the TCP transport, the outbox mechanism,
authentication's parts, the structuring and validation kits) are in
:mod:`protocol.lowlevel`, as trio keeps ``trio.lowlevel``.

The pairing engine's names (:class:`PairingEngine`, :class:`EngineConfig`, :class:`Pairing`)
are imported when first used (PEP 562), as :mod:`scenarios`' are: the engine needs numpy,
which a process that never pairs (a POS, a phone, a cloud with the rule recommender, the
command line's start) would pay for at every start (``tests/test_start_imports.py``
checks the import set).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._core._addresses import (
    CLOUD,
    phone_address,
    pos_address,
)
from ._core._effects import (
    Address,
    Effects,
    Note,
    Send,
    Timer,
)
from ._core._errors import (
    AssocsimError,
    InvalidMessage,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from ._core._machine import (
    Machine,
)
from ._core._messages import (
    MAX_ITEMS_PER_PURCHASE,
    MAX_PRICE,
    MAX_PRODUCTS_PER_DELIVERY,
    MAX_QUANTITY,
    MAX_REQUEST_ID,
    MAX_TIME,
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorCode,
    ErrorReply,
    Item,
    Message,
    NoticeAck,
    Offer,
    PromotionAck,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    PushReason,
    Reason,
    ReceiptKey,
    ReceiptNotice,
    Subscribe,
    SubscribeAck,
    UploadAck,
)
from ._machines._auth import (
    AuthenticationError,
)
from ._machines._cloud import (
    CloudConfig,
    CloudMachine,
    CloudNote,
    MismatchPolicy,
    PushDue,
    identify_requester,
    judge,
)
from ._machines._outbox import (
    RetryPolicy,
)
from ._machines._phone import (
    AskDue,
    Delivery,
    PhoneMachine,
    PhoneNote,
    PhoneState,
)
from ._machines._pos import (
    Checkout,
    CheckoutDue,
    PosMachine,
    PosNote,
    PosState,
)
from ._machines._store import (
    Binding,
    CloudStore,
    InMemoryStore,
    MatchingRelation,
    PendingPush,
    StepTransactions,
)
from ._reco._catalog import (
    DEPARTMENTS,
    Catalog,
    Product,
    builtin_catalog,
)
from ._reco._recommender import (
    COMPLEMENT_RULES,
    Promotions,
    Recommender,
    RuleRecommender,
)
from ._wire._codec import (
    MESSAGE_TYPES,
    WIRE_VERSION,
    decode_json,
    decode_message,
    encode_json,
    encode_message,
    message_type,
)

if TYPE_CHECKING:
    from ._reco._engine import EngineConfig, Pairing, PairingEngine

__all__ = [
    "CLOUD",
    "COMPLEMENT_RULES",
    "DEPARTMENTS",
    "MAX_ITEMS_PER_PURCHASE",
    "MAX_PRICE",
    "MAX_PRODUCTS_PER_DELIVERY",
    "MAX_QUANTITY",
    "MAX_REQUEST_ID",
    "MAX_TIME",
    "MESSAGE_TYPES",
    "WIRE_VERSION",
    "Address",
    "AskDue",
    "AssociatedProduct",
    "AssociationPush",
    "AssociationRequest",
    "AssociationResponse",
    "AssocsimError",
    "AuthenticationError",
    "Binding",
    "Catalog",
    "Checkout",
    "CheckoutDue",
    "CloudConfig",
    "CloudMachine",
    "CloudNote",
    "CloudStore",
    "Delivery",
    "Effects",
    "EngineConfig",
    "ErrorCode",
    "ErrorReply",
    "InMemoryStore",
    "InvalidMessage",
    "Item",
    "LocalProtocolError",
    "Machine",
    "MatchingRelation",
    "Message",
    "MismatchPolicy",
    "Note",
    "NoticeAck",
    "Offer",
    "Pairing",
    "PairingEngine",
    "PendingPush",
    "PhoneMachine",
    "PhoneNote",
    "PhoneState",
    "PosMachine",
    "PosNote",
    "PosState",
    "Product",
    "PromotionAck",
    "PromotionUpdate",
    "Promotions",
    "ProtocolError",
    "PurchaseUpload",
    "PushAck",
    "PushDue",
    "PushReason",
    "Reason",
    "ReceiptKey",
    "ReceiptNotice",
    "Recommender",
    "RemoteProtocolError",
    "RetryPolicy",
    "RuleRecommender",
    "Send",
    "StepTransactions",
    "Subscribe",
    "SubscribeAck",
    "Timer",
    "UploadAck",
    "builtin_catalog",
    "decode_json",
    "decode_message",
    "encode_json",
    "encode_message",
    "identify_requester",
    "judge",
    "message_type",
    "phone_address",
    "pos_address",
]

_HOMES: dict[str, tuple[str, str]] = {
    "EngineConfig": ("._reco._engine", "EngineConfig"),
    "Pairing": ("._reco._engine", "Pairing"),
    "PairingEngine": ("._reco._engine", "PairingEngine"),
}
"""The module and name each public name imported when first used is imported from."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = home
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value  # once: later lookups find it without this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
