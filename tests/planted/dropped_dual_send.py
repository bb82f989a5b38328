"""A cloud with a planted bug: a mismatch's dual-send never leaves the cloud.

Unit 8022: when the requester is not the phone the POS named, the reference
:class:`~protocol.CloudMachine` answers the requester and sends the same products to the
named phone as a ``dual-send`` push. :class:`DropsDualSend` answers the requester and drops
the named phone's half: the push (and its re-send timer) is taken out of the step's
effects, so the named phone is never sent the products (until a restart re-sends what the
store keeps). ``assocsim explore wrong-id`` must find it (``tests/scenarios/test_explore.py``).

Load it like any variant:
``assocsim explore wrong-id --cloud tests.planted.dropped_dual_send:dropped_dual_send_cloud``.
"""

from __future__ import annotations

import attrs

from protocol import (
    Address,
    AssociationPush,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    Machine,
    Message,
    PushReason,
    Recommender,
)
from protocol.lowlevel import Resend

__all__ = ["DropsDualSend", "dropped_dual_send_cloud"]


class DropsDualSend(CloudMachine):
    """:class:`~protocol.CloudMachine` whose dual-send push is never sent."""

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        effects = super().handle(message, sender, now)
        dual = [
            s
            for s in effects.sends
            if isinstance(s.message, AssociationPush) and s.message.reason is PushReason.DUAL_SEND
        ]
        if not dual:
            return effects
        # BUG: the named phone's half of unit 8022 is dropped, and its re-send timer too
        return attrs.evolve(
            effects,
            sends=tuple(s for s in effects.sends if s not in dual),
            timers=tuple(t for t in effects.timers if not isinstance(t.key, Resend)),
        )


def dropped_dual_send_cloud(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`DropsDualSend`."""
    return DropsDualSend(store=store, recommender=recommender, config=config)
