"""The cloud server's state machine (steps 502, 504-508, 602-604; units 801-803).

Pure: it takes a message (or a fired timer) and the current virtual time and returns
:class:`~protocol.Effects`. Its memory is a :class:`~protocol.CloudStore`; its pairing
algorithm is a :class:`~protocol.Recommender`.

Where a receipt is in its lifecycle (push pending, withheld, pushed, dual-sent,
delivered) is not kept anywhere: it is derived from the store, and which step may happen
in which state is the table ``LIFECYCLE`` of ``_lifecycle.py`` (shown in
``docs/protocol.md``). The machine consults that table for its decisions: whether to
re-arm a push, to dual-send, to push at the deadline, to supersede a push.

Decisions the patent leaves open, and ours:

* The period before a push (step 603) is ``CloudConfig.push_timeout``, counted from the
  moment the cloud stores the upload. A push is sent at most once per receipt, and never
  after the POS-named phone already received the products (by its own answered request,
  or as the other half of a dual-send). A request after a push is still answered.
* A request names its purchase by merchant and receipt id (a :class:`~protocol.ReceiptKey`:
  each merchant numbers its own receipts). An unknown receipt is refused
  (``unknown-receipt``); another merchant's receipt of the same id is another receipt.
* The cloud serves only subscribed phones. A phone subscribes when it first pays with the
  phone. An upload naming a phone that never subscribed is still stored and acknowledged
  (the POS did its part), but nothing is ever sent to that phone: its push is withheld
  (note ``push-withheld``), its requests are refused (``not-subscribed``), and a dual-send
  reaches only the subscribed one of the two devices (note ``dual-send-withheld``).
* Identifier mismatch (step 505 says "not equal"): under ``MismatchPolicy.DUAL_SEND`` (the
  patent's) the requester gets a response and the POS-named phone gets the same products
  as a ``dual-send`` push, once; under ``MismatchPolicy.REJECT`` the requester gets an
  ``identifier-mismatch`` refusal and no products leak to anyone.
* A receipt id uploaded again with the same content is acknowledged again and changes
  nothing, except that a receipt with no push armed and no delivery to its phone gets its
  push re-armed at the original deadline (a repair; see ``_repair_push``); with other
  content it is refused (``conflicting-upload``).

Reliability over a lossy network (the patent assumes a perfect one): every push (timeout
or dual-send) stays in the store's outgoing list and is re-sent with backoff
(``CloudConfig.retry``) until the phone's :class:`~protocol.PushAck`; a restarted cloud
sends them all again. The other directions are made reliable by their senders: the POS
re-sends an upload until its ``UploadAck``, the phone a subscription or a request until
its answer, and the cloud answers each copy again (idempotently).
"""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from protocol._core._addresses import phone_address
from protocol._core._effects import NOTHING, Address, Effects, Note, Send, Timer
from protocol._core._errors import LocalProtocolError
from protocol._core._messages import (
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorCode,
    ErrorReply,
    Message,
    PromotionAck,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    PushReason,
    ReceiptKey,
    Subscribe,
    SubscribeAck,
    UploadAck,
)
from protocol._core._validators import ConfigValidators
from protocol._reco._recommender import Promotions, Recommender

from ._auth import DeviceTokens, names_another_phone, phone_of
from ._lifecycle import LIFECYCLE, ReceiptEvent, ReceiptState, allows, receipt_state
from ._outbox import Outbox, Resend, RetryPolicy
from ._store import Binding, CloudStore, MatchingRelation, PendingPush

__all__ = ["CloudConfig", "CloudMachine", "CloudNote", "MismatchPolicy", "PushDue"]


class MismatchPolicy(enum.StrEnum):
    """What the cloud does when the requester's identifier differs from the POS's."""

    DUAL_SEND = "dual-send"  # the patent's: send the products to both devices
    REJECT = "reject"  # refuse the requester; send nothing


class CloudNote(enum.StrEnum):
    """The kinds of :class:`~protocol.Note` the cloud emits."""

    MISMATCH = "mismatch"  # step 505 judged the identifiers unequal
    PUSH_WITHHELD = "push-withheld"  # step 603 found the phone not subscribed
    DUAL_SEND_WITHHELD = "dual-send-withheld"  # the POS-named phone is not subscribed


