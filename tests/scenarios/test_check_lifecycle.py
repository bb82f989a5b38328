"""The checker's rules that reviewer A (s31) found missing: each planted cloud that broke
one and was all clear is caught, by the run's check and by ``assocsim check`` of its
trace; the reference's own moves that look alike stay clean.

F1 refusals judged deny by default (``tests/planted/unjustified_refusals.py``); F2 products
only to subscribed phones (``serving_unsubscribed.py``); F3 and F5 the lifecycle table's
refused transitions and step 603/unit 8022's content (``lifecycle_strays.py``); F4 the
requester of a mismatch is the sender's address (``claimed_requester.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import apply_overrides, check_trace, load_scenario
from scenarios._cli._main import main
from scenarios._trace import _checks
from scenarios.testing import RunOutcome, run_checked
from tests.planted.claimed_requester import ClaimedRequester
from tests.scenarios.test_checks import CLOUD, A, B, C, TraceBuilder, only, phone

REFUSAL, PRIVACY, PUSH, DUAL = "refusal-justified", "privacy", "timeout-push", "mismatch-dual-send"
STRAYS = "tests.planted.lifecycle_strays"


def run(name: str, cloud: str | None, *overrides: str) -> RunOutcome:
    return run_checked(apply_overrides(load_scenario(name), list(overrides)), cloud=cloud)


def caught(outcome: RunOutcome, invariant: str) -> list[_checks.Violation]:
    """The violations of ``invariant`` in the run's check, after asserting ``assocsim
    check`` of its trace (the records, the scenario's settings) finds the very same."""
    records = [event.to_json() for event in outcome.events]
    assert check_trace(records, settings=outcome.scenario) == outcome.check
    assert not outcome.ok
    found = outcome.check.by_invariant(invariant)
    assert found, outcome.check.format_text()
    return found


# ------------------------------------------------------------------ F1 refusals


@pytest.mark.parametrize(
    ("cloud", "code"),
    [("forged_pulls", "forged-identifier"), ("overloaded_pulls", "overloaded")],
)
def test_a_pull_refused_for_nothing_is_caught(cloud: str, code: str) -> None:
    outcome = run("quickstart", f"tests.planted.unjustified_refusals:{cloud}", "purchases=60")
    assert outcome.report.responses == 0
    violations = caught(outcome, REFUSAL)
    assert all(f"{code!r}" in v.detail for v in violations)


def test_uploads_refused_as_forged_are_caught_by_run_and_check(tmp_path: Path) -> None:
    trace = tmp_path / "forged.jsonl"
    spec = "tests.planted.unjustified_refusals:forged_uploads"
    args = ["run", "quickstart", "--set", "purchases=30", "--cloud", spec, "--check"]
    assert main([*args, "--trace", str(trace)]) == 1
    assert main(["check", str(trace)]) == 1
    outcome = run("quickstart", spec, "purchases=30")
    assert outcome.report.delivered == 0
    violations = caught(outcome, REFUSAL)
    assert len(violations) == 30
    assert all("naming pos:" in v.detail and "its own sender" in v.detail for v in violations)


def forged_request(policy: str) -> TraceBuilder:
    """Phone A asks about R1 (bound to C) claiming to be B: the reference refuses it as
    forged (step 504 takes the requester from the sender's address)."""
    b = TraceBuilder(policy=policy)
    for who in (A, B, C):
        b.subscribe(who)
    b.upload("R1", C)
    body = {"request_id": 1, "receipt_id": "R1", "phone_id": B}
    b.at(6).message(phone(A), CLOUD, "association-request", body)
    b.refuse(A, "R1", 1, "forged-identifier")
    b.at(600).push("R1", C)
    return b


@pytest.mark.parametrize("policy", ["dual-send", "reject"])
def test_forged_identifier_is_justified_by_a_claim_of_another_party(policy: str) -> None:
    result = check_trace(forged_request(policy).records)
    assert result.ok, result.format_text()
    assert {s.name: s.checked for s in result.invariants}[REFUSAL] == 1


def test_forged_identifier_to_a_phone_claiming_itself_is_a_violation() -> None:
    b = TraceBuilder()
    b.subscribe(A)
    b.upload("R1", A)
    b.at(6).refuse(A, "R1", b.request(A, "R1"), "forged-identifier")
    b.at(600).push("R1", A)
    (violation,) = only(check_trace(b.records), REFUSAL)
    assert f"naming {phone(A)}, its own sender" in violation.detail


def test_a_wire_code_or_an_unknown_code_from_the_cloud_is_a_violation() -> None:
    for code in ("overloaded", "timeout", "unauthorized", "no-such-code"):
        b = TraceBuilder()
        b.subscribe(A)
        b.upload("R1", A)
        b.at(6).refuse(A, "R1", b.request(A, "R1"), code)
        b.at(600).push("R1", A)
        (violation,) = only(check_trace(b.records), REFUSAL)
        assert "sends it in no step" in violation.detail


def test_a_forged_refusal_outside_its_step_is_counted_not_checked() -> None:
    b = TraceBuilder()
    b.subscribe(A)
    b.upload("R1", A)
    b.at(6).request(A, "R1")
    b.note(phone(B), "mismatch", None, None)  # another process's event between
    b.refuse(A, "R1", 1, "forged-identifier")
    result = check_trace(b.records)
    assert not result.by_invariant(REFUSAL)
    assert any("1 refusals of a message" in reason for reason in result.skipped)
    assert "(not checked: refusal-justified: 1 refusals of a message" in result.format_text()


# ------------------------------------------------------------------ F4 the requester


def test_a_forged_request_under_reject_is_no_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    # planted: tests/planted/claimed_requester.py takes the claimed phone_id (a false alarm)
    records = forged_request("reject").records
    assert check_trace(records).ok
    planted = tuple(
        ClaimedRequester if cls is _checks.MismatchDualSend else cls
        for cls in _checks._INVARIANT_CLASSES
    )
    monkeypatch.setattr(_checks, "_INVARIANT_CLASSES", planted)
    (alarm,) = check_trace(records).by_invariant(DUAL)
    assert "'forged-identifier', not 'identifier-mismatch'" in alarm.detail


# ------------------------------------------------------------------ F2 subscribed phones


def test_products_to_a_phone_that_never_subscribed_are_caught() -> None:
    outcome = run("quickstart", "tests.planted.serving_unsubscribed:serving_unsubscribed")
    violations = caught(outcome, PRIVACY)
    assert all("never subscribed" in v.detail for v in violations)
    assert len(violations) > 10
    # the report's line counts what was not owed, and says so
    assert "not owed (unsubscribed)" in outcome.report.format_table()
    assert "withheld" not in outcome.report.format_table()


def test_a_delivery_to_a_subscribed_phone_is_fine_and_to_another_is_not() -> None:
    b = TraceBuilder()
    b.subscribe(A)
    b.purchase("R1", A)
    b.at(600).push("R1", A)
    assert check_trace(b.records).ok
    b.at(700).purchase("R2", B)  # B never subscribed
    b.at(1300).push("R2", B)
    (violation,) = only(check_trace(b.records), PRIVACY)
    assert violation.actors == (CLOUD, phone(B)) and "never subscribed" in violation.detail


# ------------------------------------------------------------------ F3 the lifecycle


def test_a_dual_send_after_a_delivery_is_caught() -> None:
    outcome = run("quickstart", f"{STRAYS}:dual_sends_after_delivery")
    violations = caught(outcome, DUAL)
    assert all("already-delivered" in v.detail for v in violations)


def test_a_push_after_its_push_ack_is_caught() -> None:
    outcome = run("quickstart", f"{STRAYS}:pushes_again", "purchases=60")
    violations = caught(outcome, PUSH)
    assert all("PushAck" in v.detail for v in violations)


def test_a_push_kept_after_the_answer_is_caught() -> None:
    loss = ("ask_probability=0.9", "network.loss=0.4")
    outcome = run("silent-phones", f"{STRAYS}:keeps_push_after_answer", *loss)
    violations = caught(outcome, PUSH)
    assert all("push-superseded" in v.detail for v in violations)
    assert run("silent-phones", None, *loss).ok  # the reference, the same losses


def test_a_crash_inside_the_acks_step_excuses_the_re_send() -> None:
    def resent(point: str | None) -> tuple[_checks.Violation, ...]:
        b = TraceBuilder()
        b.records[0]["settings"]["cloud"]["store"] = "sqlite"
        b.subscribe(A)
        b.purchase("R1", A)
        b.at(600).push("R1", A)  # A acknowledges it: its push-ack received at the cloud
        push = next(r for r in b.records if r.get("type") == "association-push")
        if point is not None:
            b.at(600.5).event("crash", CLOUD, CLOUD, point=point)
            b.at(601).event("restart", CLOUD, CLOUD)
        b.at(602).message(CLOUD, phone(A), "association-push", push["msg"])
        return check_trace(b.records).violations

    assert resent("inside-step") == ()  # the ack's step may have died uncommitted
    for point in ("between-steps", None):
        (violation,) = resent(point)
        assert violation.invariant == PUSH and "PushAck" in violation.detail


# ------------------------------------------------------------------ F5 step 603, unit 8022


def test_a_late_push_is_caught() -> None:
    outcome = run("quickstart", f"{STRAYS}:pushes_late", "purchases=60")
    violations = caught(outcome, PUSH)
    assert all("after its deadline" in v.detail for v in violations)


def test_a_push_late_by_the_time_the_cloud_was_down_is_fine() -> None:
    def pushed_at(t: float) -> _checks.CheckResult:
        b = TraceBuilder()
        b.records[0]["settings"]["cloud"]["store"] = "sqlite"
        b.subscribe(A)
        b.purchase("R1", A)  # stored at t=0: due at 600
        b.at(500).event("crash", CLOUD, CLOUD, point="between-steps")
        b.at(900).event("restart", CLOUD, CLOUD)
        b.at(t).push("R1", A)
        return check_trace(b.records)

    assert pushed_at(900).ok, pushed_at(900).format_text()  # due while down: at restart
    (violation,) = only(pushed_at(901), PUSH)
    assert "plus the 300s the cloud was down" in violation.detail


def test_a_dual_send_with_other_products_is_caught() -> None:
    outcome = run("wrong-ids", f"{STRAYS}:dual_sends_other_products")
    violations = caught(outcome, DUAL)
    assert all("other products than the response" in v.detail for v in violations)


def test_empty_deliveries_are_reported() -> None:
    outcome = run("quickstart", f"{STRAYS}:pairs_nothing", "purchases=60")
    assert outcome.check.ok  # not a rule: the goods may pair with nothing
    (said,) = [r for r in outcome.check.skipped if "with no products" in r]
    assert said.startswith("no-delivery-lost: ") and outcome.report.delivered > 0
    assert not [r for r in run("quickstart", None, "purchases=60").check.skipped]
