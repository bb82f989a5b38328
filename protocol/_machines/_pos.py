"""The POS (transaction payment terminal) state machine: step 501/601.

The POS rings up purchases (:class:`Checkout` values: from a scenario, or a real till),
binds each one-to-one to the phone identifier it was given, and uploads it. Once the cloud
acknowledges the binding, the POS hands the buyer's phone the receipt id
(:class:`~protocol.ReceiptNotice`), which is what the phone will ask about.

Over a lossy network the POS re-sends an upload until its ``UploadAck`` (or a refusal),
a notice until the phone's ``NoticeAck`` and its promotions until the ``PromotionAck``,
with backoff (an :class:`~protocol.lowlevel.Outbox`). What the till keeps in its own storage
across a crash is declared once, :class:`PosState` (:meth:`PosMachine.durable`): everything
but its timers and the messages in flight. A restart rebuilds the machine from it
(:meth:`PosMachine.rebuilt`: the simulation, the explorer and ``assocsim pos --state``
alike), and :meth:`PosMachine.start` then re-sends what is unacknowledged and rings up the
checkouts that fell due while it was down.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from protocol._core._addresses import CLOUD
from protocol._core._effects import NOTHING, Address, Effects, Note, Send, Timer
from protocol._core._errors import LocalProtocolError
from protocol._core._ids import phone_id_validator, token_validator
from protocol._core._messages import (
    MAX_ITEMS_PER_PURCHASE,
    ErrorReply,
    Item,
    Message,
    NoticeAck,
    PromotionAck,
    PromotionUpdate,
    PurchaseUpload,
    ReceiptNotice,
    UploadAck,
)
from protocol._core._validators import finite_number, non_empty_tuple_of, text

from ._outbox import Kept, Outbox, Resend, RetryPolicy

__all__ = ["Checkout", "CheckoutDue", "PosMachine", "PosNote", "PosState"]


class PosNote:
    """The kinds of :class:`~protocol.Note` the POS emits."""

    UPLOAD_REFUSED = "upload-refused"


@attrs.frozen
class Checkout:
    """One purchase rung up ``at`` seconds after the POS started.

    ``phone_id`` is the identifier the POS was given (keyed in or read at payment; it can be
    wrong), ``buyer`` the address of the phone that actually paid.
    """

    at: float = attrs.field(validator=finite_number())
    receipt_id: str = attrs.field(validator=token_validator)
    phone_id: str = attrs.field(validator=phone_id_validator)
    buyer: Address = attrs.field(validator=text(200))
    items: tuple[Item, ...] = attrs.field(
        validator=non_empty_tuple_of(Item, max_length=MAX_ITEMS_PER_PURCHASE)
    )


@attrs.frozen
class CheckoutDue:
    """Timer key: checkout number ``index`` of the POS's schedule is due."""

    index: int


@attrs.frozen
class PosState:
    """What a till keeps across a crash (its own storage): all of its state but its timers
    (re-armed by :meth:`PosMachine.start`) and its mailbox. Its schedule of checkouts, its
    promotions and the retry policy are its configuration, given again at a restart.

    ``awaiting_ack`` must be here: a sale rung up and not yet acknowledged is uploaded
    again after a crash, not lost; ``next_checkout``, or a sale would be rung up twice.
    """

    merchant_id: str
    pos_id: str
    started_at: float | None = None
    next_checkout: int = 0
    awaiting_ack: tuple[tuple[Checkout, float], ...] = ()  # (sale, rung up at), in order
    outbox: tuple[Kept, ...] = ()


