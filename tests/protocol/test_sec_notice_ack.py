"""The POS stops re-sending a receipt notice only on its buyer's ``NoticeAck`` (reviewer
finding S2): the notice went to ``checkout.buyer``, and an ack from any other phone (a
stranger who learned the receipt id, or the phone the till wrongly keyed) would silence
it before an offline buyer ever got it. The planted POS that takes anyone's ack
(``tests/planted/any_phone_acks_pos.py``) is caught.
"""

from __future__ import annotations

from protocol import (
    CLOUD,
    Checkout,
    CheckoutDue,
    NoticeAck,
    PosMachine,
    ReceiptNotice,
    Send,
    UploadAck,
    phone_address,
)
from protocol.lowlevel import Resend
from tests.builders import ALICE, BOB, CAROL, MERCHANT, catalog_items
from tests.planted.any_phone_acks_pos import AnyPhoneAcksPos

STRANGER = CAROL


def notified_pos(pos_class: type[PosMachine]) -> PosMachine:
    """A till that keyed Bob's number for Alice's purchase r-1, and has sent Alice (its
    buyer) the receipt notice: the notice is in its outbox, re-sent until acknowledged."""
    checkout = Checkout(1.0, "r-1", BOB, phone_address(ALICE), catalog_items("SKIN-FW-001"))
    pos = pos_class(MERCHANT, "pos-1", (checkout,))
    pos.start(0.0)
    pos.timer_fired(CheckoutDue(0), 1.0)
    notice = pos.handle(UploadAck("r-1", MERCHANT), CLOUD, 2.0)
    assert notice.sends == (Send(phone_address(ALICE), ReceiptNotice("r-1", MERCHANT, 1.0)),)
    assert pos.unacknowledged == 1
    return pos


def notices_left_after_acks_of(pos_class: type[PosMachine], *phones: str) -> int:
    """Messages the till still re-sends after a NoticeAck of r-1 from each of ``phones``."""
    pos = notified_pos(pos_class)
    for n, phone_id in enumerate(phones):
        pos.handle(NoticeAck("r-1", MERCHANT), phone_address(phone_id), 3.0 + n)
    return pos.unacknowledged


def test_only_the_buyers_ack_stops_the_notice() -> None:
    assert notices_left_after_acks_of(PosMachine, STRANGER) == 1
    assert notices_left_after_acks_of(PosMachine, BOB) == 1  # the number keyed, not the buyer
    assert notices_left_after_acks_of(PosMachine, STRANGER, BOB, ALICE) == 0
    assert notices_left_after_acks_of(PosMachine, ALICE) == 0


def test_after_a_strangers_ack_the_notice_is_still_resent_to_the_buyer() -> None:
    pos = notified_pos(PosMachine)
    assert not pos.handle(NoticeAck("r-1", MERCHANT), phone_address(STRANGER), 3.0)
    due = pos.durable().outbox[0].key
    again = pos.timer_fired(Resend(due), 10.0)
    assert again.sends == (Send(phone_address(ALICE), ReceiptNotice("r-1", MERCHANT, 1.0)),)


def test_planted_a_pos_taking_anyones_ack_is_silenced_by_a_stranger() -> None:
    assert notices_left_after_acks_of(AnyPhoneAcksPos, STRANGER) == 0
    assert notices_left_after_acks_of(AnyPhoneAcksPos, BOB) == 0
