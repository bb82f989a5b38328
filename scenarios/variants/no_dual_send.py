"""A variant that drops the dual-send: only the phone that asked gets the products.

When the phone that asks is not the phone the POS named (step 505 judges them unequal),
the patent's cloud sends the products to both devices (unit 8022). This cloud answers the
requester and overrides the hook ``dual_send`` to send nothing to the POS-named phone. That
phone's push stays armed, so it still gets a timeout push later: no delivery is lost, but
the promise of unit 8022 is broken, and under ``mismatch_policy = "dual-send"``
``assocsim check`` reports ``mismatch-dual-send (safety) ... the cloud answered mismatched
requester ... but sent the named phone ... neither a dual-send push nor its products``.
Under ``"reject"`` no dual-send is owed and the variant passes.

``assocsim run wrong-ids --cloud scenarios.variants.no_dual_send:make_cloud --check``
"""

from __future__ import annotations

from protocol import (
    AssociatedProduct,
    Binding,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    Machine,
    Recommender,
)

__all__ = ["NoDualSend", "make_cloud"]


class NoDualSend(CloudMachine):
    """:class:`~protocol.CloudMachine` whose mismatches reach only the requester."""

    def dual_send(
        self, binding: Binding, products: tuple[AssociatedProduct, ...], now: float
    ) -> Effects:
        return Effects()  # BUG: unit 8022 sends the products to the POS-named phone too


def make_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The cloud factory of :class:`NoDualSend`."""
    return NoDualSend(store=store, recommender=recommender, config=config)
