"""A cloud with a planted bug: its timeout push ignores answered pulls.

The reference :class:`~protocol.CloudMachine` cancels a receipt's push timer when it
answers the POS-named phone's request (step 603: push only when *no* request came in
time) and never pushes what it already delivered. :class:`PushesAfterAnsweredPulls`
forgets both: the timer stays armed after the response and the push goes out anyway, so
a phone whose user asked gets the same products pushed ``push_timeout`` after the upload.

Load it like any variant: ``assocsim run FILE --cloud tests.planted.buggy_cloud:buggy_cloud``.
"""

from __future__ import annotations

from protocol import (
    AssociationPush,
    CloudConfig,
    CloudMachine,
    CloudNote,
    CloudStore,
    Effects,
    Machine,
    Note,
    PushDue,
    PushReason,
    ReceiptKey,
    Recommender,
)

__all__ = ["PushesAfterAnsweredPulls", "buggy_cloud"]


class PushesAfterAnsweredPulls(CloudMachine):
    """:class:`~protocol.CloudMachine` whose push timer outlives an answered request
    (hooks ``mark_delivered`` and ``on_push_due``, ``docs/variants.md``)."""

    def mark_delivered(self, receipt: ReceiptKey, phone_id: str) -> tuple[PushDue, ...]:
        self.store.mark_delivered(receipt, phone_id)
        return ()  # BUG: the pending push is neither removed nor its timer cancelled

    def on_push_due(self, receipt: ReceiptKey, now: float) -> Effects:
        pending = self.store.pending_push(receipt)
        if pending is None or now < pending.deadline:
            return Effects()
        self.store.remove_pending_push(receipt)
        binding = self.store.binding(receipt)
        if binding is None:
            return Effects()
        # BUG: no `self.store.was_delivered(receipt, pending.phone_id)` check here
        merchant_id, receipt_id = receipt
        if not self.store.is_subscribed(pending.phone_id):
            note = Note(
                CloudNote.PUSH_WITHHELD, receipt_id, pending.phone_id, "not subscribed", merchant_id
            )
            return Effects(notes=(note,))
        products = self.associated_products(binding, now)
        push = AssociationPush(
            receipt_id, merchant_id, pending.phone_id, PushReason.TIMEOUT, products
        )
        return self.push(push, now)


def buggy_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`PushesAfterAnsweredPulls`."""
    return PushesAfterAnsweredPulls(store=store, recommender=recommender, config=config)
