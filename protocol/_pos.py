"""The POS (transaction payment terminal) state machine: step 501/601.

The POS rings up purchases (:class:`Checkout` values: from a scenario, or a real till),
binds each one-to-one to the phone identifier it was given, and uploads it. Once the cloud
acknowledges the binding, the POS hands the buyer's phone the receipt id
(:class:`~protocol.ReceiptNotice`), which is what the phone will ask about.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from ._addresses import CLOUD
from ._effects import NOTHING, Address, Effects, Note, Send, Timer
from ._errors import LocalProtocolError
from ._ids import phone_id_validator, token_validator
from ._messages import (
    MAX_ITEMS_PER_PURCHASE,
    ErrorReply,
    Item,
    Message,
    PromotionUpdate,
    PurchaseUpload,
    ReceiptNotice,
    UploadAck,
)
from ._validators import finite_number, non_empty_tuple_of, text

__all__ = ["Checkout", "CheckoutDue", "PosMachine", "PosNote"]


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
        self._started_at = 0.0

    def start(self, now: float) -> Effects:
        """Send the merchant's promotions (if any) and arm the first checkout."""
        self._started_at = now
        sends = () if self._promotions is None else (Send(self.cloud, self._promotions),)
        timers = (self._checkout_timer(0),) if self._checkouts else ()
        return Effects(sends=sends, timers=timers)

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
        return Effects(sends=(Send(self.cloud, upload),))

    def timer_fired(self, key: object, now: float) -> Effects:
        if not isinstance(key, CheckoutDue):
            raise LocalProtocolError(f"the POS armed no timer {key!r}")
        upload = self.ring_up(self._checkouts[key.index], now).sends
        following = key.index + 1
        if following < len(self._checkouts):
            return Effects(sends=upload, timers=(self._checkout_timer(following),))
        return Effects(sends=upload)

    def _checkout_timer(self, index: int) -> Timer:
        return Timer(self._started_at + self._checkouts[index].at, CheckoutDue(index))

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, UploadAck):
            awaiting = self._awaiting_ack.pop(message.receipt_id, None)
            if awaiting is None:
                return NOTHING  # an acknowledgement repeated: already handled
            checkout, purchased_at = awaiting
            notice = ReceiptNotice(checkout.receipt_id, self.merchant_id, purchased_at)
            return Effects(sends=(Send(checkout.buyer, notice),))
        if isinstance(message, ErrorReply):
            receipt = message.receipt_id
            if receipt is not None:
                self._awaiting_ack.pop(receipt, None)
            note = Note(PosNote.UPLOAD_REFUSED, receipt, None, f"{message.code}: {message.detail}")
            return Effects(notes=(note,))
        return NOTHING  # a POS ignores what it never asked for

    @property
    def awaiting_ack(self) -> int:
        """Uploads sent and not yet acknowledged."""
        return len(self._awaiting_ack)
