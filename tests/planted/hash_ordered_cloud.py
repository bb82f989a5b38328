"""Planted bug for tests/scenarios/test_determinism_hash_seed.py (reviewer Q's F2): a cloud
whose answers follow the iteration order of a set of strings, which ``PYTHONHASHSEED``
decides. ``run --check-determinism`` ran its second run in the same process, under the
same hash seed, and said "deterministic" of it; ``assocsim replay`` under another hash
seed said "NOT reproduced".

Load it like any variant: ``--cloud tests.planted.hash_ordered_cloud:hash_ordered_cloud``.
"""

from __future__ import annotations

from protocol import (
    AssociatedProduct,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Machine,
    Promotions,
    PurchaseUpload,
    Recommender,
)

__all__ = ["hash_ordered_cloud"]


class _SetOrdered:
    """The reference recommender's answers, reordered as a set of their SKUs iterates."""

    def __init__(self, inner: Recommender) -> None:
        self.inner = inner

    def observe(self, purchase: PurchaseUpload) -> None:
        self.inner.observe(purchase)

    def associate(
        self, purchase: PurchaseUpload, promotions: Promotions | None, limit: int
    ) -> tuple[AssociatedProduct, ...]:
        found = {p.sku: p for p in self.inner.associate(purchase, promotions, limit)}
        return tuple(found[sku] for sku in set(found))  # BUG: the hash seed's order


def hash_ordered_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    return CloudMachine(store=store, recommender=_SetOrdered(recommender), config=config)
