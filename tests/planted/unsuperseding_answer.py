"""A cloud with a planted bug: an answer does not supersede the pending push.

Step 603 pushes only when no request came in time: when the reference
:class:`~protocol.CloudMachine` answers the POS-named phone (or dual-sends to it) it
records the delivery and removes the receipt's pending push, cancelling its timer (its
``mark_delivered``). :class:`AnswerKeepsPendingPush` answers and does neither, so the push
still falls due, finds the receipt undelivered, and the phone is pushed the products it
was already answered. ``assocsim explore pull`` must find it
(``tests/scenarios/test_explore.py``).

Load it like any variant:
``assocsim explore pull --cloud tests.planted.unsuperseding_answer:unsuperseding_cloud``.
"""

from __future__ import annotations

from protocol import CloudConfig, CloudMachine, CloudStore, Machine, PushDue, Recommender

__all__ = ["AnswerKeepsPendingPush", "unsuperseding_cloud"]


class AnswerKeepsPendingPush(CloudMachine):
    """:class:`~protocol.CloudMachine` whose answers leave the pending push armed."""

    def mark_delivered(self, *receipt_and_phone: object) -> tuple[PushDue, ...]:
        return ()  # BUG: neither the delivery is recorded nor the pending push removed


def unsuperseding_cloud(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`AnswerKeepsPendingPush`."""
    return AnswerKeepsPendingPush(store=store, recommender=recommender, config=config)
