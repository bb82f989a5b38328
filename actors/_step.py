"""One step of a machine, all or nothing, and the kill -9 that can fall inside it.

A step is one ``start``, ``handle`` or ``timer_fired`` call. Every driver (the
:class:`~actors.Actor`, the field cloud's ``CloudDriver``) runs it through
:func:`run_step`: when the machine keeps durable state (a ``store`` that is a
:class:`~protocol.StepTransactions`) the step's writes are one transaction, committed
before the driver carries out a single effect, and rolled back if the step does not
finish. So a send never leaves before the state it announces is durable, and a crash
inside a step leaves the store as it was before the step.

A :class:`CrashPoint` is the simulator's kill -9 *inside* a step: armed on an actor, it
fires right after the k-th store write of the next step of a given kind (the write reached
the store; the rest of the step never runs, its transaction is never committed). The
:class:`CrashPointStore` wrapped around the machine's store counts the writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

from protocol import (
    MESSAGE_TYPES,
    AssociationPush,
    Binding,
    CloudStore,
    Effects,
    MatchingRelation,
    Message,
    PendingPush,
    Promotions,
    ReceiptKey,
    StepTransactions,
    message_type,
)

__all__ = [
    "STEP_KINDS",
    "CrashPoint",
    "CrashPointStore",
    "KilledInsideStep",
    "StoreProxy",
    "durable_state",
    "run_step",
    "step_kind",
]

START: Final = "start"

STEP_KINDS: Final = frozenset({START, "push-due", "resend", *MESSAGE_TYPES})
"""The kinds of cloud step a crash point can target: ``start``, a fired ``push-due`` or
``resend`` timer, or a received message by its wire type (``purchase-upload``, ...)."""


class KilledInsideStep(BaseException):
    """A :class:`CrashPoint` fired: the party's process dies inside the step.

    A BaseException, so that no ``except Exception`` in a machine under test can survive
    its own kill -9.
    """


def durable_state(machine: object) -> StepTransactions | None:
    """The machine's ``store`` if it is one whose steps can be made atomic, else None."""
    store = getattr(machine, "store", None)
    return store if isinstance(store, StepTransactions) else None


def run_step(
    store: StepTransactions | None, call: Callable[..., Effects], *args: object
) -> Effects:
    """``call(*args)`` as one transaction of ``store``: committed when it returns, rolled
    back (and the exception re-raised) when it raises, a :class:`KilledInsideStep`
    included."""
    if store is None:
        return call(*args)
    store.begin_step()
    try:
        effects = call(*args)
    except BaseException:
        store.rollback_step()
        raise
    store.commit_step()
    return effects


_CAMEL: Final = re.compile(r"(?<!^)(?=[A-Z])")


def step_kind(what: object) -> str:
    """The kind of a step: ``"start"``, a message's wire type, or a timer key's class name
    in kebab case (``PushDue`` -> ``"push-due"``)."""
    if what == START:
        return START
    if isinstance(what, Message):
        return message_type(what)
    return _CAMEL.sub("-", type(what).__name__).lower()


class CrashPoint:
    """A kill -9 waiting inside a step, for one actor.

    :meth:`arm` it with ``after_writes`` (k >= 1) and ``during`` (a step kind, or None for
    any); the next step of that kind that makes k store writes raises
    :class:`KilledInsideStep` right after its k-th write. It fires once, then disarms.
    """

    def __init__(self, crashed: Callable[[float], None] = lambda now: None) -> None:
        self.crashed = crashed  # called by the driver with the time the crash fell
        self.after_writes = 0  # 0: disarmed
        self.during: str | None = None
        self.fired = 0
        self._writes = 0
        self._counting = False

    @property
    def armed(self) -> bool:
        return self.after_writes > 0

    def arm(self, after_writes: int, during: str | None) -> None:
        self.after_writes = after_writes
        self.during = during

    def disarm(self) -> None:
        self.after_writes = 0
        self._counting = False

    def enter(self, what: object) -> None:
        """A step on ``what`` (see :func:`step_kind`) begins."""
        self._writes = 0
        self._counting = self.armed and (self.during is None or self.during == step_kind(what))

    def wrote(self) -> None:
        """The store made one write of the current step."""
        if self._counting:
            self._writes += 1
            if self._writes >= self.after_writes:
                count = self._writes
                self.disarm()
                self.fired += 1
                raise KilledInsideStep(f"killed after store write {count} of the step")


