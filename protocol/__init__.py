"""The sans-I/O core of assocsim: the CN103177372A protocol without any I/O.

Messages validate themselves; the cloud, POS and phone machines take a message (or a fired
timer) and the current virtual time and return the :class:`Effects` to carry out. Nothing
here imports trio, sockets or clocks, so any driver (trio actors, a test, a hypothesis state
machine) can run it.
"""

from ._addresses import CLOUD, phone_address, pos_address
from ._catalog import DEPARTMENTS, Catalog, Product, builtin_catalog
from ._cloud import (
    CloudConfig,
    CloudMachine,
    CloudNote,
    MismatchPolicy,
    PushDue,
    identify_requester,
    judge,
)
from ._codec import (
    MESSAGE_TYPES,
    WIRE_VERSION,
    decode_json,
    decode_message,
    encode_json,
    encode_message,
    message_type,
)
from ._effects import Address, Effects, Note, Send, Timer
from ._errors import (
    AssocsimError,
    InvalidMessage,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from ._ids import is_phone_id, is_token
from ._machine import Machine
from ._messages import (
    MAX_ITEMS_PER_PURCHASE,
    MAX_PRODUCTS_PER_DELIVERY,
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
    ReceiptNotice,
    Subscribe,
    SubscribeAck,
    UploadAck,
)
from ._outbox import Outbox, OutboxNote, Resend, RetryPolicy
from ._phone import AskDue, Delivery, PhoneMachine, PhoneNote
from ._pos import Checkout, CheckoutDue, PosMachine, PosNote
from ._recommender import COMPLEMENT_RULES, Promotions, Recommender, RuleRecommender
from ._store import Binding, CloudStore, InMemoryStore, MatchingRelation, PendingPush
from ._structuring import describe_errors, strict_converter

__all__ = [
    "CLOUD",
    "COMPLEMENT_RULES",
    "DEPARTMENTS",
    "MAX_ITEMS_PER_PURCHASE",
    "MAX_PRODUCTS_PER_DELIVERY",
    "MESSAGE_TYPES",
    "WIRE_VERSION",
    "Address",
    "AskDue",
    "AssociatedProduct",
    "AssociationPush",
    "AssociationRequest",
    "AssociationResponse",
    "AssocsimError",
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
    "Outbox",
    "OutboxNote",
    "PendingPush",
    "PhoneMachine",
    "PhoneNote",
    "PosMachine",
    "PosNote",
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
    "ReceiptNotice",
    "Recommender",
    "RemoteProtocolError",
    "Resend",
    "RetryPolicy",
    "RuleRecommender",
    "Send",
    "Subscribe",
    "SubscribeAck",
    "Timer",
    "UploadAck",
    "builtin_catalog",
    "decode_json",
    "decode_message",
    "describe_errors",
    "encode_json",
    "encode_message",
    "identify_requester",
    "is_phone_id",
    "is_token",
    "judge",
    "message_type",
    "phone_address",
    "pos_address",
    "strict_converter",
]
