"""Who may talk to the cloud, and what each credential proves (see ``docs/security.md``).

The patent trusts whatever identifier a message carries; a field trial must not. This
module is the sans-I/O core of the cloud's security, used by a transport that knows who is
at the other end of each connection (``actors``' TCP server calls
:meth:`Authenticator.authenticate` with the connection's first frame, its ``hello``):

* A **POS** connects as ``pos:MERCHANT:POS`` with its merchant's secret key. The cloud
  keeps only a salted SHA-256 hash of each key (:class:`MerchantKeys`), compared with
  :func:`hmac.compare_digest`. Keys are random (:func:`generate_key`), so a fast hash is
  enough, and a connection costs the event loop microseconds, not a slow KDF's tens of ms.
* A **phone** connects as ``phone:ID`` with the device token the cloud gave it in its
  ``SubscribeAck``. A token is an HMAC of the phone id under the cloud's secret
  (:class:`DeviceTokens`): bound to that id, checkable without storage, the same every
  time it is issued (so a re-sent ``Subscribe`` gets the same token), and revoked all at
  once by changing the secret.
* A phone that has **no token yet** connects with an empty credential, and only while its
  id is not enrolled (subscribed): it can receive its receipt notices, acknowledge them,
  and subscribe, which is what gives it the token. Everything else a phone may do needs a
  subscription, which the cloud checks anyway. Enrolment is trust on first use: a real
  deployment verifies the number (an SMS code) before the first ``Subscribe``.

Once a connection is authenticated, its address is the sender of every message it
carries. Each message whose own identifiers disagree with that sender is refused with
``forged-identifier``, by one layer: a till's claims (an upload's merchant and POS, the
promotions' merchant) by :func:`claims_refusal`, which the :class:`Gatekeeper` machine
wrapper applies before the cloud does any work; a phone's claims (the phone id of a
request, a subscription, a push acknowledgement: :func:`names_another_phone`) by the
cloud machine itself, which takes the requester's identifier from the sender (step 504,
:func:`~protocol.identify_requester`), in a simulation too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Collection, Mapping
from typing import Final, Protocol

from protocol._core._addresses import CLOUD, pos_address
from protocol._core._effects import Address, Effects, Note, Send
from protocol._core._errors import LocalProtocolError, RemoteProtocolError
from protocol._core._ids import is_phone_id, is_token
from protocol._core._machine import Machine
from protocol._core._messages import (
    AssociationRequest,
    ErrorCode,
    ErrorReply,
    Message,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    ReceiptKey,
    Subscribe,
)

from ._store import CloudStore

__all__ = [
    "MERCHANT_KEYS_FORMAT",
    "MIN_KEY_LENGTH",
    "AuthenticationError",
    "Authenticator",
    "DeviceTokens",
    "Gatekeeper",
    "GatekeeperNote",
    "HelloCredentials",
    "MerchantKeys",
    "claims_refusal",
    "generate_key",
    "generate_secret",
    "hash_key",
    "names_another_phone",
    "phone_of",
    "pos_of",
]

MERCHANT_KEYS_FORMAT: Final = "assocsim-merchant-keys/1"
"""The ``format`` of a merchant keys file (JSON: ``{"format": ..., "merchants": {...}}``)."""

MIN_KEY_LENGTH: Final = 16
"""A merchant key is at least this many characters (:func:`generate_key` makes 43)."""

MIN_SECRET_BYTES: Final = 32
"""The cloud's device-token secret is at least this many bytes."""

_TOKEN_PREFIX: Final = "dt1."
_TOKEN_CONTEXT: Final = b"assocsim/device-token/1\x00"
_HASH_SCHEME: Final = "sha256"
_SALT_BYTES: Final = 16


class AuthenticationError(RemoteProtocolError):
    """A connection's ``hello`` does not prove the address it claims (the message says why).

    The message never says whether a merchant exists or which part of a credential was
    wrong: "unknown merchant" and "wrong key" read the same to the peer.

    The one class for a refused hello: a TCP server's ``authenticate`` callback raises it
    (``actors.AuthenticationError`` is this class), and the server sends its message to the
    client as the ``detail`` of an ``unauthorized`` reply, so it must never hold a secret.
    """