_check = ConfigValidators(LocalProtocolError)


@attrs.frozen
class CloudConfig:
    """The cloud's knobs."""

    push_timeout: float = attrs.field(default=600.0, validator=_check.positive_number())
    mismatch_policy: MismatchPolicy = MismatchPolicy.DUAL_SEND
    max_products: int = attrs.field(default=5, validator=_check.whole_number(1))
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)


@attrs.frozen
class PushDue:
    """Timer key: the push period of receipt ``receipt_id`` of ``merchant_id`` ends (603)."""

    receipt_id: str
    merchant_id: str

    @property
    def receipt(self) -> ReceiptKey:
        return ReceiptKey(self.merchant_id, self.receipt_id)


class CloudMachine:
    """The cloud server: receiving unit 801, execution unit 802, saving unit 803.

    **Hooks for protocol variants.** A variant subclasses this class and overrides one or
    more of the public methods below, the cloud's decision points; everything else
    (dispatch, the lifecycle table, re-sends, restarts) stays the reference's. These names
    and signatures are the stable variant API (``docs/variants.md``); names with a leading
    underscore may change. Every hook runs inside one step of the machine (one store
    transaction under the actors), reads the time only from ``now``, and returns
    :class:`~protocol.Effects` (or the value shown) for the driver to carry out.

    * ``bind(upload, now)`` (502/602): store a new upload's binding, learn from it, arm its
      push timer;
    * ``push_deadline(binding)`` (602): when the push falls due;
    * ``learn(upload)`` (507/604, unit 803): learn the shopper's habits from an upload
      (at ``bind``, and for every stored binding when the cloud restarts);
    * ``judge(requester, binding)`` (505, module 8022): is the requester the POS-named phone?
    * ``associated_products(binding, now)`` (506/507, module 8023, unit 803): the products
      to deliver, and the matching relation saved;
    * ``on_mismatch(request, requester, binding, sender, now)`` (505 "not equal"): answer or
      refuse a mismatched requester;
    * ``dual_send(binding, products, now)`` (unit 8022): the POS-named phone's half;
    * ``on_push_due(receipt, now)`` (603/605): push, withhold or skip at the deadline;
    * ``mark_delivered(receipt, phone_id)``: record a delivery and cancel the push it
      makes unnecessary (603 pushes only when no request came);
    * ``push(push, now)`` (603, 8022, 605): send a push and keep it until its ``PushAck``;
    * ``supersede_push(receipt, phone_id)``: a response stops an outstanding push.

    A ``receipt`` is a :class:`~protocol.ReceiptKey` (merchant, receipt id): receipt ids
    are unique within a merchant only.
    """

    HOOKS: ClassVar[tuple[str, ...]] = (
        "bind",
        "push_deadline",
        "learn",
        "judge",
        "associated_products",
        "on_mismatch",
        "dual_send",
        "on_push_due",
        "mark_delivered",
        "push",
        "supersede_push",
    )
    """The names of the hooks above, in that order (``docs/variants.md`` lists each)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        # A variant overriding a hook by its old private name would be silently ignored.
        super().__init_subclass__(**kwargs)
        for old, hook in _RENAMED_HOOKS.items():
            if old in vars(cls):
                raise LocalProtocolError(
                    f"{cls.__qualname__} overrides {old}, which the cloud no longer calls: "
                    f"override the public hook {hook} instead (docs/variants.md)"
                )

    def __init__(
        self,
        *,
        store: CloudStore,
        recommender: Recommender,
        config: CloudConfig | None = None,
        device_tokens: DeviceTokens | None = None,
    ) -> None:
        self.store = store
        self.recommender = recommender
        self.config = config if config is not None else CloudConfig()
        # An authenticating cloud gives each subscribing phone its device token.
        self.device_tokens = device_tokens
        self._pushes = Outbox(self.config.retry)  # retry timing; the pushes live in the store

    # ------------------------------------------------------------------ driver API

    def start(self, now: float) -> Effects:
        """(Re)start from the store.

        The recommender relearns from every stored binding, in stored order (step 507's
        learning is a function of the uploads); every pending push is re-armed at its
        original deadline (due at once if it passed); every push not yet acknowledged is
        sent again.
        """
        for binding in self.store.bindings():
            self.learn(binding.upload)
        timers = tuple(Timer(p.deadline, _push_due(p.receipt)) for p in self.store.pending_pushes())
        effects = Effects(timers=timers)
        for push in self.store.outgoing():
            effects += self._pushes.send(
                _push_key(push), Send(phone_address(push.phone_id), push), now
            )
        return effects

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        """Receiving unit 801: dispatch one message from ``sender``."""
        if isinstance(message, AssociationRequest):
            return self._on_request(message, sender, now)
        if isinstance(message, PurchaseUpload):
            return self._on_upload(message, sender, now)
        if isinstance(message, Subscribe):
            if names_another_phone(message, sender):
                return _forged(sender, message.phone_id)
            self.store.subscribe(message.phone_id, now)
            tokens = self.device_tokens
            token = None if tokens is None else tokens.issue(message.phone_id)
            return Effects(sends=(Send(sender, SubscribeAck(message.phone_id, token)),))
        if isinstance(message, PushAck):
            if names_another_phone(message, sender):
                return _forged(sender, message.phone_id)
            # push-acknowledged: pushed or dual-sent -> delivered; in any other state it
            # is refused (nothing-outstanding) and the store has nothing to remove.
            self.store.remove_outgoing(message.receipt, message.phone_id)
            return self._pushes.acknowledge(_push_key(message))
        if isinstance(message, PromotionUpdate):
            self.store.set_promotions(Promotions.from_update(message))
            return Effects(sends=(Send(sender, PromotionAck(message.merchant_id)),))
        if isinstance(message, ErrorReply):
            return NOTHING  # never answer an error with an error
        return _refuse(
            sender,
            ErrorCode.UNEXPECTED_MESSAGE,
            f"the cloud does not accept {type(message).__name__}",
        )

    def timer_fired(self, key: object, now: float) -> Effects:
        """A timer armed by this machine is due."""
        if isinstance(key, PushDue):
            return self.on_push_due(key.receipt, now)
        if isinstance(key, Resend):
            return self._resend_push(key, now)
        raise LocalProtocolError(f"the cloud armed no timer {key!r}")

    # ------------------------------------------------------------------ the lifecycle

    def _state(self, receipt: ReceiptKey, binding: Binding | None) -> ReceiptState:
        """Where ``receipt`` is in its lifecycle, derived from the store (``binding``:
        its binding, read already). The outbox holds exactly the store's outgoing pushes,
        so the store's list is searched only for a receipt with a push in flight."""
        return receipt_state(self.store, receipt, binding=binding, in_flight=self._pushes)

    # ------------------------------------------------------------------ step 502/602

    def _on_upload(self, upload: PurchaseUpload, sender: Address, now: float) -> Effects:
        ack = Send(sender, UploadAck(upload.receipt_id, upload.merchant_id))
        # The merchant's own namespace: another merchant's receipt of the same id is
        # neither refused nor revealed (issue 14).
        existing = self.store.binding(upload.receipt)
        if existing is not None:  # upload-stored is refused: already-bound
            if existing.upload == upload:  # upload-repeated: bound once
                return Effects(sends=(ack,)) + self._repair_push(existing)
            return _refuse(
                sender,
                ErrorCode.CONFLICTING_UPLOAD,
                f"receipt {upload.receipt_id} is already bound to other goods or another phone",
                receipt=upload.receipt,
            )
        return Effects(sends=(ack,)) + self.bind(upload, now)

    def bind(self, upload: PurchaseUpload, now: float) -> Effects:
        """Hook, steps 502/602: store a new upload's binding, learn from it, arm its push.

        Called once per receipt, for an upload not bound before (repeats are acknowledged
        without it). Returns the push timer; the ``UploadAck`` is sent whatever it returns.
        """
        # Step 502: store the goods information bound to the phone identifier.
        binding = Binding(upload, stored_at=now)
        self.store.put_binding(binding)
        self.learn(upload)
        # Step 602: wait for a request; push at the deadline if none comes (step 603).
        deadline = self.push_deadline(binding)
        self.store.put_pending_push(PendingPush(upload.receipt, upload.phone_id, deadline))
        return Effects(timers=(Timer(deadline, _push_due(upload.receipt)),))

    def learn(self, upload: PurchaseUpload) -> None:
        """Hook, steps 507/604 (unit 803): learn the shopper's habits from a stored upload
        (the recommender's ``observe``); a restarted cloud relearns every binding, in order."""
        self.recommender.observe(upload)

    def push_deadline(self, binding: Binding) -> float:
        """Hook, step 602: when ``binding``'s push falls due if no request comes; the
        reference waits ``CloudConfig.push_timeout`` from when the cloud stored it."""
        return binding.stored_at + self.config.push_timeout

    def _repair_push(self, binding: Binding) -> Effects:
        """Step 602 again for a re-sent upload whose receipt has no push armed and was
        never delivered to its phone: arm it at its original deadline (due at once if it
        passed, when step 603 judges it afresh).

        Atomic steps never leave a binding without its pending push; a store that commits
        each write on its own, or was restored from a partial backup, can. The POS re-sends
        an upload until acknowledged, so this mends such a store before a push is lost.
        """
        receipt, phone_id = binding.receipt, binding.phone_id
        state = self._state(receipt, binding)
        to = LIFECYCLE[state][ReceiptEvent.UPLOAD_REPEATED]
        if to is state or to is not ReceiptState.PUSH_PENDING:
            return NOTHING  # armed already, or delivered: nothing to mend
        deadline = self.push_deadline(binding)
        self.store.put_pending_push(PendingPush(receipt, phone_id, deadline))
        return Effects(timers=(Timer(deadline, _push_due(receipt)),))

    # ------------------------------------------------------------------ steps 504-508

    def _on_request(self, request: AssociationRequest, sender: Address, now: float) -> Effects:
        requester = identify_requester(sender)  # step 504, module 8021
        if requester is None or names_another_phone(request, sender):
            return _forged(sender, request.phone_id, request.receipt, request.request_id)
        binding = self.store.binding(request.receipt)
        if binding is None:  # not-uploaded refuses every request: not-bound
            return _refuse(
                sender,
                ErrorCode.UNKNOWN_RECEIPT,
                f"no purchase with receipt id {request.receipt_id} was uploaded",
                receipt=request.receipt,
                request_id=request.request_id,
            )
        if not self.store.is_subscribed(requester):
            return _refuse(
                sender,
                ErrorCode.NOT_SUBSCRIBED,
                f"phone {requester} has not subscribed to the associated-products service",
                receipt=request.receipt,
                request_id=request.request_id,
            )
        if self.judge(requester, binding):  # step 505, module 8022: request-answered
            products = self.associated_products(binding, now)
            cancels = self.mark_delivered(binding.receipt, requester)
            answered = Effects(sends=(self._respond(sender, request, products),), cancels=cancels)
            if allows(self._state(binding.receipt, binding), ReceiptEvent.PUSH_SUPERSEDED):
                return answered + self.supersede_push(binding.receipt, requester)
            return answered
        return self.on_mismatch(request, requester, binding, sender, now)

    def judge(self, requester: str, binding: Binding) -> bool:
        """Hook, step 505 (module 8022): is ``requester`` the phone the POS bound the
        purchase to? ``False`` sends the request to :meth:`on_mismatch`."""
        return judge(requester, binding)

    def on_mismatch(
        self,
        request: AssociationRequest,
        requester: str,
        binding: Binding,
        sender: Address,
        now: float,
    ) -> Effects:
        """Hook, step 505 judged "not equal": answer ``request`` from ``requester``
        (subscribed, but not the POS-named phone) by ``CloudConfig.mismatch_policy``:
        refuse it (``REJECT``), or answer it and :meth:`dual_send` (``DUAL_SEND``)."""
        mismatch = Note(
            CloudNote.MISMATCH,
            receipt_id=binding.receipt_id,
            phone_id=requester,
            detail=f"requester {requester} is not {binding.phone_id} named by the POS",
            merchant_id=binding.upload.merchant_id,
        )
        if self.config.mismatch_policy is MismatchPolicy.REJECT:
            refusal = ErrorReply(
                ErrorCode.IDENTIFIER_MISMATCH,
                f"phone {requester} is not the phone the purchase was bound to",
                receipt_id=binding.receipt_id,
                request_id=request.request_id,
                merchant_id=binding.upload.merchant_id,
            )
            return Effects(sends=(Send(sender, refusal),), notes=(mismatch,))
        # Unit 8022: one of the two identifiers is wrong, so both devices get the products.
        products = self.associated_products(binding, now)
        answered = Effects(sends=(self._respond(sender, request, products),), notes=(mismatch,))
        return answered + self.dual_send(binding, products, now)

    def dual_send(
        self, binding: Binding, products: tuple[AssociatedProduct, ...], now: float
    ) -> Effects:
        """Hook, unit 8022: the POS-named phone's half of a mismatch answered under
        ``DUAL_SEND``: ``products`` as a ``dual-send`` push, once, if it subscribed (else a
        ``dual-send-withheld`` note) and was not delivered the products already."""
        named = binding.phone_id
        if not self.store.is_subscribed(named):  # dual-send-withheld: the receipt stays
            note = Note(
                CloudNote.DUAL_SEND_WITHHELD,
                binding.receipt_id,
                named,
                "not subscribed",
                binding.upload.merchant_id,
            )
            return Effects(notes=(note,))
        if not allows(self._state(binding.receipt, binding), ReceiptEvent.MISMATCH_DUAL_SENT):
            return NOTHING  # already-delivered
        cancels = self.mark_delivered(binding.receipt, named)
        receipt_id, merchant_id = binding.receipt_id, binding.upload.merchant_id
        push = AssociationPush(receipt_id, merchant_id, named, PushReason.DUAL_SEND, products)
        return Effects(cancels=cancels) + self.push(push, now)

    def associated_products(self, binding: Binding, now: float) -> tuple[AssociatedProduct, ...]:
        """Hook, step 506 (module 8023), then step 507 (unit 803): pair the bound goods
        with the recommender (and the merchant's promotions), and save the relation."""
        upload = binding.upload
        promotions = self.store.promotions(upload.merchant_id)
        products = self.recommender.associate(upload, promotions, self.config.max_products)
        self.store.save_matching_relation(
            MatchingRelation(
                receipt=upload.receipt,
                phone_id=upload.phone_id,
                goods=tuple(item.sku for item in upload.items),
                associated=tuple(p.sku for p in products),
                saved_at=now,
            )
        )
        return products

    @staticmethod
    def _respond(
        sender: Address, request: AssociationRequest, products: tuple[AssociatedProduct, ...]
    ) -> Send:
        """Step 508: the response message goes back to the device that asked."""
        response = AssociationResponse(
            request.request_id, request.receipt_id, request.merchant_id, products
        )
        return Send(sender, response)

    def mark_delivered(self, receipt: ReceiptKey, phone_id: str) -> tuple[PushDue, ...]:
        """Hook: record that ``phone_id`` got ``receipt``'s products (answered or
        dual-sent); step 603 pushes only when no request came, so the pending push of that
        phone is removed. Returns the push timer to cancel."""
        self.store.mark_delivered(receipt, phone_id)
        pending = self.store.pending_push(receipt)
        if pending is not None and pending.phone_id == phone_id:
            self.store.remove_pending_push(receipt)
            return (_push_due(receipt),)
        return ()

    # ------------------------------------------------------------------ step 603

    def on_push_due(self, receipt: ReceiptKey, now: float) -> Effects:
        """Hook, steps 603/605: ``receipt``'s push timer fired. Push the products to the
        POS-named phone if it is still pending and due, the phone subscribed and was not
        delivered them; note ``push-withheld`` if it did not subscribe; else nothing."""
        pending = self.store.pending_push(receipt)
        if pending is None or now < pending.deadline:
            return NOTHING  # answered (or dual-sent) in time, or a stale timer
        binding = self.store.binding(receipt)
        state = self._state(receipt, binding)  # while the push is still armed
        self.store.remove_pending_push(receipt)
        if self.store.is_subscribed(pending.phone_id):
            event = ReceiptEvent.PUSH_DUE_SUBSCRIBED
        else:
            event = ReceiptEvent.PUSH_DUE_NOT_SUBSCRIBED
        if binding is None or not allows(state, event):
            return NOTHING  # not-bound, or already-delivered: never a push after a delivery
        if event is ReceiptEvent.PUSH_DUE_NOT_SUBSCRIBED:
            merchant_id, receipt_id = receipt
            note = Note(
                CloudNote.PUSH_WITHHELD, receipt_id, pending.phone_id, "not subscribed", merchant_id
            )
            return Effects(notes=(note,))
        products = self.associated_products(binding, now)
        self.store.mark_delivered(receipt, pending.phone_id)
        merchant_id, receipt_id = receipt
        push = AssociationPush(
            receipt_id, merchant_id, pending.phone_id, PushReason.TIMEOUT, products
        )
        return self.push(push, now)

    # ------------------------------------------------------------------ reliable pushes

    def push(self, push: AssociationPush, now: float) -> Effects:
        """Hook: send a push (timeout or dual-send) and keep it (in the store) until the
        phone acknowledges it (605), re-sending it with ``CloudConfig.retry``."""
        self.store.put_outgoing(push)
        return self._pushes.send(_push_key(push), Send(phone_address(push.phone_id), push), now)

    def supersede_push(self, receipt: ReceiptKey, phone_id: str) -> Effects:
        """Hook, push-superseded: the phone was answered about ``receipt`` while its push of
        it was outstanding: stop re-sending it.

        A push the phone has not acknowledged (lost, or still in flight) would otherwise
        be re-sent after the response, even after a restart: a timeout push after the
        products were answered. The phone has what the push carries; it shows it once.
        """
        superseded = self._pushes.acknowledge((receipt, phone_id))
        if superseded:
            self.store.remove_outgoing(receipt, phone_id)
        return superseded

    def _resend_push(self, key: Resend, now: float) -> Effects:
        resent = self._pushes.resend_due(key.key, now)
        if resent.gave_up and isinstance(key.key, tuple):
            # The phone never acknowledged. Stop keeping the push.
            receipt, phone_id = key.key
            if isinstance(receipt, ReceiptKey):
                self.store.remove_outgoing(receipt, str(phone_id))
        return resent.effects


