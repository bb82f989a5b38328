"""A hand-made trace with planted receipts, one per criterion of ``assocsim find``.

:func:`planted_trace` writes, between two subscribed phones A and B, six receipts whose
troubles are known by construction (``PLANTED``): ``assocsim find`` must list exactly
those for each criterion, no more (a criterion that also lists a clean receipt, or misses
its planted one, fails ``tests/scenarios/test_find.py``).
"""

from __future__ import annotations

from typing import Any

from tests.scenarios.test_checks import CLOUD, ITEMS, POS, A, B, TraceBuilder, phone

__all__ = ["PLANTED", "planted_trace"]

#: criterion -> the receipts planted for it, in trace order.
PLANTED: dict[str, list[str]] = {
    "mismatch": ["shop-01/R2"],  # B asks for a receipt its POS named A for (step 505)
    # R3: B's request dropped while the cloud was down; R1: its push timer was pending
    # at the cloud across the crash (uploaded at 1, pushed at 601).
    "crash-affected": ["shop-01/R1", "shop-01/R3"],
    "most-resent": [
        "shop-01/R5",
        "shop-01/R3",
    ],  # R5's upload sent 3 times (2 re-sends); R3's request twice
    "lost": ["shop-01/R4"],  # A subscribed, the upload acknowledged, nothing ever sent to A
    "duplicated": ["shop-01/R1"],  # a timeout push after the cloud had answered A's request
    "gave-up": ["shop-01/R6"],  # A gave up re-sending its request
    # R1: timeout-push and no-duplicate-shown (shown twice); R4: no-delivery-lost.
    "violations": ["shop-01/R1", "shop-01/R4"],
}


def planted_trace() -> list[dict[str, Any]]:
    """The trace's records, header first."""
    b = TraceBuilder(push_timeout=600.0)
    b.subscribe(A)
    b.subscribe(B)
    # R1: pulled at 30, then pushed at the deadline anyway: a duplicate.
    b.at(1).purchase("R1", A)
    b.at(30).pull("R1", A)
    # R2: the POS named A; B (who got the notice) asks: answered, and dual-sent to A.
    b.at(40).upload("R2", A)
    b.notice("R2", B)
    b.at(50).pull("R2", B)
    b.push("R2", A, "dual-send")
    # R3: B asks while the cloud is down; asks again (the same message) after its restart.
    b.at(100).purchase("R3", B)
    b.at(110).event("crash", CLOUD, CLOUD)
    request = {"request_id": 1, "receipt_id": "R3", "phone_id": B}
    b.at(115).message(phone(B), CLOUD, "association-request", request, fault="down")
    b.at(200).event("restart", CLOUD, CLOUD)
    b.at(210).message(phone(B), CLOUD, "association-request", request)
    b.respond(B, "R3", 1)
    # R4: acknowledged, A had subscribed, and A never gets the products.
    b.at(300).upload("R4", A)
    # R5: the upload is lost twice, the third copy arrives; B pulls.
    upload = {
        "receipt_id": "R5",
        "merchant_id": "shop-01",
        "pos_id": "pos-1",
        "phone_id": B,
        "items": ITEMS,
        "purchased_at": 400,
    }
    b.at(400).message(POS, CLOUD, "purchase-upload", upload, fault="loss")
    b.at(401).message(POS, CLOUD, "purchase-upload", upload, fault="loss")
    b.at(402).message(POS, CLOUD, "purchase-upload", upload)
    b.message(CLOUD, POS, "upload-ack", {"receipt_id": "R5"})
    b.at(410).pull("R5", B)
    # R6: A's request never reaches the cloud and A gives up; the cloud pushes on time.
    b.at(500).upload("R6", A)
    b.at(510).request(A, "R6", received=False)
    b.at(601).push("R1", A)
    b.at(700).note(phone(A), "gave-up", "R6", None, "association-request after 5 attempts")
    b.at(1100).push("R6", A)
    return b.records
