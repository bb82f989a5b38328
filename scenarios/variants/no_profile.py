"""A variant with a stricter privacy policy: the cloud keeps no profile of a shopper.

The patent's cloud saves each purchase's matching relation (usage, colour, brand) and
learns the shopper's habits from it (steps 507 and 604, unit 803). This cloud pairs every
purchase on its own: it overrides the hook ``learn`` to learn nothing and the hook
``associated_products`` to pair without saving the relation. What it sends, and when, is
the reference's with the rule recommender (which learns nothing anyway); with
``cloud.recommender = "engine"`` the products differ, since no habit is learned. It keeps
every promise ``assocsim check`` judges.

``assocsim run wrong-ids --cloud scenarios.variants.no_profile:make_cloud --check``
"""

from __future__ import annotations

from protocol import (
    AssociatedProduct,
    Binding,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Machine,
    PurchaseUpload,
    Recommender,
)

__all__ = ["NoProfile", "make_cloud"]


class NoProfile(CloudMachine):
    """:class:`~protocol.CloudMachine` that learns no habits and saves no relations."""

    def learn(self, upload: PurchaseUpload) -> None:
        pass  # no shopper's habits are learned (step 604)

    def associated_products(self, binding: Binding, now: float) -> tuple[AssociatedProduct, ...]:
        upload = binding.upload
        promotions = self.store.promotions(upload.merchant_id)
        # Step 506 only: the matching relation (step 507) is not saved.
        return self.recommender.associate(upload, promotions, self.config.max_products)


def make_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The cloud factory of :class:`NoProfile`."""
    return NoProfile(store=store, recommender=recommender, config=config)