# ------------------------------------------------------------------ addresses


def phone_of(address: Address) -> str | None:
    """The phone id of a ``phone:ID`` address, or ``None`` for any other address."""
    if not address.startswith("phone:"):
        return None
    phone_id = address[len("phone:") :]
    return phone_id if is_phone_id(phone_id) else None


def pos_of(address: Address) -> tuple[str, str] | None:
    """``(merchant_id, pos_id)`` of a ``pos:MERCHANT:POS`` address, or ``None``.

    Only the unambiguous form is accepted: merchant and POS ids without ``:`` (ids may
    contain ``:`` elsewhere in the protocol, but ``pos:a:b:c`` could then be merchant
    ``a`` or ``a:b``, and a key of one would authenticate as the other).
    """
    parts = address.split(":")
    if len(parts) != 3 or parts[0] != "pos":
        return None
    _, merchant_id, pos_id = parts
    if not (is_token(merchant_id) and is_token(pos_id)):
        return None
    return merchant_id, pos_id


# ------------------------------------------------------------------ merchant keys


def generate_key() -> str:
    """A new random merchant key (256 bits, URL-safe text, 43 characters), never one that
    starts with ``-``: ``assocsim pos --key KEY`` must take it as printed, and argparse
    reads such a word as an option (1 draw in 64 did)."""
    while True:
        key = secrets.token_urlsafe(32)
        if not key.startswith("-"):
            return key


def generate_secret() -> bytes:
    """A new random secret for :class:`DeviceTokens` (256 bits)."""
    return secrets.token_bytes(MIN_SECRET_BYTES)


def hash_key(key: str, *, salt: bytes | None = None) -> str:
    """The stored form of a merchant key: ``sha256$SALT$DIGEST`` (hex), salted.

    Raises :class:`~protocol.LocalProtocolError` for a key shorter than
    :data:`MIN_KEY_LENGTH` or not printable ASCII.
    """
    _check_key(key)
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.sha256(salt + key.encode()).hexdigest()
    return f"{_HASH_SCHEME}${salt.hex()}${digest}"


def _check_key(key: str) -> None:
    if not (key.isascii() and key.isprintable()) or len(key) < MIN_KEY_LENGTH or " " in key:
        raise LocalProtocolError(
            f"a merchant key must be at least {MIN_KEY_LENGTH} printable ASCII characters "
            "without spaces; generate one with assocsim serve add-merchant"
        )


def _parse_hash(merchant_id: str, stored: object) -> tuple[bytes, bytes]:
    where = f"merchant {merchant_id!r}"
    if not isinstance(stored, str):
        raise LocalProtocolError(f"{where}: the key hash must be text 'sha256$SALT$DIGEST'")
    parts = stored.split("$")
    if len(parts) != 3 or parts[0] != _HASH_SCHEME:
        raise LocalProtocolError(f"{where}: the key hash must read 'sha256$SALT$DIGEST'")
    try:
        salt, digest = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError:
        raise LocalProtocolError(f"{where}: the key hash's salt and digest must be hex") from None
    if len(salt) < 8 or len(digest) != hashlib.sha256().digest_size:
        raise LocalProtocolError(f"{where}: the key hash has a short salt or a bad digest")
    return salt, digest


