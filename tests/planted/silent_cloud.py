"""A cloud with a planted bug: it never sends a timeout push, and says nothing about it.

The reference :class:`~protocol.CloudMachine` pushes a receipt's products to the POS-named
phone ``push_timeout`` after the upload when no request came (step 603), and writes a
``push-withheld`` note only when that phone had not subscribed. :class:`NeverPushes`
drops the push silently: no push, no note. Whether the named phone was owed the push must
be judged from the trace (its subscription), not from a note this cloud does not write.

Load it like any variant: ``assocsim run FILE --cloud tests.planted.silent_cloud:silent_cloud``.
"""

from __future__ import annotations

from protocol import (
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    Machine,
    ReceiptKey,
    Recommender,
)

__all__ = ["NeverPushes", "silent_cloud"]


class NeverPushes(CloudMachine):
    """:class:`~protocol.CloudMachine` whose push deadline (hook ``on_push_due``) does
    nothing at all."""

    def on_push_due(self, receipt: ReceiptKey, now: float) -> Effects:
        return Effects()  # BUG: neither the push nor a push-withheld note


def silent_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`NeverPushes`."""
    return NeverPushes(store=store, recommender=recommender, config=config)
