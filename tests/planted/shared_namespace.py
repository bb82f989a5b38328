"""A cloud store with a planted bug: one receipt-id namespace for every merchant.

:class:`~protocol.InMemoryStore` keys a receipt by (merchant, receipt id).
:class:`SharedNamespaceStore` keys it by the receipt id alone, as the store did before
issue 14: shop-02's upload of an id shop-01 already used is refused as
``conflicting-upload`` (which tells shop-02 that the id exists elsewhere), and shop-01's
real sale of that id is refused if shop-02 came first.
"""

from __future__ import annotations

from protocol import Binding, InMemoryStore, PendingPush, ReceiptKey

__all__ = ["SharedNamespaceStore"]

_ANY = "*"  # BUG: every merchant's receipts in one namespace


def _shared(receipt: ReceiptKey) -> ReceiptKey:
    return ReceiptKey(_ANY, receipt.receipt_id)


class SharedNamespaceStore(InMemoryStore):
    """An :class:`~protocol.InMemoryStore` that forgets the merchant of a receipt key."""

    def binding(self, receipt: ReceiptKey) -> Binding | None:
        return self._bindings.get(_shared(receipt))

    def put_binding(self, binding: Binding) -> None:
        self._bindings[_shared(binding.receipt)] = binding

    def pending_push(self, receipt: ReceiptKey) -> PendingPush | None:
        return super().pending_push(_shared(receipt))

    def put_pending_push(self, push: PendingPush) -> None:
        super().put_pending_push(PendingPush(_shared(push.receipt), push.phone_id, push.deadline))

    def remove_pending_push(self, receipt: ReceiptKey) -> None:
        super().remove_pending_push(_shared(receipt))
