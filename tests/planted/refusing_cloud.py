"""A cloud with a planted bug: it refuses every upload, valid as it is.

:class:`RefusesUploads` answers each ``purchase-upload`` with an ``error-reply``
``invalid-message`` naming its receipt, instead of storing and acknowledging it (step 502).
Nothing is bound, nothing delivered, and no promise to a user is broken: a refused upload
is owed nothing. Before ``refusal-justified`` the check and the report said all clear
(``assocsim run quickstart --cloud ... --check --set purchases=30``: 0 of 30 delivered, no
violations); ``tests/scenarios/test_refusal_justified.py``.

Load it like any variant: ``--cloud tests.planted.refusing_cloud:refusing_cloud``.
"""

from __future__ import annotations

from protocol import (
    Address,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    ErrorCode,
    ErrorReply,
    Machine,
    Message,
    PurchaseUpload,
    Recommender,
    Send,
)

__all__ = ["RefusesUploads", "refusing_cloud"]


class RefusesUploads(CloudMachine):
    """:class:`~protocol.CloudMachine` that refuses every upload as invalid."""

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, PurchaseUpload):  # BUG: a valid upload refused (step 502)
            refusal = ErrorReply(
                ErrorCode.INVALID_MESSAGE,
                "refused",
                message.receipt_id,
                None,
                message.merchant_id,
            )
            return Effects(sends=(Send(sender, refusal),))
        return super().handle(message, sender, now)


def refusing_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`RefusesUploads`."""
    return RefusesUploads(store=store, recommender=recommender, config=config)
