"""The cloud's store: bindings, subscriptions, pending and outgoing pushes, relations.

The cloud machine reaches its state only through the narrow :class:`CloudStore` interface,
so a durable implementation (``actors.SqliteStore``) can replace :class:`InMemoryStore`
without touching the protocol rules. Every method is synchronous and cheap; the machine
calls it inline.

A step is all or nothing. The machine's driver, not the machine, brackets every step (one
``start``, ``handle`` or ``timer_fired`` call) with :meth:`CloudStore.begin_step` and
:meth:`CloudStore.commit_step`, or :meth:`CloudStore.rollback_step` when the step raised
or the process died inside it; it sends the step's messages only after the commit, so no
acknowledgement ever precedes the state it acknowledges. A durable store makes the whole
step durable at ``commit_step``, and a kill -9 before it leaves none of the step's writes
behind. Without ``begin_step`` (a machine called directly, as unit tests do) every write
takes effect at once.

What a restarted cloud recovers from its store (``CloudMachine.start``): bindings (and the
recommender's learning, replayed from them in stored order), subscriptions, pending pushes
(re-armed at their original deadlines), outgoing pushes not yet acknowledged by their phone
(sent again), deliveries, matching relations and promotions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

import attrs

from protocol._core._messages import AssociationPush, PurchaseUpload, ReceiptKey
from protocol._reco._recommender import Promotions

__all__ = [
    "Binding",
    "CloudStore",
    "InMemoryStore",
    "MatchingRelation",
    "PendingPush",
    "StepTransactions",
]


@attrs.frozen
class Binding:
    """Step 502: a purchase bound one-to-one to the phone identifier the POS sent."""

    upload: PurchaseUpload
    stored_at: float

    @property
    def receipt_id(self) -> str:
        return self.upload.receipt_id

    @property
    def receipt(self) -> ReceiptKey:
        return self.upload.receipt

    @property
    def phone_id(self) -> str:
        return self.upload.phone_id


@attrs.frozen
class PendingPush:
    """Step 602: the cloud waits for a request until ``deadline``, then pushes (step 603)."""

    receipt: ReceiptKey
    phone_id: str
    deadline: float


@attrs.frozen
class MatchingRelation:
    """Step 507 / unit 803: the goods of a receipt and the products matched to them."""

    receipt: ReceiptKey
    phone_id: str
    goods: tuple[str, ...]
    associated: tuple[str, ...]
    saved_at: float


@runtime_checkable
class StepTransactions(Protocol):
    """What a driver needs of a machine's durable state to make each step atomic.

    A machine that keeps such state exposes it as its ``store`` attribute; its driver
    calls :meth:`begin_step` before each step, then :meth:`commit_step` before carrying
    out the step's effects, or :meth:`rollback_step` if the step did not finish.
    """

    def begin_step(self) -> None:
        """The writes from now on belong to one step."""
        ...

    def commit_step(self) -> None:
        """Make every write of the step durable, together."""
        ...

    def rollback_step(self) -> None:
        """Undo every write of the step (it raised, or its process died inside it)."""
        ...


class CloudStore(StepTransactions, Protocol):
    """Everything the cloud remembers. Implementations must be deterministic.

    Receipts are keyed by :class:`~protocol.ReceiptKey` (merchant, receipt id): each
    merchant has its own namespace of receipt ids.
    """

    def binding(self, receipt: ReceiptKey) -> Binding | None: ...
    def put_binding(self, binding: Binding) -> None: ...
    def bindings(self) -> Iterable[Binding]:
        """Every binding, in the order they were stored."""
        ...

    def is_subscribed(self, phone_id: str) -> bool: ...
    def subscribe(self, phone_id: str, at: float) -> None: ...

    def pending_push(self, receipt: ReceiptKey) -> PendingPush | None: ...
    def put_pending_push(self, push: PendingPush) -> None: ...
    def remove_pending_push(self, receipt: ReceiptKey) -> None: ...
    def pending_pushes(self) -> Iterable[PendingPush]: ...

    def was_delivered(self, receipt: ReceiptKey, phone_id: str) -> bool: ...
    def mark_delivered(self, receipt: ReceiptKey, phone_id: str) -> None: ...

    def put_outgoing(self, push: AssociationPush) -> None:
        """Keep ``push`` until its phone acknowledges it (re-sent after a restart)."""
        ...

    def remove_outgoing(self, receipt: ReceiptKey, phone_id: str) -> None: ...
    def outgoing(self) -> Iterable[AssociationPush]:
        """Pushes sent and not yet acknowledged, in the order they were first sent."""
        ...

    def save_matching_relation(self, relation: MatchingRelation) -> None: ...
    def matching_relation(self, receipt: ReceiptKey) -> MatchingRelation | None: ...

    def promotions(self, merchant_id: str) -> Promotions | None: ...
    def set_promotions(self, promotions: Promotions) -> None: ...


_ABSENT: Any = object()  # "the key had no value" in an undo record


def _restore(table: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _ABSENT:
        table.pop(key, None)
    else:
        table[key] = old


class InMemoryStore:
    """A :class:`CloudStore` in dicts and sets: fast, and gone when the process ends.

    A step's writes are undone by :meth:`rollback_step` from an undo log kept only while a
    step is open. An entry a rolled-back step had removed comes back with its value, at
    the end of its collection's order (the orders matter only to a restart, and a
    restarted in-memory cloud starts empty).
    """

    def __init__(self) -> None:
        self._bindings: dict[ReceiptKey, Binding] = {}
        self._subscribed: dict[str, float] = {}
        self._pending: dict[ReceiptKey, PendingPush] = {}
        self._delivered: set[tuple[ReceiptKey, str]] = set()
        self._outgoing: dict[tuple[ReceiptKey, str], AssociationPush] = {}
        self._relations: dict[ReceiptKey, MatchingRelation] = {}
        self._promotions: dict[str, Promotions] = {}
        self._undo: list[Callable[[], None]] | None = None  # None: no step open

    def begin_step(self) -> None:
        self._undo = []

    def commit_step(self) -> None:
        self._undo = None

    def rollback_step(self) -> None:
        undo, self._undo = self._undo, None
        if undo:
            for action in reversed(undo):
                action()

    def _keep(self, table: dict[Any, Any], key: Any) -> None:
        """Log how to put ``table[key]`` back as it is now (inside a step only)."""
        undo = self._undo
        if undo is not None:
            old = table.get(key, _ABSENT)
            undo.append(lambda: _restore(table, key, old))

    def binding(self, receipt: ReceiptKey) -> Binding | None:
        return self._bindings.get(receipt)

    def put_binding(self, binding: Binding) -> None:
        self._keep(self._bindings, binding.receipt)
        self._bindings[binding.receipt] = binding

    def bindings(self) -> Iterable[Binding]:
        return tuple(self._bindings.values())

    def is_subscribed(self, phone_id: str) -> bool:
        return phone_id in self._subscribed

    def subscribe(self, phone_id: str, at: float) -> None:
        self._keep(self._subscribed, phone_id)
        self._subscribed.setdefault(phone_id, at)

    def pending_push(self, receipt: ReceiptKey) -> PendingPush | None:
        return self._pending.get(receipt)

    def put_pending_push(self, push: PendingPush) -> None:
        self._keep(self._pending, push.receipt)
        self._pending[push.receipt] = push

    def remove_pending_push(self, receipt: ReceiptKey) -> None:
        self._keep(self._pending, receipt)
        self._pending.pop(receipt, None)

    def pending_pushes(self) -> Iterable[PendingPush]:
        return tuple(self._pending.values())

    def was_delivered(self, receipt: ReceiptKey, phone_id: str) -> bool:
        return (receipt, phone_id) in self._delivered

    def mark_delivered(self, receipt: ReceiptKey, phone_id: str) -> None:
        key = (receipt, phone_id)
        if self._undo is not None and key not in self._delivered:
            self._undo.append(lambda: self._delivered.discard(key))
        self._delivered.add(key)

    def put_outgoing(self, push: AssociationPush) -> None:
        key = (push.receipt, push.phone_id)
        self._keep(self._outgoing, key)
        self._outgoing[key] = push

    def remove_outgoing(self, receipt: ReceiptKey, phone_id: str) -> None:
        self._keep(self._outgoing, (receipt, phone_id))
        self._outgoing.pop((receipt, phone_id), None)

    def outgoing(self) -> Iterable[AssociationPush]:
        return tuple(self._outgoing.values())

    def save_matching_relation(self, relation: MatchingRelation) -> None:
        self._keep(self._relations, relation.receipt)
        self._relations[relation.receipt] = relation

    def matching_relation(self, receipt: ReceiptKey) -> MatchingRelation | None:
        return self._relations.get(receipt)

    def promotions(self, merchant_id: str) -> Promotions | None:
        return self._promotions.get(merchant_id)

    def set_promotions(self, promotions: Promotions) -> None:
        self._keep(self._promotions, promotions.merchant_id)
        self._promotions[promotions.merchant_id] = promotions
