"""A cloud with a planted bug: it never answers the subscription of phone
+8613800000001 (no ``subscribe-ack``, no refusal), and serves every other phone.

The broken promise names no receipt (``no-delivery-lost``: "the cloud received the
subscription of phone:+8613800000001 ... but never acknowledged or refused it"), so a
tool that lists only receipts passes over it (``tests/scenarios/test_find_unnamed.py``).

Load it like any variant: ``assocsim run quickstart --cloud
tests.planted.deaf_to_one_phone:deaf_to_one_phone``.
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
    Recommender,
    Subscribe,
)

__all__ = ["IGNORED_PHONE", "DeafToOnePhone", "deaf_to_one_phone"]

IGNORED_PHONE = "+8613800000001"


class DeafToOnePhone(CloudMachine):
    """:class:`~protocol.CloudMachine` that drops :data:`IGNORED_PHONE`'s subscriptions."""

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, Subscribe) and message.phone_id == IGNORED_PHONE:
            return Effects()  # BUG: neither a subscribe-ack nor a refusal
        return super().handle(message, sender, now)


def deaf_to_one_phone(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`DeafToOnePhone`."""
    return DeafToOnePhone(store=store, recommender=recommender, config=config)
