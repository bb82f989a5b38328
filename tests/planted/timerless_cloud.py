"""A cloud with a planted bug: it never arms the push timer of an upload (step 602).

Without its ``PushDue`` timer in the trace, only the scenario's ``push_timeout`` tells
when the push was due, so a report and a check judged without the scenario's settings
would disagree about a phone that subscribed after the deadline. Both are given the
settings (``scenarios.run_scenario``'s report, ``assocsim check``'s trace header), and both
catch this cloud's lost pushes.

Load it like any variant:
``assocsim run FILE --cloud tests.planted.timerless_cloud:timerless_cloud``.
"""

from __future__ import annotations

import attrs

from protocol import (
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    Machine,
    PurchaseUpload,
    Recommender,
)

__all__ = ["NoPushTimer", "timerless_cloud"]


class NoPushTimer(CloudMachine):
    """:class:`~protocol.CloudMachine` that stores the pending push but never arms it
    (hook ``bind``)."""

    def bind(self, upload: PurchaseUpload, now: float) -> Effects:
        effects = super().bind(upload, now)  # the binding and its pending push are stored
        return attrs.evolve(effects, timers=())  # BUG: the push never falls due


def timerless_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`NoPushTimer`."""
    return NoPushTimer(store=store, recommender=recommender, config=config)
