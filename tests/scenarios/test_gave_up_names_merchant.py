"""A phone's ``gave-up`` note names its receipt with the merchant, so it excuses the request.

The outbox's note named the receipt id alone. A POS's address names its merchant, so a
POS's give-ups matched its receipts; a phone's does not, so the promise ledger never
matched a phone's give-up to its request: ``faults`` with 1,000 purchases and 2 attempts
gave 72 false ``no-delivery-lost`` violations on the reference cloud, each "request N for
R never got a reply (and the phone did not give up on it)" of a phone that had given up.
"""

from __future__ import annotations

import pytest

from actors import EventKind
from protocol._machines import _phone
from scenarios import apply_overrides, load_scenario
from scenarios.testing import RunOutcome, run_checked
from tests.planted.merchantless_give_up import MerchantlessOutbox

GIVING_UP = ["purchases=300", "retry.max_attempts=2"]


def _phones_gave_up(outcome: RunOutcome) -> list[str]:
    """The receipts of the phones' give-ups (a subscribe's names none)."""
    return [
        e.receipt
        for e in outcome.events
        if e.kind is EventKind.NOTE
        and e.sender.startswith("phone:")
        and e.note is not None
        and e.note.kind == "gave-up"
        and e.receipt is not None
    ]


def _unreplied(outcome: RunOutcome) -> list[str]:
    return [v.detail for v in outcome.violations if "never got a reply" in v.detail]


def test_a_phone_that_gave_up_on_a_lost_request_is_excused() -> None:
    outcome = run_checked(apply_overrides(load_scenario("faults"), GIVING_UP))
    gave_up = _phones_gave_up(outcome)
    assert gave_up  # the phones did give up in this run (else the test shows nothing)
    assert all("/" in r for r in gave_up)  # MERCHANT/RECEIPT
    assert _unreplied(outcome) == []


def test_a_merchantless_give_up_note_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_phone, "Outbox", MerchantlessOutbox)
    outcome = run_checked(apply_overrides(load_scenario("faults"), GIVING_UP))
    assert _phones_gave_up(outcome)
    unreplied = _unreplied(outcome)
    assert unreplied
    assert all("the phone did not give up on it" in d for d in unreplied)
