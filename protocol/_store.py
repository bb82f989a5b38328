"""The cloud's store: bindings, subscriptions, pending and outgoing pushes, relations.

The cloud machine reaches its state only through the narrow :class:`CloudStore` interface,
so a durable implementation (``actors.SqliteStore``) can replace :class:`InMemoryStore`
without touching the protocol rules. Every method is synchronous and cheap; the machine
calls it inline. A durable store must have made a write durable when the method returns:
the cloud acknowledges an upload right after storing it.

What a restarted cloud recovers from its store (``CloudMachine.start``): bindings (and the
recommender's learning, replayed from them in stored order), subscriptions, pending pushes
(re-armed at their original deadlines), outgoing pushes not yet acknowledged by their phone
(sent again), deliveries, matching relations and promotions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import attrs

from ._messages import AssociationPush, PurchaseUpload
from ._recommender import Promotions

__all__ = ["Binding", "CloudStore", "InMemoryStore", "MatchingRelation", "PendingPush"]


@attrs.frozen
class Binding:
    """Step 502: a purchase bound one-to-one to the phone identifier the POS sent."""

    upload: PurchaseUpload
    stored_at: float

    @property
    def receipt_id(self) -> str:
        return self.upload.receipt_id

    @property
    def phone_id(self) -> str:
        return self.upload.phone_id


@attrs.frozen
class PendingPush:
    """Step 602: the cloud waits for a request until ``deadline``, then pushes (step 603)."""

    receipt_id: str
    phone_id: str
    deadline: float


@attrs.frozen
class MatchingRelation:
    """Step 507 / unit 803: the goods of a receipt and the products matched to them."""

    receipt_id: str
    phone_id: str
    goods: tuple[str, ...]
    associated: tuple[str, ...]
    saved_at: float


class CloudStore(Protocol):
    """Everything the cloud remembers. Implementations must be deterministic."""

    def binding(self, receipt_id: str) -> Binding | None: ...
    def put_binding(self, binding: Binding) -> None: ...
    def bindings(self) -> Iterable[Binding]:
        """Every binding, in the order they were stored."""
        ...

    def is_subscribed(self, phone_id: str) -> bool: ...
    def subscribe(self, phone_id: str, at: float) -> None: ...

    def pending_push(self, receipt_id: str) -> PendingPush | None: ...
    def put_pending_push(self, push: PendingPush) -> None: ...
    def remove_pending_push(self, receipt_id: str) -> None: ...
    def pending_pushes(self) -> Iterable[PendingPush]: ...

    def was_delivered(self, receipt_id: str, phone_id: str) -> bool: ...
    def mark_delivered(self, receipt_id: str, phone_id: str) -> None: ...

    def put_outgoing(self, push: AssociationPush) -> None:
        """Keep ``push`` until its phone acknowledges it (re-sent after a restart)."""
        ...

    def remove_outgoing(self, receipt_id: str, phone_id: str) -> None: ...
    def outgoing(self) -> Iterable[AssociationPush]:
        """Pushes sent and not yet acknowledged, in the order they were first sent."""
        ...

    def save_matching_relation(self, relation: MatchingRelation) -> None: ...
    def matching_relation(self, receipt_id: str) -> MatchingRelation | None: ...

    def promotions(self, merchant_id: str) -> Promotions | None: ...
    def set_promotions(self, promotions: Promotions) -> None: ...


class InMemoryStore:
    """A :class:`CloudStore` in dicts and sets: fast, and gone when the process ends."""

    def __init__(self) -> None:
        self._bindings: dict[str, Binding] = {}
        self._subscribed: dict[str, float] = {}
        self._pending: dict[str, PendingPush] = {}
        self._delivered: set[tuple[str, str]] = set()
        self._outgoing: dict[tuple[str, str], AssociationPush] = {}
        self._relations: dict[str, MatchingRelation] = {}
        self._promotions: dict[str, Promotions] = {}

    def binding(self, receipt_id: str) -> Binding | None:
        return self._bindings.get(receipt_id)

    def put_binding(self, binding: Binding) -> None:
        self._bindings[binding.receipt_id] = binding

    def bindings(self) -> Iterable[Binding]:
        return tuple(self._bindings.values())

    def is_subscribed(self, phone_id: str) -> bool:
        return phone_id in self._subscribed

    def subscribe(self, phone_id: str, at: float) -> None:
        self._subscribed.setdefault(phone_id, at)

    def pending_push(self, receipt_id: str) -> PendingPush | None:
        return self._pending.get(receipt_id)

    def put_pending_push(self, push: PendingPush) -> None:
        self._pending[push.receipt_id] = push

    def remove_pending_push(self, receipt_id: str) -> None:
        self._pending.pop(receipt_id, None)

    def pending_pushes(self) -> Iterable[PendingPush]:
        return tuple(self._pending.values())

    def was_delivered(self, receipt_id: str, phone_id: str) -> bool:
        return (receipt_id, phone_id) in self._delivered

    def mark_delivered(self, receipt_id: str, phone_id: str) -> None:
        self._delivered.add((receipt_id, phone_id))

    def put_outgoing(self, push: AssociationPush) -> None:
        self._outgoing[(push.receipt_id, push.phone_id)] = push

    def remove_outgoing(self, receipt_id: str, phone_id: str) -> None:
        self._outgoing.pop((receipt_id, phone_id), None)

    def outgoing(self) -> Iterable[AssociationPush]:
        return tuple(self._outgoing.values())

    def save_matching_relation(self, relation: MatchingRelation) -> None:
        self._relations[relation.receipt_id] = relation

    def matching_relation(self, receipt_id: str) -> MatchingRelation | None:
        return self._relations.get(receipt_id)

    def promotions(self, merchant_id: str) -> Promotions | None:
        return self._promotions.get(merchant_id)

    def set_promotions(self, promotions: Promotions) -> None:
        self._promotions[promotions.merchant_id] = promotions
