"""One layer refuses a phone's forged claims (reviewer finding S8): the cloud machine
(step 504, ``names_another_phone``), in a simulation and behind the field's Gatekeeper
alike. The Gatekeeper refuses a till's forged claims (``claims_refusal``: uploads,
promotions) and leaves a phone's to the cloud; it must not judge a forged request against
the receipt-holder record first, or the answer would tell whether the receipt exists
(planted ``tests/planted/holders_first_gatekeeper.py``, caught here).
"""

from __future__ import annotations

import pytest

from protocol import (
    AssociationRequest,
    CloudConfig,
    CloudMachine,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    Machine,
    Message,
    PushAck,
    RuleRecommender,
    Subscribe,
    phone_address,
)
from protocol._machines._auth import names_another_phone
from protocol.lowlevel import Gatekeeper, claims_refusal
from tests.builders import ALICE, CAROL, POS, catalog_upload
from tests.planted.holders_first_gatekeeper import HoldersFirstGatekeeper

MALLORY = CAROL
MADE_UP = "+8613800000077"  # a number nobody uses


def gatekept(gatekeeper: type[Gatekeeper] = Gatekeeper) -> Gatekeeper:
    """A field cloud: r-1 bound to Alice, handed to nobody else; Alice and Mallory
    subscribed."""
    store = InMemoryStore()
    cloud = CloudMachine(
        store=store, recommender=RuleRecommender(), config=CloudConfig(push_timeout=600.0)
    )
    machine = gatekeeper(cloud, store=store, holders=lambda receipt: set())
    for phone_id in (ALICE, MALLORY):
        machine.handle(Subscribe(phone_id), phone_address(phone_id), 0.0)
    machine.handle(catalog_upload("r-1", ALICE), POS, 0.0)
    return machine


def answer(machine: Machine, message: Message, sender: str) -> ErrorReply:
    (send,) = machine.handle(message, sender, 1.0).sends
    assert send.to == sender and isinstance(send.message, ErrorReply), send
    return send.message


def forged_answers(machine: Gatekeeper) -> tuple[ErrorCode, ErrorCode]:
    """What Mallory gets for a request claiming a made-up number, about the existing r-1
    (bound to Alice) and about r-404 (never uploaded)."""
    mallory = phone_address(MALLORY)
    existing = answer(machine, AssociationRequest(1, "r-1", "shop-a", MADE_UP), mallory)
    unknown = answer(machine, AssociationRequest(2, "r-404", "shop-a", MADE_UP), mallory)
    return existing.code, unknown.code


def test_a_forged_request_tells_nothing_of_which_receipts_exist() -> None:
    assert forged_answers(gatekept()) == (ErrorCode.FORGED_IDENTIFIER,) * 2


def test_planted_holders_judged_before_the_claim_tell_which_receipts_exist() -> None:
    assert forged_answers(gatekept(HoldersFirstGatekeeper)) == (
        ErrorCode.UNKNOWN_RECEIPT,
        ErrorCode.FORGED_IDENTIFIER,
    )


@pytest.mark.parametrize(
    "message",
    [
        AssociationRequest(1, "r-1", "shop-a", ALICE),
        Subscribe(ALICE),
        PushAck("r-1", "shop-a", ALICE),
    ],
)
def test_a_phones_claims_are_the_clouds_alone(message: Message) -> None:
    """The Gatekeeper's check passes a phone's message naming another phone (its own
    rule covers tills); the bare cloud machine refuses it, and so the field's cloud."""
    mallory = phone_address(MALLORY)
    assert isinstance(message, AssociationRequest | Subscribe | PushAck)
    assert claims_refusal(message, mallory) is None
    assert names_another_phone(message, mallory)
    assert not names_another_phone(message, phone_address(ALICE))
    bare = CloudMachine(store=InMemoryStore(), recommender=RuleRecommender())
    for machine in (bare, gatekept()):
        refusal = answer(machine, message, mallory)
        assert refusal.code is ErrorCode.FORGED_IDENTIFIER
        assert refusal.detail == f"{mallory} may not act for {phone_address(ALICE)}"
