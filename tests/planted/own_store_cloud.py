"""Planted bug for tests/scenarios/test_variant_store.py (reviewer Q's F4): a cloud variant
that ignores the store its factory is handed and keeps its state in one of its module's.
A simulated crash rebuilds the cloud in the same process, so that store survived it, as
nothing survives a kill -9: on ``faults`` (a cloud crash, the in-memory store) the
reference cloud loses promises where this one said all clear."""

from __future__ import annotations

from protocol import CloudConfig, CloudMachine, CloudStore, InMemoryStore, Machine, Recommender

REFUSED_BY_THE_RUNNER = "a store other than the one handed: refused when built (ScenarioError)"
"""Why tests/scenarios/test_promises_agree.py runs none of its clouds as a world (it tests
that the runner refuses each instead)."""

__all__ = ["own_store_cloud"]

_KEPT = InMemoryStore()  # BUG: the module's, alive across the process's simulated crashes


def own_store_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    return CloudMachine(store=_KEPT, recommender=recommender, config=config)