class PosMachine:
    """A checkout of merchant ``merchant_id``, ringing up ``checkouts`` in time order."""

    def __init__(
        self,
        merchant_id: str,
        pos_id: str,
        checkouts: Sequence[Checkout] = (),
        *,
        promotions: PromotionUpdate | None = None,
        cloud: Address = CLOUD,
        retry: RetryPolicy | None = None,
    ) -> None:
        if any(b.at < a.at for a, b in itertools.pairwise(checkouts)):
            raise LocalProtocolError(f"POS {merchant_id}:{pos_id}: checkouts must be in time order")
        if promotions is not None and promotions.merchant_id != merchant_id:
            raise LocalProtocolError(
                f"POS {merchant_id}:{pos_id}: promotions of merchant {promotions.merchant_id}"
            )
        self.merchant_id = merchant_id
        self.pos_id = pos_id
        self.cloud = cloud
        self._checkouts = tuple(checkouts)
        self._promotions = promotions
        self._awaiting_ack: dict[str, tuple[Checkout, float]] = {}
        self._outbox = Outbox(retry)
        self._started_at: float | None = None
        self._next_checkout = 0

    def durable(self) -> PosState:
        """What this till keeps across a crash, now."""
        return PosState(
            merchant_id=self.merchant_id,
            pos_id=self.pos_id,
            started_at=self._started_at,
            next_checkout=self._next_checkout,
            awaiting_ack=tuple(self._awaiting_ack.values()),
            outbox=self._outbox.kept(),
        )

    def rebuilt(self, state: PosState) -> PosMachine:
        """A new machine of this till's configuration holding ``state`` and nothing else:
        the till restarted after a crash (what ``state`` lacks is lost)."""
        if (state.merchant_id, state.pos_id) != (self.merchant_id, self.pos_id):
            raise LocalProtocolError(
                f"POS {self.merchant_id}:{self.pos_id}: the state of "
                f"{state.merchant_id}:{state.pos_id}"
            )
        if state.next_checkout > len(self._checkouts):
            raise LocalProtocolError(
                f"POS {self.merchant_id}:{self.pos_id}: the state rang up "
                f"{state.next_checkout} checkouts of {len(self._checkouts)}"
            )
        pos = type(self).__new__(type(self))  # a variant (a subclass) restarts as itself
        PosMachine.__init__(
            pos,
            self.merchant_id,
            self.pos_id,
            self._checkouts,
            promotions=self._promotions,
            cloud=self.cloud,
            retry=self._outbox.policy,
        )
        pos._started_at = state.started_at
        pos._next_checkout = state.next_checkout
        pos._awaiting_ack = {c.receipt_id: (c, at) for c, at in state.awaiting_ack}
        pos._outbox = Outbox.recovered(self._outbox.policy, state.outbox)
        return pos

    def start(self, now: float) -> Effects:
        """Send the merchant's promotions (if any) and arm the first checkout.

        Called again after a crash: re-send what is unacknowledged and re-arm the next
        checkout (at once if it fell due while the till was down).
        """
        if self._started_at is not None:
            effects = self._outbox.resume(now)
            if self._next_checkout < len(self._checkouts):
                effects += Effects(timers=(self._checkout_timer(self._next_checkout),))
            return effects
        self._started_at = now
        effects = NOTHING
        if self._promotions is not None:
            effects = self._outbox.send(_PROMOTIONS, Send(self.cloud, self._promotions), now)
        if self._checkouts:
            effects += Effects(timers=(self._checkout_timer(0),))
        return effects

    def ring_up(self, checkout: Checkout, now: float) -> Effects:
        """Step 501: bind the purchase to the phone identifier and upload it to the cloud."""
        upload = PurchaseUpload(
            receipt_id=checkout.receipt_id,
            merchant_id=self.merchant_id,
            pos_id=self.pos_id,
            phone_id=checkout.phone_id,
            items=checkout.items,
            purchased_at=now,
        )
        self._awaiting_ack[checkout.receipt_id] = (checkout, now)
        return self._outbox.send(_Upload(checkout.receipt_id), Send(self.cloud, upload), now)

    def timer_fired(self, key: object, now: float) -> Effects:
        if isinstance(key, Resend):
            return self._resend(key.key, now)
        if not isinstance(key, CheckoutDue):
            raise LocalProtocolError(f"the POS armed no timer {key!r}")
        if key.index != self._next_checkout:
            return NOTHING  # already rung up
        effects = self.ring_up(self._checkouts[key.index], now)
        self._next_checkout = following = key.index + 1
        if following < len(self._checkouts):
            return effects + Effects(timers=(self._checkout_timer(following),))
        return effects

    def _checkout_timer(self, index: int) -> Timer:
        started_at = self._started_at if self._started_at is not None else 0.0
        return Timer(started_at + self._checkouts[index].at, CheckoutDue(index))

    def _resend(self, key: object, now: float) -> Effects:
        resent = self._outbox.resend_due(key, now)
        if resent.gave_up and isinstance(key, _Upload):  # a notice or promotions keep nothing
            self._awaiting_ack.pop(key.receipt_id, None)
        return resent.effects

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, UploadAck | NoticeAck) and message.merchant_id != self.merchant_id:
            return NOTHING  # another merchant's receipt: not one this till sent
        if isinstance(message, UploadAck):
            awaiting = self._awaiting_ack.pop(message.receipt_id, None)
            if awaiting is None:
                return NOTHING  # an acknowledgement repeated: already handled
            checkout, purchased_at = awaiting
            notice = ReceiptNotice(checkout.receipt_id, self.merchant_id, purchased_at)
            return self._outbox.acknowledge(_Upload(checkout.receipt_id)) + self._outbox.send(
                _Notice(checkout.receipt_id), Send(checkout.buyer, notice), now
            )
        if isinstance(message, NoticeAck):
            return self._notice_acknowledged(message, sender)
        if isinstance(message, PromotionAck):
            return self._outbox.acknowledge(_PROMOTIONS)
        if isinstance(message, ErrorReply):
            receipt = message.receipt_id
            effects = NOTHING
            if receipt is not None:
                if self._awaiting_ack.pop(receipt, None) is None:
                    return NOTHING  # a refusal repeated: already noted
                effects = self._outbox.acknowledge(_Upload(receipt))
            detail = f"{message.code}: {message.detail}"
            note = Note(PosNote.UPLOAD_REFUSED, receipt, None, detail, self.merchant_id)
            return effects + Effects(notes=(note,))
        return NOTHING  # a POS ignores what it never asked for

    def _notice_acknowledged(self, ack: NoticeAck, sender: Address) -> Effects:
        """The checkout handed the buyer its receipt id: only the buyer's phone, the one the
        notice went to, stops its re-sending. Another phone's ack (a stranger who learned
        the id) changes nothing, or an offline buyer would never get its notice."""
        key = _Notice(ack.receipt_id)
        if self._outbox.addressee(key) != sender:
            return NOTHING
        return self._outbox.acknowledge(key)

    @property
    def awaiting_ack(self) -> int:
        """Uploads sent and not yet acknowledged."""
        return len(self._awaiting_ack)

    @property
    def unacknowledged(self) -> int:
        """Messages of any kind the POS is still re-sending."""
        return len(self._outbox)


@attrs.frozen
class _Upload:
    receipt_id: str


@attrs.frozen
class _Notice:
    receipt_id: str


_PROMOTIONS = "promotions"