class MerchantKeys:
    """Each merchant's key, kept as a salted hash: all the cloud needs to check one.

    ``hashes`` maps a merchant id to :func:`hash_key`'s output. Build it from a keys file
    with :meth:`from_json`, add merchants with :meth:`add`, write it with :meth:`to_json`.
    """

    def __init__(self, hashes: Mapping[str, str] | None = None) -> None:
        self._hashes: dict[str, tuple[bytes, bytes]] = {}
        self._stored: dict[str, str] = {}
        for merchant_id, stored in (hashes or {}).items():
            self._put(merchant_id, stored)
        self._dummy = (b"\x00" * _SALT_BYTES, b"\x00" * hashlib.sha256().digest_size)

    def _put(self, merchant_id: str, stored: str) -> None:
        if not is_token(merchant_id) or ":" in merchant_id:
            raise LocalProtocolError(
                f"merchant id {merchant_id!r}: 1 to 64 letters, digits or '.-_', "
                "starting with a letter or digit"
            )
        self._hashes[merchant_id] = _parse_hash(merchant_id, stored)
        self._stored[merchant_id] = stored

    @property
    def merchants(self) -> tuple[str, ...]:
        """The merchant ids that have a key, sorted."""
        return tuple(sorted(self._hashes))

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, merchant_id: object) -> bool:
        return merchant_id in self._hashes

    def add(self, merchant_id: str, key: str) -> None:
        """Give ``merchant_id`` the key ``key`` (replacing any key it had)."""
        self._put(merchant_id, hash_key(key))

    def verify(self, merchant_id: str, key: str) -> bool:
        """Is ``key`` the key of ``merchant_id``? False for an unknown merchant.

        Costs one SHA-256 either way and compares with :func:`hmac.compare_digest`, so the
        time taken does not tell a wrong key from an unknown merchant.
        """
        known = self._hashes.get(merchant_id)
        salt, expected = known if known is not None else self._dummy
        try:
            raw = key.encode("ascii")
        except UnicodeEncodeError:
            raw = b""
        digest = hashlib.sha256(salt + raw).digest()
        return hmac.compare_digest(digest, expected) and known is not None and bool(raw)

    def to_json(self) -> str:
        """The keys file's text (hashes only: no key can be read back from it)."""
        data = {"format": MERCHANT_KEYS_FORMAT, "merchants": dict(sorted(self._stored.items()))}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> MerchantKeys:
        """Parse a keys file; :class:`~protocol.LocalProtocolError` says what is wrong."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise LocalProtocolError(f"not a merchant keys file: not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != MERCHANT_KEYS_FORMAT:
            raise LocalProtocolError(
                f"not a merchant keys file: expected a JSON object with "
                f'"format": "{MERCHANT_KEYS_FORMAT}"; create one with assocsim serve add-merchant'
            )
        merchants = data.get("merchants")
        if not isinstance(merchants, dict):
            raise LocalProtocolError('a merchant keys file needs a "merchants" object')
        return cls(merchants)


# ------------------------------------------------------------------ device tokens


class DeviceTokens:
    """Device tokens: an HMAC-SHA256 of the phone id under the cloud's ``secret``.

    A token proves "the cloud issued this to the phone that enrolled as ID": it cannot be
    made without the secret nor moved to another id. Nothing is stored; the same id always
    gets the same token, so a restarted cloud (same secret) accepts every token it issued,
    and a new secret revokes them all (every phone enrols again).
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise LocalProtocolError(
                f"the device-token secret must be at least {MIN_SECRET_BYTES} random bytes, "
                f"got {len(secret)}"
            )
        self._secret = secret

    def issue(self, phone_id: str) -> str:
        """The token of ``phone_id`` (``dt1.`` then 43 URL-safe characters)."""
        if not is_phone_id(phone_id):
            raise LocalProtocolError(f"no device token for a malformed phone id {phone_id!r}")
        mac = hmac.new(self._secret, _TOKEN_CONTEXT + phone_id.encode(), hashlib.sha256)
        return _TOKEN_PREFIX + base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def verify(self, phone_id: str, token: str) -> bool:
        """Is ``token`` the token issued to ``phone_id``? (constant-time comparison)"""
        if not is_phone_id(phone_id) or not token.isascii():
            return False
        return hmac.compare_digest(self.issue(phone_id).encode(), token.encode())


# ------------------------------------------------------------------ the hello check


class HelloCredentials(Protocol):
    """What :meth:`Authenticator.authenticate` reads of a hello: who, and the proof."""

    @property
    def address(self) -> str: ...

    @property
    def credential(self) -> str: ...


