"""A cloud with a planted bug: it serves phones that never subscribed.

The reference :class:`~protocol.CloudMachine` serves only subscribed phones: a push to a
phone that never subscribed is withheld (``push-withheld``), and so is a dual-send
(``dual-send-withheld``); a request from one is refused (``not-subscribed``).
:class:`ServesEveryPhone` takes every phone as subscribed, so it sends the products to
phones the cloud never sent a ``subscribe-ack``. Before ``privacy`` judged it every check
was all clear (reviewer A, s31, F2: quickstart, 25 deliveries to never-subscribed phones)
and the report still printed "withheld (unsubscribed) 19": the ledger's count of what was
not owed, not of what was withheld. ``tests/scenarios/test_check_lifecycle.py``.
"""

from __future__ import annotations

from protocol import CloudConfig, CloudMachine, CloudStore, Machine, Recommender

__all__ = ["ServesEveryPhone", "serving_unsubscribed"]


def _every_phone(phone_id: str) -> bool:
    return True


class ServesEveryPhone(CloudMachine):
    """:class:`~protocol.CloudMachine` for which every phone counts as subscribed."""

    def __init__(self, *, store: CloudStore, recommender: Recommender, config: CloudConfig) -> None:
        super().__init__(store=store, recommender=recommender, config=config)
        store.is_subscribed = _every_phone  # type: ignore[method-assign]  # BUG, planted: the store method swapped


def serving_unsubscribed(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`ServesEveryPhone`."""
    return ServesEveryPhone(store=store, recommender=recommender, config=config)
