"""A cloud with a planted bug that only a path the explorer used to merge shows.

:class:`ForgetfulLeak` keeps, in memory, who sent it the last message. When a purchase
upload arrives right after a phone's subscription (that order, not the other), it leaks
the receipt's products to a phone outside the world (a ``privacy`` violation at the
send), and remembers nothing of it: once the next message arrives, its memory is the same
whichever order came first, and no party keeps the leak (the stranger is not in the
world, so nothing is in flight). Two paths, one leaking, meet in one machine state;
only ``assocsim check``'s monitor tells them apart (issue 15, ``docs/explore.md``,
"Limit"). ``assocsim explore pull`` must find it (``tests/scenarios/test_explore_monitor.py``).

Load it like any variant:
``assocsim explore pull --cloud tests.planted.forgetful_leak:forgetful_leak_cloud``.
"""

from __future__ import annotations

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
    Send,
    Subscribe,
)

__all__ = ["STRANGER", "ForgetfulLeak", "forgetful_leak_cloud"]

STRANGER = "+8613800000099"  # a phone that is no party of any explored world


class ForgetfulLeak(CloudMachine):
    """:class:`~protocol.CloudMachine` that leaks a receipt when a phone subscribes to a
    cloud process that has not itself heard from a POS."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.heard_from_pos = False  # memory only: a restart forgets it

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        effects = super().handle(message, sender, now)
        if sender.startswith("pos:"):
            self.heard_from_pos = True
        elif isinstance(message, Subscribe) and not self.heard_from_pos:
            for binding in self.store.bindings():
                # BUG: the products go to a stranger, and nothing remembers it
                upload = binding.upload
                leak = AssociationPush(
                    upload.receipt_id, upload.merchant_id, STRANGER, PushReason.TIMEOUT, ()
                )
                effects += Effects(sends=(Send(f"phone:{STRANGER}", leak),))
        return effects


def forgetful_leak_cloud(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`ForgetfulLeak`."""
    return ForgetfulLeak(store=store, recommender=recommender, config=config)