class Authenticator:
    """The transport's ``authenticate(hello)`` callback: the address a hello proves.

    ``is_enrolled(phone_id)`` says whether a phone already subscribed (the cloud's store);
    such a phone must present its device token, so nobody can enrol as it again. Without
    it, every phone without a token is taken as enrolling.
    """

    def __init__(
        self,
        merchant_keys: MerchantKeys,
        device_tokens: DeviceTokens,
        *,
        is_enrolled: Callable[[str], bool] | None = None,
    ) -> None:
        self.merchant_keys = merchant_keys
        self.device_tokens = device_tokens
        self._is_enrolled = is_enrolled if is_enrolled is not None else _never
        self.accepted = 0
        self.refused = 0

    def authenticate(self, hello: HelloCredentials, *, enrolled: bool | None = None) -> Address:
        """The authenticated address of the connection; :class:`AuthenticationError` if not.

        ``enrolled``: whether the phone of a token-less hello already subscribed, when the
        caller looked it up itself (e.g. asynchronously); else ``is_enrolled`` is asked.
        """
        try:
            address = self._authenticate(hello.address, hello.credential, enrolled)
        except AuthenticationError:
            self.refused += 1
            raise
        self.accepted += 1
        return address

    __call__ = authenticate

    def _authenticate(self, address: object, credential: object, enrolled: bool | None) -> Address:
        if not isinstance(address, str) or not isinstance(credential, str):
            raise AuthenticationError("hello: 'address' and 'credential' must be text")
        pos = pos_of(address)
        if pos is not None:
            merchant_id, _ = pos
            if not self.merchant_keys.verify(merchant_id, credential):
                raise AuthenticationError(
                    f"{address}: merchant key refused (unknown merchant or wrong key); "
                    "connect with the key the cloud's operator gave merchant "
                    f"{merchant_id}"
                )
            return address
        phone_id = phone_of(address)
        if phone_id is not None:
            if credential == "":
                if enrolled if enrolled is not None else self._is_enrolled(phone_id):
                    raise AuthenticationError(
                        f"{address}: this phone is enrolled; connect with the device token "
                        "its subscription returned (a lost token needs the operator)"
                    )
                return address  # enrolling: it can only get notices and subscribe
            if not self.device_tokens.verify(phone_id, credential):
                raise AuthenticationError(
                    f"{address}: device token refused (not the token issued to this phone); "
                    "connect with the token its subscription returned"
                )
            return address
        if address == CLOUD:
            raise AuthenticationError("'cloud' is the server's own address; no client has it")
        raise AuthenticationError(
            f"{address!r} is not a client address: use pos:MERCHANT:POS (ids without ':') "
            "or phone:+E164"
        )


def _never(phone_id: str) -> bool:
    return False


# ------------------------------------------------------------------ claims vs sender


def names_another_phone(message: AssociationRequest | Subscribe | PushAck, sender: Address) -> bool:
    """Step 504's rule for what a phone says about itself: a request, a subscription or a
    push acknowledgement is forged if its ``phone_id`` is not the number of its
    authenticated ``sender`` (the requester is the sender, never the field). The cloud
    machine refuses such a message (``forged-identifier``): the one place that does."""
    return phone_of(sender) != message.phone_id


def claims_refusal(message: Message, sender: Address) -> ErrorReply | None:
    """A ``forged-identifier`` refusal if ``message`` names another till or merchant than
    ``sender``.

    ``sender`` is the authenticated address. An upload must come from the POS it names, a
    promotion update from a POS of its merchant. ``None``: the claims hold (or the message
    makes none of these). A phone's claims are the cloud machine's
    (:func:`names_another_phone`).
    """
    if isinstance(message, PurchaseUpload):
        if pos_of(sender) != (message.merchant_id, message.pos_id):
            return _forged(
                f"{sender} may not upload as {pos_address(message.merchant_id, message.pos_id)}",
                receipt=message.receipt,
            )
        return None
    if isinstance(message, PromotionUpdate):
        pos = pos_of(sender)
        if pos is None or pos[0] != message.merchant_id:
            return _forged(f"{sender} may not send the promotions of {message.merchant_id}")
    return None


