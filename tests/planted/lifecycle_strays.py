"""Clouds with a planted bug each: transitions the receipt lifecycle table refuses
(``protocol/_machines/_lifecycle.py``, ``docs/protocol.md``) that no check saw before
reviewer A's s31 findings F3 and F5, each all clear under ``assocsim run --check``:

* :class:`DualSendsAfterDelivery` dual-sends to a phone already sent the products
  (``mismatch-dual-sent`` refused: ``already-delivered``);
* :class:`PushesAgain` pushes a receipt a second time an hour after its timeout push,
  after the phone's PushAck (``push-acknowledged``: nothing outstanding);
* :class:`KeepsPushAfterAnswer` keeps re-sending a push after answering the phone's
  request (``push-superseded``; needs loss: silent-phones, ``network.loss=0.4``);
* :class:`PushesLate` pushes at six times ``push_timeout`` (step 603's period);
* :class:`DualSendsOtherProducts` dual-sends other products than the response of the
  same step (unit 8022: both devices get the same products);
* :class:`PairsNothing` delivers no products at all (step 506 skipped): not a rule, but
  the check now says how many deliveries were empty.

``tests/scenarios/test_check_lifecycle.py``. Load one like any variant:
``--cloud tests.planted.lifecycle_strays:pushes_again``.
"""

from __future__ import annotations

from protocol import (
    AssociatedProduct,
    AssociationPush,
    Binding,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    Machine,
    PushDue,
    PushReason,
    ReceiptKey,
    Recommender,
    Timer,
)

__all__ = [
    "DualSendsAfterDelivery",
    "DualSendsOtherProducts",
    "KeepsPushAfterAnswer",
    "PairsNothing",
    "PushesAgain",
    "PushesLate",
    "dual_sends_after_delivery",
    "dual_sends_other_products",
    "keeps_push_after_answer",
    "pairs_nothing",
    "pushes_again",
    "pushes_late",
]

_AGAIN = 3600.0  # how long after its first push PushesAgain pushes once more


class DualSendsAfterDelivery(CloudMachine):
    """Dual-sends on every mismatched request, delivered or not."""

    def dual_send(
        self, binding: Binding, products: tuple[AssociatedProduct, ...], now: float
    ) -> Effects:
        named = binding.phone_id
        if not self.store.is_subscribed(named):
            return super().dual_send(binding, products, now)
        cancels = self.mark_delivered(binding.receipt, named)
        merchant_id = binding.upload.merchant_id
        push = AssociationPush(
            binding.receipt_id, merchant_id, named, PushReason.DUAL_SEND, products
        )
        # BUG: no allows(state, MISMATCH_DUAL_SENT): a dual-send after a delivery
        return Effects(cancels=cancels) + self.push(push, now)


class PushesAgain(CloudMachine):
    """Pushes each pushed receipt once more an hour later, acknowledged or not."""

    def on_push_due(self, receipt: ReceiptKey, now: float) -> Effects:
        binding = self.store.binding(receipt)
        if self.store.pending_push(receipt) is None and binding is not None:  # the second
            products = self.associated_products(binding, now)
            push = AssociationPush(
                receipt.receipt_id,
                receipt.merchant_id,
                binding.phone_id,
                PushReason.TIMEOUT,
                products,
            )
            return self.push(push, now)  # BUG: a second push of a delivered receipt
        effects = super().on_push_due(receipt, now)
        if effects.sends:
            again = PushDue(receipt.receipt_id, receipt.merchant_id)
            effects += Effects(timers=(Timer(now + _AGAIN, again),))
        return effects


class KeepsPushAfterAnswer(CloudMachine):
    """An answer never supersedes the outstanding push: it is re-sent until acknowledged."""

    def supersede_push(self, receipt: ReceiptKey, phone_id: str) -> Effects:
        return Effects()  # BUG: the push outstanding at the answer is still re-sent


class PushesLate(CloudMachine):
    """Waits six times ``push_timeout`` before the push."""

    def push_deadline(self, binding: Binding) -> float:
        return binding.stored_at + 6 * self.config.push_timeout  # BUG: 603's period stretched


class DualSendsOtherProducts(CloudMachine):
    """Dual-sends the products minus the first: not what the requester was answered."""

    def dual_send(
        self, binding: Binding, products: tuple[AssociatedProduct, ...], now: float
    ) -> Effects:
        return super().dual_send(binding, products[1:], now)  # BUG: unit 8022's "same"


class PairsNothing(CloudMachine):
    """Delivers no associated products (step 506 skipped)."""

    def associated_products(self, binding: Binding, now: float) -> tuple[AssociatedProduct, ...]:
        super().associated_products(binding, now)
        return ()  # BUG


def dual_sends_after_delivery(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`DualSendsAfterDelivery`."""
    return DualSendsAfterDelivery(store=store, recommender=recommender, config=config)


def pushes_again(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`PushesAgain`."""
    return PushesAgain(store=store, recommender=recommender, config=config)


def keeps_push_after_answer(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`KeepsPushAfterAnswer`."""
    return KeepsPushAfterAnswer(store=store, recommender=recommender, config=config)


def pushes_late(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`PushesLate`."""
    return PushesLate(store=store, recommender=recommender, config=config)


def dual_sends_other_products(
    store: CloudStore, recommender: Recommender, config: CloudConfig
) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`DualSendsOtherProducts`."""
    return DualSendsOtherProducts(store=store, recommender=recommender, config=config)


def pairs_nothing(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`PairsNothing`."""
    return PairsNothing(store=store, recommender=recommender, config=config)
