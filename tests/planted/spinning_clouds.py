"""Planted bugs for the explorer's livelock check (tests/scenarios/test_explore_livelock.py):
clouds whose runs never settle, found by reviewer R.

``assocsim explore`` judges a path where it settles (nothing in flight, no timer armed).
A cloud that re-arms a timer of its own at the same instant, for ever, never settles: it
was never judged at all, and the search said "exhausted, no violations". Each cloud here
keeps such a timer, and :class:`EarlySpinningCloud` also pushes at half the deadline (a
safety violation the spin hid); :class:`RestartSpinningCloud` does both only after a
restart, so most of its runs settle and are judged (a search that only counts judged
paths is not fooled by it either).
"""

from __future__ import annotations

from protocol import (
    AssociationPush,
    Binding,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    Machine,
    PushReason,
    ReceiptKey,
    Recommender,
    Timer,
)

REFUSED_BY_THE_RUNNER = "each spins at one instant: the simulator stops it (actors.LivelockError)"
"""Why tests/scenarios/test_promises_agree.py runs none of its clouds as a world (it tests
that the runner refuses each instead)."""

__all__ = ["early_spinning_cloud", "restart_spinning_cloud", "spinning_cloud"]

SPIN = "spin"  # the key of the timer that is re-armed for ever


class SpinningCloud(CloudMachine):
    """Never pushes: at the deadline it arms a timer that re-arms itself at once."""

    def on_push_due(self, receipt: ReceiptKey, now: float) -> Effects:
        return Effects(timers=(Timer(now, SPIN),))  # BUG: a spin instead of the push

    def timer_fired(self, key: object, now: float) -> Effects:
        if key == SPIN:
            return Effects(timers=(Timer(now, SPIN),))  # BUG: for ever, at the same instant
        return super().timer_fired(key, now)


class EarlySpinningCloud(SpinningCloud):
    """Pushes at half the deadline (BUG), then spins."""

    def push_deadline(self, binding: Binding) -> float:
        return binding.stored_at + self.config.push_timeout / 2

    def on_push_due(self, receipt: ReceiptKey, now: float) -> Effects:
        return CloudMachine.on_push_due(self, receipt, now) + Effects(timers=(Timer(now, SPIN),))


class RestartSpinningCloud(SpinningCloud):
    """Reference behaviour until a restart finds a push pending: then it pushes it at once
    (BUG: before its deadline) and spins."""

    def on_push_due(self, receipt: ReceiptKey, now: float) -> Effects:
        return CloudMachine.on_push_due(self, receipt, now)

    def start(self, now: float) -> Effects:
        effects = super().start(now)
        pending = list(self.store.pending_pushes())
        for push_due in pending:
            merchant_id, receipt_id = push_due.receipt
            self.store.remove_pending_push(push_due.receipt)
            self.store.mark_delivered(push_due.receipt, push_due.phone_id)
            push = AssociationPush(
                receipt_id, merchant_id, push_due.phone_id, PushReason.TIMEOUT, ()
            )
            effects += self.push(push, now)
        if pending:
            effects += Effects(timers=(Timer(now, SPIN),))
        return effects


def spinning_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    return SpinningCloud(store=store, recommender=recommender, config=config)


def early_spinning_cloud(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    return EarlySpinningCloud(store=store, recommender=recommender, config=config)


def restart_spinning_cloud(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    return RestartSpinningCloud(store=store, recommender=recommender, config=config)