def _forged(detail: str, *, receipt: ReceiptKey | None = None) -> ErrorReply:
    merchant_id, receipt_id = receipt if receipt is not None else (None, None)
    return ErrorReply(ErrorCode.FORGED_IDENTIFIER, detail, receipt_id, None, merchant_id)


class GatekeeperNote:
    """The kinds of :class:`~protocol.Note` a :class:`Gatekeeper` emits."""

    FORGED = "forged-identifier"  # a message naming another party than its sender, refused
    NOT_HOLDER = "not-receipt-holder"  # a request for another phone's receipt, refused


class Gatekeeper:
    """A cloud :class:`~protocol.Machine` behind the checks an authenticated sender allows.

    * Every upload or promotion update naming another till or merchant than its
      authenticated sender (:func:`claims_refusal`) is refused as ``forged-identifier``
      (note ``forged-identifier``) and never reaches ``machine``. A phone's message naming
      another phone goes on to ``machine``, the cloud, which refuses it (step 504).
    * With ``holders`` (receipt, by merchant and id -> the phones its POS handed the notice to, as
      the relay saw it) and the cloud's ``store``: a request for a receipt bound to another
      phone passes only from a phone that received that receipt's notice, i.e. the buyer
      whose POS keyed a wrong number (the patent's mismatch, answered by its policy).
      Anyone else learns nothing: the refusal is the ``unknown-receipt`` an unknown id
      gets (no oracle of which receipt ids exist), note ``not-receipt-holder``, and no
      dual-send follows.

    The rest passes through unchanged, as do start and timers. In a simulation every
    sender is the true party and every asker holds its receipt, so a gatekept cloud
    behaves exactly as the bare one.
    """

    def __init__(
        self,
        machine: Machine,
        *,
        store: CloudStore | None = None,
        holders: Callable[[ReceiptKey], Collection[str]] | None = None,
    ) -> None:
        if (store is None) != (holders is None):
            raise LocalProtocolError("Gatekeeper: give both store and holders, or neither")
        self.machine = machine
        self._store = store
        self._holders = holders
        self.refused = 0

    def start(self, now: float) -> Effects:
        return self.machine.start(now)

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        refusal = claims_refusal(message, sender)
        if refusal is not None:
            return self._refuse(sender, refusal, GatekeeperNote.FORGED, refusal.detail)
        # A forged request is the cloud's to refuse (forged-identifier), before any holder
        # check: judged here, it would get unknown-receipt for an existing receipt and
        # forged-identifier for an unknown one, an oracle of which receipt ids exist.
        if (
            isinstance(message, AssociationRequest)
            and self._store is not None
            and not names_another_phone(message, sender)
        ):
            binding = self._store.binding(message.receipt)
            holders = self._holders
            if (
                binding is not None
                and holders is not None
                and binding.phone_id != message.phone_id
                and message.phone_id not in holders(message.receipt)
            ):
                refusal = ErrorReply(
                    ErrorCode.UNKNOWN_RECEIPT,
                    f"no purchase with receipt id {message.receipt_id} was uploaded",
                    message.receipt_id,
                    message.request_id,
                    message.merchant_id,
                )
                detail = f"{sender} asked for a receipt of another phone it was never handed"
                return self._refuse(
                    sender, refusal, GatekeeperNote.NOT_HOLDER, detail, message.merchant_id
                )
        return self.machine.handle(message, sender, now)

    def _refuse(
        self,
        sender: Address,
        refusal: ErrorReply,
        kind: str,
        detail: str,
        merchant_id: str | None = None,
    ) -> Effects:
        self.refused += 1
        note = Note(kind, refusal.receipt_id, phone_of(sender), detail, merchant_id)
        return Effects(sends=(Send(sender, refusal),), notes=(note,))

    def timer_fired(self, key: object, now: float) -> Effects:
        return self.machine.timer_fired(key, now)