class StoreProxy:
    """A :class:`~protocol.CloudStore` that hands every call to ``inner``: a base for
    wrappers that change a few methods (see :class:`CrashPointStore`)."""

    def __init__(self, inner: CloudStore) -> None:
        self.inner = inner

    # the step's transaction
    def begin_step(self) -> None:
        self.inner.begin_step()

    def commit_step(self) -> None:
        self.inner.commit_step()

    def rollback_step(self) -> None:
        self.inner.rollback_step()

    # reads
    def binding(self, receipt: ReceiptKey) -> Binding | None:
        return self.inner.binding(receipt)

    def bindings(self) -> Iterable[Binding]:
        return self.inner.bindings()

    def is_subscribed(self, phone_id: str) -> bool:
        return self.inner.is_subscribed(phone_id)

    def pending_push(self, receipt: ReceiptKey) -> PendingPush | None:
        return self.inner.pending_push(receipt)

    def pending_pushes(self) -> Iterable[PendingPush]:
        return self.inner.pending_pushes()

    def was_delivered(self, receipt: ReceiptKey, phone_id: str) -> bool:
        return self.inner.was_delivered(receipt, phone_id)

    def outgoing(self) -> Iterable[AssociationPush]:
        return self.inner.outgoing()

    def matching_relation(self, receipt: ReceiptKey) -> MatchingRelation | None:
        return self.inner.matching_relation(receipt)

    def promotions(self, merchant_id: str) -> Promotions | None:
        return self.inner.promotions(merchant_id)

    # writes
    def put_binding(self, binding: Binding) -> None:
        self.inner.put_binding(binding)

    def subscribe(self, phone_id: str, at: float) -> None:
        self.inner.subscribe(phone_id, at)

    def put_pending_push(self, push: PendingPush) -> None:
        self.inner.put_pending_push(push)

    def remove_pending_push(self, receipt: ReceiptKey) -> None:
        self.inner.remove_pending_push(receipt)

    def mark_delivered(self, receipt: ReceiptKey, phone_id: str) -> None:
        self.inner.mark_delivered(receipt, phone_id)

    def put_outgoing(self, push: AssociationPush) -> None:
        self.inner.put_outgoing(push)

    def remove_outgoing(self, receipt: ReceiptKey, phone_id: str) -> None:
        self.inner.remove_outgoing(receipt, phone_id)

    def save_matching_relation(self, relation: MatchingRelation) -> None:
        self.inner.save_matching_relation(relation)

    def set_promotions(self, promotions: Promotions) -> None:
        self.inner.set_promotions(promotions)


class CrashPointStore(StoreProxy):
    """A store that tells its :class:`CrashPoint` of every write, once the write reached
    the store (so the point can fire between two writes of a step)."""

    def __init__(self, inner: CloudStore, point: CrashPoint) -> None:
        super().__init__(inner)
        self._point = point

    def put_binding(self, binding: Binding) -> None:
        self.inner.put_binding(binding)
        self._point.wrote()

    def subscribe(self, phone_id: str, at: float) -> None:
        self.inner.subscribe(phone_id, at)
        self._point.wrote()

    def put_pending_push(self, push: PendingPush) -> None:
        self.inner.put_pending_push(push)
        self._point.wrote()

    def remove_pending_push(self, receipt: ReceiptKey) -> None:
        self.inner.remove_pending_push(receipt)
        self._point.wrote()

    def mark_delivered(self, receipt: ReceiptKey, phone_id: str) -> None:
        self.inner.mark_delivered(receipt, phone_id)
        self._point.wrote()

    def put_outgoing(self, push: AssociationPush) -> None:
        self.inner.put_outgoing(push)
        self._point.wrote()

    def remove_outgoing(self, receipt: ReceiptKey, phone_id: str) -> None:
        self.inner.remove_outgoing(receipt, phone_id)
        self._point.wrote()

    def save_matching_relation(self, relation: MatchingRelation) -> None:
        self.inner.save_matching_relation(relation)
        self._point.wrote()

    def set_promotions(self, promotions: Promotions) -> None:
        self.inner.set_promotions(promotions)
        self._point.wrote()
