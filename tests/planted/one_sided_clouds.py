"""Planted bugs for the explorer's symmetry default (tests/scenarios/test_explore_livelock.py):
cloud variants whose bug falls on one receipt's name only, found by reviewer R.

Symmetry reduction merges states that differ only by swapping phones (and shops) of one
role: sound for a cloud that treats them alike, as the reference does, not for a variant
that does not. Explored with symmetry, as ``explore(..., cloud=...)`` did by default, both
clouds here passed the ``two-purchases`` world ("exhausted, no violations"); without it,
each pushes early on a path of 15 steps.
"""

from __future__ import annotations

from protocol import (
    Binding,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Machine,
    Recommender,
)

__all__ = ["first_second_cloud", "second_first_cloud"]


class SecondFirstCloud(CloudMachine):
    """BUG: r-2's push is due at once when its upload is the first the cloud binds."""

    def push_deadline(self, binding: Binding) -> float:
        if binding.upload.receipt_id == "r-2" and len(list(self.store.bindings())) == 1:
            return binding.stored_at
        return super().push_deadline(binding)


class FirstSecondCloud(CloudMachine):
    """BUG: r-1's push is due at once when its upload comes after r-2's."""

    def push_deadline(self, binding: Binding) -> float:
        if binding.upload.receipt_id == "r-1" and len(list(self.store.bindings())) == 2:
            return binding.stored_at
        return super().push_deadline(binding)


def second_first_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    return SecondFirstCloud(store=store, recommender=recommender, config=config)


def first_second_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    return FirstSecondCloud(store=store, recommender=recommender, config=config)
