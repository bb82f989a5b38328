"""The phone (terminal device) state machine: sending unit 701, receiving unit 702.

The phone subscribes when it first pays (the patent's "establish an association"), asks
for the associated products of a receipt (step 503) when its user wants, and shows what
the cloud answers (step 509) or pushes unasked (step 605).

The user's behaviour is an input: ``ask_plan`` maps a receipt (a
:class:`~protocol.ReceiptKey`: merchant and receipt id) to the delay after the purchase
(the notice's ``purchased_at``) at which the user asks (``None``: never asks, so the cloud
must push); receipts not in the plan use ``default_ask_delay``.

Over a lossy network the phone re-sends its subscription and each request (same
``request_id``) with backoff until the answer comes, acknowledges every push
(:class:`~protocol.PushAck`) and every receipt notice (:class:`~protocol.NoticeAck`), and
shows the associated products of a receipt to its user once: the first delivery is shown
(note ``shown``), later copies are acknowledged and ignored (note ``already-shown``).

What the app keeps in its own storage across a crash is declared once, :class:`PhoneState`
(:meth:`PhoneMachine.durable`): everything but its timers and the messages in flight. A
restart rebuilds the machine from it (:meth:`PhoneMachine.rebuilt`: the simulation, the
explorer and ``assocsim phone --state`` alike), and :meth:`PhoneMachine.start` then re-sends
what is unanswered and re-arms the asks still to come.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from protocol._core._addresses import CLOUD
from protocol._core._effects import NOTHING, Address, Effects, Note, Send, Timer
from protocol._core._errors import LocalProtocolError
from protocol._core._messages import (
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorReply,
    Message,
    NoticeAck,
    PushAck,
    ReceiptKey,
    ReceiptNotice,
    Subscribe,
    SubscribeAck,
)

from ._outbox import Kept, Outbox, Resend, RetryPolicy

__all__ = ["AskDue", "Delivery", "PhoneMachine", "PhoneNote", "PhoneState"]


class PhoneNote:
    """The kinds of :class:`~protocol.Note` the phone emits."""

    SHOWN = "shown"  # the user sees a receipt's associated products (first delivery)
    ALREADY_SHOWN = "already-shown"  # another copy of a delivery already shown: ignored


@attrs.frozen
class AskDue:
    """Timer key: the user asks about receipt ``receipt_id`` of ``merchant_id`` now."""

    receipt_id: str
    merchant_id: str

    @property
    def receipt(self) -> ReceiptKey:
        return ReceiptKey(self.merchant_id, self.receipt_id)


@attrs.frozen
class Delivery:
    """Associated products the phone received (step 509 or 605)."""

    receipt_id: str
    kind: str  # "response", or the push reason: "timeout" / "dual-send"
    products: tuple[AssociatedProduct, ...]
    at: float
    merchant_id: str


@attrs.frozen
class PhoneState:
    """What a phone keeps across a crash (the app's storage): all of its state but its
    timers (re-armed by :meth:`PhoneMachine.start`) and its mailbox. The user's plan
    (``ask_plan``) and the retry policy are its configuration, given again at a restart.

    ``shown`` must be here: without it a push re-sent after a crash (its ack lost with the
    process) is shown to the user twice. ``deliveries`` and ``refusals`` are what the app
    lists to its user (its history), so they are kept too.
    """

    phone_id: str
    started: bool = False
    subscribing: bool = False
    subscribed: bool = False
    device_token: str | None = None
    waiting_for_subscription: tuple[ReceiptKey, ...] = ()
    next_request_id: int = 1
    outbox: tuple[Kept, ...] = ()
    asking: tuple[tuple[int, ReceiptKey], ...] = ()  # in the order asked
    asks_due: tuple[tuple[ReceiptKey, float], ...] = ()  # in the order noticed
    noticed: tuple[ReceiptKey, ...] = ()
    shown: tuple[ReceiptKey, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    refusals: tuple[ErrorReply, ...] = ()


class PhoneMachine:
    """The client software of the phone whose identifier is ``phone_id``."""

    def __init__(
        self,
        phone_id: str,
        *,
        subscribes: bool = True,
        ask_plan: Mapping[ReceiptKey, float | None] | None = None,
        default_ask_delay: float | None = 0.0,
        cloud: Address = CLOUD,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.phone_id = phone_id
        self.subscribes = subscribes
        self.cloud = cloud
        self._ask_plan: Mapping[ReceiptKey, float | None] = ask_plan if ask_plan is not None else {}
        self._default_ask_delay = default_ask_delay
        self.subscribed = False
        # The proof of phone_id for later connections, from the SubscribeAck (the app
        # keeps it; a driver saves it where the app would, e.g. assocsim phone --token-file).
        self.device_token: str | None = None
        self._subscribing = False
        self._waiting_for_subscription: list[ReceiptKey] = []
        self._next_request_id = 1
        self._outbox = Outbox(retry)
        self._asking: dict[int, ReceiptKey] = {}  # request id -> receipt, until answered
        self._asks_due: dict[ReceiptKey, float] = {}  # receipt -> when the user will ask
        # Receipts by merchant and id: two shops may hand this phone the same receipt id.
        self._noticed: set[ReceiptKey] = set()
        self._shown: set[ReceiptKey] = set()
        self._started = False
        self.deliveries: list[Delivery] = []
        self.refusals: list[ErrorReply] = []

    def durable(self) -> PhoneState:
        """What this phone keeps across a crash, now (its sets in a stable order)."""
        return PhoneState(
            phone_id=self.phone_id,
            started=self._started,
            subscribing=self._subscribing,
            subscribed=self.subscribed,
            device_token=self.device_token,
            waiting_for_subscription=tuple(self._waiting_for_subscription),
            next_request_id=self._next_request_id,
            outbox=self._outbox.kept(),
            asking=tuple(self._asking.items()),
            asks_due=tuple(self._asks_due.items()),
            noticed=tuple(sorted(self._noticed)),
            shown=tuple(sorted(self._shown)),
            deliveries=tuple(self.deliveries),
            refusals=tuple(self.refusals),
        )

    def rebuilt(self, state: PhoneState) -> PhoneMachine:
        """A new machine of this phone's configuration holding ``state`` and nothing else:
        the phone restarted after a crash (what ``state`` lacks is lost)."""
        if state.phone_id != self.phone_id:
            raise LocalProtocolError(f"phone {self.phone_id}: the state of {state.phone_id}")
        phone = type(self).__new__(type(self))  # a variant (a subclass) restarts as itself
        PhoneMachine.__init__(
            phone,
            self.phone_id,
            subscribes=self.subscribes,
            ask_plan=self._ask_plan,
            default_ask_delay=self._default_ask_delay,
            cloud=self.cloud,
            retry=self._outbox.policy,
        )
        phone._started = state.started
        phone._subscribing = state.subscribing
        phone.subscribed = state.subscribed
        phone.device_token = state.device_token
        phone._waiting_for_subscription = list(state.waiting_for_subscription)
        phone._next_request_id = state.next_request_id
        phone._outbox = Outbox.recovered(self._outbox.policy, state.outbox)
        phone._asking = dict(state.asking)
        phone._asks_due = dict(state.asks_due)
        phone._noticed = set(state.noticed)
        phone._shown = set(state.shown)
        phone.deliveries = list(state.deliveries)
        phone.refusals = list(state.refusals)
        return phone

    def start(self, now: float) -> Effects:
        """Nothing at first; after a crash, re-send what is unanswered and re-arm the asks."""
        if not self._started:
            self._started = True
            return NOTHING
        timers = tuple(Timer(at, _ask_due(receipt)) for receipt, at in self._asks_due.items())
        return self._outbox.resume(now) + Effects(timers=timers)

    @property
    def unanswered(self) -> int:
        """Messages the phone is still re-sending (a subscription, requests)."""
        return len(self._outbox)

    def ask(self, receipt: ReceiptKey, now: float) -> Effects:
        """Step 503 (sending unit 701): ask the cloud about ``receipt``."""
        self._asks_due.pop(receipt, None)
        if not self.subscribed and (self._subscribing or (self.subscribes and self._noticed)):
            # Ask once subscribed; a phone that subscribes and whose subscription gave up
            # subscribes again now (else this ask, and every later one, would wait for ever).
            self._waiting_for_subscription.append(receipt)
            return self.subscribe(now)
        merchant_id, receipt_id = receipt
        request = AssociationRequest(self._next_request_id, receipt_id, merchant_id, self.phone_id)
        self._next_request_id += 1
        self._asking[request.request_id] = receipt
        return self._outbox.send(request.request_id, Send(self.cloud, request), now)

    def subscribe(self, now: float) -> Effects:
        """Subscribe to the service, once (re-sent until acknowledged); the first receipt
        notice does it for a phone that ``subscribes``, an app may do it at enrolment. A
        subscription that gave up (its re-sends unanswered) is tried again by the next
        notice or ask of a phone that ``subscribes``."""
        if self._subscribing or self.subscribed:  # (subscribed: a late ack after a give-up)
            return NOTHING
        self._subscribing = True
        return self._outbox.send(_SUBSCRIPTION, Send(self.cloud, Subscribe(self.phone_id)), now)

    def timer_fired(self, key: object, now: float) -> Effects:
        if isinstance(key, Resend):
            resent = self._outbox.resend_due(key.key, now)
            if resent.gave_up and isinstance(key.key, int):  # a request, not the subscription
                self._asking.pop(key.key, None)
            elif resent.gave_up:  # the subscription: the next notice or ask subscribes again
                self._subscribing = False
            return resent.effects
        if not isinstance(key, AskDue):
            raise LocalProtocolError(f"the phone armed no timer {key!r}")
        return self.ask(key.receipt, now)

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, AssociationResponse):  # step 509, receiving unit 702
            self._asking.pop(message.request_id, None)
            answered = self._outbox.acknowledge(message.request_id)
            return answered + self._show(message.receipt, "response", message.products, now)
        if isinstance(message, AssociationPush):  # step 605, receiving unit 702
            ack = PushAck(message.receipt_id, message.merchant_id, message.phone_id)
            shown = self._show(message.receipt, str(message.reason), message.products, now)
            return Effects(sends=(Send(sender, ack),)) + shown
        if isinstance(message, ReceiptNotice):
            return self._on_receipt(message, sender, now)
        if isinstance(message, SubscribeAck):
            if message.device_token is not None and message.phone_id == self.phone_id:
                self.device_token = message.device_token
            if self.subscribed:
                return NOTHING  # the acknowledgement repeated
            self.subscribed = True
            effects = self._outbox.acknowledge(_SUBSCRIPTION)
            waiting, self._waiting_for_subscription = self._waiting_for_subscription, []
            for receipt in waiting:
                effects += self.ask(receipt, now)
            return effects
        if isinstance(message, ErrorReply):
            request_id = message.request_id
            if request_id is not None:
                if self._asking.pop(request_id, None) is None:
                    return NOTHING  # the refusal repeated
                self.refusals.append(message)
                return self._outbox.acknowledge(request_id)
            self.refusals.append(message)
            return NOTHING
        return NOTHING  # a phone ignores what it never asked for

    def _show(
        self, receipt: ReceiptKey, kind: str, products: tuple[AssociatedProduct, ...], now: float
    ) -> Effects:
        """Step 509/605: show a receipt's associated products to the user, once."""
        merchant_id, receipt_id = receipt
        if receipt in self._shown:
            note = Note(PhoneNote.ALREADY_SHOWN, receipt_id, self.phone_id, kind, merchant_id)
            return Effects(notes=(note,))
        self._shown.add(receipt)
        self.deliveries.append(Delivery(receipt_id, kind, products, now, merchant_id))
        note = Note(PhoneNote.SHOWN, receipt_id, self.phone_id, kind, merchant_id)
        return Effects(notes=(note,))

    def _on_receipt(self, notice: ReceiptNotice, sender: Address, now: float) -> Effects:
        ack = NoticeAck(notice.receipt_id, notice.merchant_id)
        effects = Effects(sends=(Send(sender, ack),))
        receipt = notice.receipt
        if self.subscribes:
            # The first payment with the phone: establish the association, subscribe (a
            # no-op once subscribing; again if the subscription gave up, even on a notice
            # repeated).
            effects += self.subscribe(now)
        if receipt in self._noticed:
            return effects  # the notice repeated
        self._noticed.add(receipt)
        delay = self._ask_plan.get(receipt, self._default_ask_delay)
        if delay is not None:
            # The user asks `delay` after paying (the receipt's time), or at once if the
            # notice itself came later than that (a slow or lossy network).
            at = max(now, notice.purchased_at + delay)
            self._asks_due[receipt] = at
            effects += Effects(timers=(Timer(at, _ask_due(receipt)),))
        return effects


_SUBSCRIPTION = "subscription"


def _ask_due(receipt: ReceiptKey) -> AskDue:
    return AskDue(receipt.receipt_id, receipt.merchant_id)
