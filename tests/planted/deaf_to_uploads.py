"""A cloud with a planted bug: it receives every upload and never answers one.

:class:`DeafToUploads` never acknowledges nor refuses a ``purchase-upload`` (step 502's
``upload-ack`` never sent). On a network without faults each POS re-sends until its
``max_attempts`` and notes ``gave-up``. A give-up excuses only what the network or a
crash could have lost, so each upload is a ``no-delivery-lost`` violation: it reached the
cloud and the cloud sent nothing back. Before that rule a give-up excused everything, and
``assocsim run quickstart --cloud ... --check --set purchases=30`` said all clear (0
delivered, 0 lost, 30 given up); ``tests/scenarios/test_unanswered_upload.py``.

Load it like any variant: ``--cloud tests.planted.deaf_to_uploads:deaf_to_uploads``.
"""

from __future__ import annotations

from protocol import (
    Address,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    Machine,
    Message,
    PurchaseUpload,
    Recommender,
)

__all__ = ["DeafToUploads", "deaf_to_uploads"]


class DeafToUploads(CloudMachine):
    """:class:`~protocol.CloudMachine` that drops every upload it receives, unanswered."""

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, PurchaseUpload):
            return Effects()  # BUG: neither an upload-ack nor a refusal (step 502)
        return super().handle(message, sender, now)


def deaf_to_uploads(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`DeafToUploads`."""
    return DeafToUploads(store=store, recommender=recommender, config=config)
