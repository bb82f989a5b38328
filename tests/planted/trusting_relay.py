"""A notice relay with a planted bug: it trusts the merchant a receipt notice claims.

The field cloud's :func:`~scenarios._field._serve.relay_policy` relays a POS's receipt
notice only when the notice names the sending till's own merchant, and records the phone
as the holder of *that* merchant's receipt. :func:`trusting_relay_policy` is issue 14's
relay: it records the holder under whatever merchant the notice claims, so shop-02's till
can make its phone the holder of shop-01's receipt, whose products that phone then gets
(and shop-01's customer an unasked dual-send).
"""

from __future__ import annotations

from actors import MayRelay
from protocol import Address, Message, NoticeAck, ReceiptKey, ReceiptNotice
from protocol.lowlevel import phone_of, pos_of
from scenarios._field._serve import ReceiptHolders

__all__ = ["trusting_relay_policy"]


def trusting_relay_policy(holders: ReceiptHolders) -> MayRelay:
    """:func:`~scenarios._field._serve.relay_policy` without the merchant check."""

    def may_relay(sender: Address, recipient: Address, message: Message) -> bool:
        if isinstance(message, ReceiptNotice):
            phone = phone_of(recipient)
            if pos_of(sender) is None or phone is None:
                return False
            # BUG: the claimed merchant, not the sending till's
            holders.record(ReceiptKey(message.merchant_id, message.receipt_id), phone)
            return True
        return isinstance(message, NoticeAck)

    return may_relay
