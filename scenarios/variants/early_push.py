"""A variant that pushes early: at half of ``push_timeout`` after the upload.

Step 602 waits ``push_timeout`` for the buyer to ask before the cloud pushes (603). A
cloud in a hurry overrides the hook ``push_deadline`` and pushes at half the period. The
buyers who ask late now get a push they would not have needed, and the promise that a
timeout push never comes before the upload reached the cloud + ``push_timeout`` is broken:
``assocsim check`` reports ``timeout-push (safety) ... pushed at t=..., before the deadline``.

``assocsim run quickstart --cloud scenarios.variants.early_push:make_cloud --check``
"""

from __future__ import annotations

from protocol import Binding, CloudConfig, CloudMachine, CloudStore, Machine, Recommender

__all__ = ["PushesEarly", "make_cloud"]


class PushesEarly(CloudMachine):
    """:class:`~protocol.CloudMachine` whose push falls due at half the period."""

    def push_deadline(self, binding: Binding) -> float:
        return binding.stored_at + self.config.push_timeout / 2  # BUG: 603 says the full period


def make_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The cloud factory of :class:`PushesEarly`."""
    return PushesEarly(store=store, recommender=recommender, config=config)
