"""Clouds with a planted bug: refusals with codes ``refusal-justified`` did not judge.

Before deny-by-default, ``refusal-justified`` judged six of the fourteen error codes:
``forged-identifier`` and the seven wire codes passed silently, not even counted under
"not checked" (reviewer A, s31, F1). Each cloud here refuses what the reference serves:

* :class:`ForgedPulls` refuses every request as ``forged-identifier``, though each names
  its own sender (quickstart: 0 responses, 136 refusals, all clear);
* :class:`OverloadedPulls` refuses every request as ``overloaded``, a wire code (a
  connection's refusal: no machine sends it, no trace shows it as the cloud's);
* :class:`ForgedUploads` refuses every upload as ``forged-identifier``, though each comes
  from the POS it names (``refusing_cloud.py``'s hole again: 0 of 30 delivered, all clear).

``tests/scenarios/test_check_refusals.py`` shows ``assocsim check`` and the run's check
catch each. Load one like any variant: ``--cloud tests.planted.unjustified_refusals:forged_pulls``.
"""

from __future__ import annotations

from protocol import (
    Address,
    AssociationRequest,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Effects,
    ErrorCode,
    ErrorReply,
    Machine,
    Message,
    PurchaseUpload,
    Recommender,
    Send,
)

__all__ = [
    "ForgedPulls",
    "ForgedUploads",
    "OverloadedPulls",
    "forged_pulls",
    "forged_uploads",
    "overloaded_pulls",
]


class ForgedPulls(CloudMachine):
    """Refuses every request as forged (steps 504-508 never serve a pull)."""

    code = ErrorCode.FORGED_IDENTIFIER

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, AssociationRequest):  # BUG: the requester's own id refused
            refusal = ErrorReply(
                self.code, "refused", message.receipt_id, message.request_id, message.merchant_id
            )
            return Effects(sends=(Send(sender, refusal),))
        return super().handle(message, sender, now)


class OverloadedPulls(ForgedPulls):
    """Refuses every request with a wire code."""

    code = ErrorCode.OVERLOADED  # BUG: a connection's refusal sent as the cloud's message


class ForgedUploads(CloudMachine):
    """Refuses every upload as forged (step 502 never stores)."""

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        if isinstance(message, PurchaseUpload):  # BUG: the POS's own upload refused
            refusal = ErrorReply(
                ErrorCode.FORGED_IDENTIFIER,
                "refused",
                message.receipt_id,
                None,
                message.merchant_id,
            )
            return Effects(sends=(Send(sender, refusal),))
        return super().handle(message, sender, now)


def forged_pulls(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`ForgedPulls`."""
    return ForgedPulls(store=store, recommender=recommender, config=config)


def overloaded_pulls(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`OverloadedPulls`."""
    return OverloadedPulls(store=store, recommender=recommender, config=config)


def forged_uploads(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of :class:`ForgedUploads`."""
    return ForgedUploads(store=store, recommender=recommender, config=config)