_RENAMED_HOOKS = {
    "_on_push_due": "on_push_due",
    "_on_mismatch": "on_mismatch",
    "_mark_delivered": "mark_delivered",
    "_push": "push",
    "_supersede_push": "supersede_push",
    "_determine_associated_products": "associated_products",
}
"""The private names variants overrode before the hooks were public."""


def _push_key(push: AssociationPush | PushAck) -> tuple[ReceiptKey, str]:
    return (push.receipt, push.phone_id)


def _push_due(receipt: ReceiptKey) -> PushDue:
    return PushDue(receipt.receipt_id, receipt.merchant_id)


def identify_requester(sender: Address) -> str | None:
    """Step 504 (module 8021): the identifier of the phone that sent a request.

    Taken from the sender's address (``phone:ID``), which an authenticating transport
    proved (``docs/security.md``), never from a field the phone fills in: a request whose
    ``phone_id`` disagrees is refused as ``forged-identifier``. ``None`` if the sender is
    not a phone.
    """
    return phone_of(sender)


def judge(requester: str, binding: Binding) -> bool:
    """Step 505 (module 8022): is the requester the phone the POS bound the purchase to?"""
    return requester == binding.phone_id


def _forged(
    sender: Address,
    claimed: str,
    receipt: ReceiptKey | None = None,
    request_id: int | None = None,
) -> Effects:
    """Refuse a message naming phone ``claimed`` that another party sent."""
    return _refuse(
        sender,
        ErrorCode.FORGED_IDENTIFIER,
        f"{sender} may not act for {phone_address(claimed)}",
        receipt=receipt,
        request_id=request_id,
    )


def _refuse(
    to: Address,
    code: ErrorCode,
    detail: str,
    *,
    receipt: ReceiptKey | None = None,
    request_id: int | None = None,
) -> Effects:
    merchant_id, receipt_id = receipt if receipt is not None else (None, None)
    refusal = ErrorReply(code, detail, receipt_id, request_id, merchant_id)
    return Effects(sends=(Send(to, refusal),))
