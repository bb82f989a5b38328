"""``refusal-justified``: every refusal the cloud sends is justified by the trace before it.

A cloud answering every valid upload with ``error-reply`` ``invalid-message`` bound
nothing and delivered nothing (0 of 30), and ``assocsim run quickstart --check`` said all
clear: a refused upload is owed nothing, and no invariant judged the refusal. Each code
the cloud may send is judged here on hand-made traces, both ways (justified, and not), and
where the trace cannot tell (a store that forgets at a crash; a step it does not show
whole) it is not judged. The reference cloud passes on every built-in scenario
(``tests/scenarios/test_checks.py``), the fault matrix, the crash tests and the
explorer's worlds (their always-properties are these invariants).
"""

from __future__ import annotations

import pytest

from scenarios import apply_overrides, check_events, load_scenario
from scenarios._trace import _checks
from scenarios.testing import run_checked
from tests.planted.refusing_cloud import refusing_cloud
from tests.planted.silent_refusal_skips import say_nothing
from tests.planted.trusted_refusals import TrustedRefusals
from tests.scenarios.test_checks import (
    CLOUD,
    POS,
    A,
    B,
    TraceBuilder,
    only,
    phone,
    result_of,
)

REFUSAL = "refusal-justified"


def refused(
    b: TraceBuilder, to: str, code: str, receipt: str | None, request_id: int | None
) -> None:
    """The cloud's refusal ``code`` to ``to`` (received there)."""
    body = {"code": code, "detail": "no", "receipt_id": receipt, "request_id": request_id}
    b.message(CLOUD, to, "error-reply", {**body, "merchant_id": "shop-01"})


def refused_upload(b: TraceBuilder, receipt: str, named: str, code: str) -> None:
    """An upload of ``receipt`` naming ``named`` reaching the cloud, refused with ``code``."""
    body = {
        "receipt_id": receipt,
        "pos_id": "pos-1",
        "phone_id": named,
        "items": [],
        "purchased_at": b.t,
    }
    b.message(POS, CLOUD, "purchase-upload", body)
    refused(b, POS, code, receipt, None)


def test_a_valid_upload_refused_as_invalid_is_a_violation() -> None:
    b = TraceBuilder()
    refused_upload(b, "R1", A, "invalid-message")
    (violation,) = only(result_of(b), REFUSAL)
    assert "'invalid-message' for a purchase-upload it handles" in violation.detail
    assert violation.actors == (CLOUD, POS)


def test_a_message_the_cloud_does_not_handle_may_be_unexpected() -> None:
    b = TraceBuilder()
    b.message(POS, CLOUD, "upload-ack", {"receipt_id": "R1"})  # not the cloud's to take
    refused(b, POS, "unexpected-message", None, None)
    assert result_of(b).ok, result_of(b).format_text()
    bad = TraceBuilder()
    bad.message(phone(A), CLOUD, "subscribe", {"phone_id": A})
    refused(bad, phone(A), "unexpected-message", None, None)
    (violation,) = only(result_of(bad), REFUSAL)
    assert "for a subscribe it handles" in violation.detail


def test_a_refusal_outside_the_step_of_its_message_is_not_judged() -> None:
    # another party's event between the message and the refusal (a merged field trial):
    # the trace does not show which message was refused
    b = TraceBuilder()
    b.message(POS, CLOUD, "purchase-upload", {"receipt_id": "R1", "phone_id": A})
    b.note(phone(B), "mismatch", None, None)
    refused(b, POS, "invalid-message", "R1", None)
    result = result_of(b)
    assert not result.by_invariant(REFUSAL)
    summary = {s.name: s.checked for s in result.invariants}
    assert summary[REFUSAL] == 0


def test_unknown_receipt_only_for_a_receipt_never_acknowledged() -> None:
    good = TraceBuilder()
    good.subscribe(A)
    request = good.request(A, "R1")
    good.refuse(A, "R1", request, "unknown-receipt")
    assert result_of(good).ok, result_of(good).format_text()
    bad = TraceBuilder()
    bad.subscribe(A)
    bad.upload("R1", A)
    bad.at(30).refuse(A, "R1", bad.request(A, "R1"), "unknown-receipt")
    bad.at(30).respond(A, "R1", bad.request(A, "R1"))  # asked again, answered
    (violation,) = only(result_of(bad), REFUSAL)
    assert "whose upload it acknowledged at t=0.000" in violation.detail


def test_unknown_receipt_to_a_phone_never_handed_it_is_privacy() -> None:
    # The field cloud's gatekeeper refuses a phone neither named nor handed the receipt as
    # if it were unknown (protocol/_machines/_auth.py): it may not learn the receipt exists
    # (tests/scenarios/test_serve.py's snoop). Handed the notice, the phone may be answered.
    good = TraceBuilder()
    good.subscribe(A)
    good.subscribe(B)
    good.upload("R1", A)
    good.at(30).refuse(B, "R1", good.request(B, "R1"), "unknown-receipt")
    good.at(600).push("R1", A)
    assert result_of(good).ok, result_of(good).format_text()
    bad = TraceBuilder()
    bad.subscribe(A)
    bad.subscribe(B)
    bad.upload("R1", A)
    bad.notice("R1", B)  # B was handed the receipt (the buyer's own phone)
    bad.at(30).refuse(B, "R1", bad.request(B, "R1"), "unknown-receipt")
    bad.at(600).push("R1", A)
    (violation,) = only(result_of(bad), REFUSAL)
    assert "whose upload it acknowledged at t=0.000" in violation.detail


