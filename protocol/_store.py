"""The cloud's store: bindings, subscriptions, pending pushes, saved matching relations.

The cloud machine reaches its state only through the narrow :class:`CloudStore` interface,
so a durable implementation (SQLite) can replace :class:`InMemoryStore` without touching the
protocol rules. Every method is synchronous and cheap; the machine calls it inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import attrs

from ._messages import PurchaseUpload
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

    def is_subscribed(self, phone_id: str) -> bool: ...
    def subscribe(self, phone_id: str, at: float) -> None: ...

    def pending_push(self, receipt_id: str) -> PendingPush | None: ...
    def put_pending_push(self, push: PendingPush) -> None: ...
    def remove_pending_push(self, receipt_id: str) -> None: ...
    def pending_pushes(self) -> Iterable[PendingPush]: ...

    def was_delivered(self, receipt_id: str, phone_id: str) -> bool: ...
    def mark_delivered(self, receipt_id: str, phone_id: str) -> None: ...

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
        self._relations: dict[str, MatchingRelation] = {}
        self._promotions: dict[str, Promotions] = {}

    def binding(self, receipt_id: str) -> Binding | None:
        return self._bindings.get(receipt_id)

    def put_binding(self, binding: Binding) -> None:
        self._bindings[binding.receipt_id] = binding

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

    def save_matching_relation(self, relation: MatchingRelation) -> None:
        self._relations[relation.receipt_id] = relation

    def matching_relation(self, receipt_id: str) -> MatchingRelation | None:
        return self._relations.get(receipt_id)

    def promotions(self, merchant_id: str) -> Promotions | None:
        return self._promotions.get(merchant_id)

    def set_promotions(self, promotions: Promotions) -> None:
        self._promotions[promotions.merchant_id] = promotions
