"""A cloud with a planted bug that only a path the explorer used to merge shows.

:class:`ForgetfulLeak` remembers, in memory only, whether its process has heard from a
POS. When a phone subscribes to a process that has not (the cloud crashed and restarted
between the upload and the subscription), it leaks every stored receipt to a phone
outside the world (``binding``, ``timeout-push`` and ``privacy`` violations at the send)
and nothing keeps the leak: the stranger is no party (nothing is in flight) and the
restarted cloud's memory is the one it has when the crash comes after the subscription.
The two paths meet in one machine state; only ``assocsim check``'s monitor tells them
apart (issue 15, ``docs/explore.md``, "What merging keeps"). ``assocsim explore pull
--max-crashes 1`` must find it, and a search of the world's states alone merges it away
(``tests/scenarios/test_explore_monitor.py``).

Load it like any variant:
``assocsim explore pull --max-crashes 1 --cloud tests.planted.forgetful_leak:forgetful_leak_cloud``.
"""

from __future__ import annotations

from typing import Any

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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
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
