"""The phone (terminal device) state machine: sending unit 701, receiving unit 702.

The phone subscribes when it first pays (the patent's "establish an association"), asks
for the associated products of a receipt (step 503) when its user wants, and shows what
the cloud answers (step 509) or pushes unasked (step 605).

The user's behaviour is an input: ``ask_plan`` maps a receipt id to the delay after the
receipt notice at which the user asks (``None``: never asks, so the cloud must push);
receipts not in the plan use ``default_ask_delay``.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._addresses import CLOUD
from ._effects import NOTHING, Address, Effects, Send, Timer
from ._errors import LocalProtocolError
from ._messages import (
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorReply,
    Message,
    ReceiptNotice,
    Subscribe,
    SubscribeAck,
)

__all__ = ["AskDue", "Delivery", "PhoneMachine"]


@attrs.frozen
class AskDue:
    """Timer key: the user asks about ``receipt_id`` now."""

    receipt_id: str


@attrs.frozen
class Delivery:
    """Associated products the phone received (step 509 or 605)."""

    receipt_id: str
    kind: str  # "response", or the push reason: "timeout" / "dual-send"
    products: tuple[AssociatedProduct, ...]
    at: float


class PhoneMachine:
    """The client software of the phone whose identifier is ``phone_id``."""

    def __init__(
        self,
        phone_id: str,
        *,
        subscribes: bool = True,
        ask_plan: Mapping[str, float | None] | None = None,
        default_ask_delay: float | None = 0.0,
        cloud: Address = CLOUD,
    ) -> None:
        self.phone_id = phone_id
        self.subscribes = subscribes
        self.cloud = cloud
        self._ask_plan: Mapping[str, float | None] = ask_plan if ask_plan is not None else {}
        self._default_ask_delay = default_ask_delay
        self.subscribed = False
        self._subscribing = False
        self._waiting_for_subscription: list[str] = []
        self._next_request_id = 1
        self.deliveries: list[Delivery] = []
        self.refusals: list[ErrorReply] = []

    def start(self, now: float) -> Effects:
        return NOTHING

    def ask(self, receipt_id: str, now: float) -> Effects:
        """Step 503 (sending unit 701): ask the cloud about ``receipt_id``."""
        if self._subscribing and not self.subscribed:
            self._waiting_for_subscription.append(receipt_id)  # ask once subscribed
            return NOTHING
        request = AssociationRequest(self._next_request_id, receipt_id, self.phone_id)
        self._next_request_id += 1
        return Effects(sends=(Send(self.cloud, request),))

    def timer_fired(self, key: object, now: float) -> Effects:
        if not isinstance(key, AskDue):
            raise LocalProtocolError(f"the phone armed no timer {key!r}")
        return self.ask(key.receipt_id, now)

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, AssociationResponse):  # step 509, receiving unit 702
            self.deliveries.append(Delivery(message.receipt_id, "response", message.products, now))
            return NOTHING
        if isinstance(message, AssociationPush):  # step 605, receiving unit 702
            self.deliveries.append(
                Delivery(message.receipt_id, str(message.reason), message.products, now)
            )
            return NOTHING
        if isinstance(message, ReceiptNotice):
            return self._on_receipt(message, now)
        if isinstance(message, SubscribeAck):
            self.subscribed = True
            waiting, self._waiting_for_subscription = self._waiting_for_subscription, []
            sends = tuple(s for r in waiting for s in self.ask(r, now).sends)
            return Effects(sends=sends)
        if isinstance(message, ErrorReply):
            self.refusals.append(message)
            return NOTHING
        return NOTHING  # a phone ignores what it never asked for

    def _on_receipt(self, notice: ReceiptNotice, now: float) -> Effects:
        sends: tuple[Send, ...] = ()
        if self.subscribes and not self._subscribing:
            # The first payment with the phone: establish the association, subscribe.
            self._subscribing = True
            sends = (Send(self.cloud, Subscribe(self.phone_id)),)
        delay = self._ask_plan.get(notice.receipt_id, self._default_ask_delay)
        timers = () if delay is None else (Timer(now + delay, AskDue(notice.receipt_id)),)
        return Effects(sends=sends, timers=timers)