def _crashed_then_unknown(store: str | None) -> TraceBuilder:
    b = TraceBuilder()
    if store is not None:
        b.records[0]["settings"]["cloud"]["store"] = store
    b.subscribe(A)
    b.upload("R1", A)
    b.at(10).event("crash", CLOUD, CLOUD)
    b.at(20).event("restart", CLOUD, CLOUD)
    b.subscribe(A)
    b.at(30).refuse(A, "R1", b.request(A, "R1"), "unknown-receipt")
    b.at(600).push("R1", A)  # (the cloud on memory would have forgotten it too)
    return b


def test_a_cloud_on_a_store_that_forgets_is_not_judged_after_its_crash() -> None:
    for store in (None, "memory", "auto"):  # auto, with no [[crash]] of the cloud: memory
        result = result_of(_crashed_then_unknown(store))
        assert result.ok, (store, result.format_text())
    (violation,) = only(result_of(_crashed_then_unknown("sqlite")), REFUSAL)
    assert "'unknown-receipt'" in violation.detail


def test_the_result_says_how_many_refusals_were_not_judged_after_the_crash() -> None:
    # "ok" with a refusal not judged must say so: the skipped line names the count
    for store in (None, "memory", "auto"):
        result = result_of(_crashed_then_unknown(store))
        (reason,) = [r for r in result.skipped if r.startswith(REFUSAL)]
        assert "1 refusals that depend on the cloud's store" in reason
        assert f"(not checked: {reason})" in result.format_text()
    judged = result_of(_crashed_then_unknown("sqlite"))
    assert not [r for r in judged.skipped if r.startswith(REFUSAL)]


def test_planted_an_invariant_silent_on_what_it_left_out_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_checks.RefusalJustified, "left_out", say_nothing)
    result = result_of(_crashed_then_unknown("memory"))
    assert result.ok and not [r for r in result.skipped if r.startswith(REFUSAL)]


def test_conflicting_upload_only_after_another_upload_was_acknowledged() -> None:
    good = TraceBuilder()
    good.upload("R1", A)
    refused_upload(good, "R1", B, "conflicting-upload")  # another phone: a conflict
    assert result_of(good).ok, result_of(good).format_text()
    unbound = TraceBuilder()
    refused_upload(unbound, "R1", A, "conflicting-upload")
    (violation,) = only(result_of(unbound), REFUSAL)
    assert "of which it acknowledged no upload" in violation.detail
    same = TraceBuilder()
    same.upload("R1", A)
    (upload,) = [r for r in same.records if r.get("event") == "recv" and r["to"] == CLOUD]
    same.records.append({**upload, "t": 5.0})  # the same upload received again
    refused(same, POS, "conflicting-upload", "R1", None)
    (violation,) = only(result_of(same), REFUSAL)
    assert "the very upload it acknowledged" in violation.detail


def test_not_subscribed_only_to_a_phone_never_acknowledged() -> None:
    good = TraceBuilder()
    good.upload("R1", A)
    good.refuse(A, "R1", good.request(A, "R1"), "not-subscribed")
    assert result_of(good).ok, result_of(good).format_text()
    bad = TraceBuilder()
    bad.subscribe(A)
    bad.upload("R1", A)
    bad.refuse(A, "R1", bad.request(A, "R1"), "not-subscribed")
    bad.at(10).respond(A, "R1", bad.request(A, "R1"))
    (violation,) = only(result_of(bad), REFUSAL)
    assert "having acknowledged its subscription at t=0.000" in violation.detail


def test_identifier_mismatch_only_for_differing_ids() -> None:
    good = TraceBuilder(policy="reject")
    good.subscribe(A)
    good.subscribe(B)
    good.upload("R1", B)
    good.at(60).refuse(A, "R1", good.request(A, "R1"), "identifier-mismatch")
    good.at(600).push("R1", B)
    assert result_of(good).ok, result_of(good).format_text()
    bad = TraceBuilder(policy="reject")
    bad.subscribe(A)
    bad.upload("R1", A)
    bad.at(60).refuse(A, "R1", bad.request(A, "R1"), "identifier-mismatch")
    bad.at(70).respond(A, "R1", bad.request(A, "R1"))
    (violation,) = only(result_of(bad), REFUSAL)
    assert f"though {phone(A)} is the phone its upload names" in violation.detail


def test_the_refusing_cloud_is_caught() -> None:
    scenario = apply_overrides(load_scenario("quickstart"), ["purchases=30"])
    outcome = run_checked(scenario, cloud=refusing_cloud)
    assert outcome.report.delivered == 0
    assert not outcome.ok
    violations = outcome.check.by_invariant(REFUSAL)
    assert len(violations) == 30  # one per receipt (its re-sends refused alike)
    assert all("'invalid-message' for a purchase-upload" in v.detail for v in violations)


def test_a_check_trusting_the_clouds_word_on_validity_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # planted: tests/planted/trusted_refusals.py brings the false all-clear back
    scenario = apply_overrides(load_scenario("quickstart"), ["purchases=30"])
    events = run_checked(scenario, cloud=refusing_cloud).events
    assert not check_events(events, settings=scenario).ok
    planted = tuple(
        TrustedRefusals if cls is _checks.RefusalJustified else cls
        for cls in _checks._INVARIANT_CLASSES
    )
    monkeypatch.setattr(_checks, "_INVARIANT_CLASSES", planted)
    assert check_events(events, settings=scenario).ok  # what the test above would see
