"""Planted bug for the outbox's ``gave-up`` note (tests/scenarios/test_gave_up_names_merchant.py):
the note names the receipt id without its merchant, as it once did. A POS's address names
its merchant, so its give-ups still matched its receipts; a phone's does not, so the
promise ledger never matched a phone's give-up to its request, and a phone that gave up
on a request the network lost was reported as a lost delivery "and the phone did not give
up on it" (72 false violations on ``faults`` with 1,000 purchases and 2 attempts)."""

from __future__ import annotations

from collections.abc import Hashable

import attrs

from protocol.lowlevel import Outbox, ResendResult


class MerchantlessOutbox(Outbox):
    def resend_due(self, key: Hashable, now: float) -> ResendResult:
        result = super().resend_due(key, now)
        notes = tuple(attrs.evolve(n, merchant_id=None) for n in result.effects.notes)
        return attrs.evolve(result, effects=attrs.evolve(result.effects, notes=notes))
