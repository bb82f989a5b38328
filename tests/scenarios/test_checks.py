"""The trace checkers: each invariant caught on a hand-made violating trace, and silent on
real runs of every built-in scenario; ``assocsim check`` through the installed script.

Hand-made traces are written with :class:`TraceBuilder`, which speaks the trace format of
``docs/trace-format.md`` (including the reliability layer's acknowledgements, ``shown``
notes and the simulated network's fault events), so every path is tested whether or not
the code that emits it exists yet.
"""

from __future__ import annotations

import functools
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from actors import TRACE_FORMAT, EventKind, JsonlTraceWriter, TraceEvent, receipt_key
from protocol import AssociationPush
from scenarios import (
    CheckResult,
    TraceChecker,
    apply_overrides,
    builtin_scenarios,
    check_events,
    check_trace,
    load_scenario,
    run_scenario,
    scenario_to_dict,
)
from scenarios._cli._main import main
from scenarios._trace._checks import (
    INVARIANTS,
    Violation,
    _digest,
    body_text,
    keep_body_digest,
    text_digest,
)
from scenarios._trace._reader import TraceError
from tests.planted.fed_body_digests import fed_body_digest
from tests.planted.id_keyed_digests import id_keyed_digest

SHOP = "shop-01"
POS = f"pos:{SHOP}:pos-1"
A, B, C = "+8613800000001", "+8613800000002", "+8613800000003"
CLOUD = "cloud"


def key(receipt: str | None) -> str | None:
    """How a trace names receipt ``receipt`` of ``SHOP``: ``shop-01/R1``."""
    return None if receipt is None else receipt_key(SHOP, receipt)


def phone(phone_id: str) -> str:
    return f"phone:{phone_id}"


ITEMS: list[dict[str, Any]] = [
    {
        "sku": "SKIN-FW-001",
        "name": "Hydra Gentle Face Wash 150ml",
        "category": "face-wash",
        "brand": "Hydra",
        "colour": "white",
        "quantity": 1,
        "price": 6.5,
    }
]
PRODUCTS: list[dict[str, Any]] = [
    {
        "sku": "SKIN-LO-002",
        "name": "Hydra Daily Moisturising Lotion 200ml",
        "category": "lotion",
        "brand": "Hydra",
        "colour": "white",
        "price": 8.9,
        "reason": "complement",
        "score": 1.25,
        "offer": None,
    }
]


class TraceBuilder:
    """Writes trace records by hand: one protocol exchange per method, in time order."""

    def __init__(
        self, *, policy: str = "dual-send", push_timeout: float = 600.0, reliable: bool = True
    ) -> None:
        self.reliable = reliable  # phones note "shown" and acknowledge (the new protocol)
        self.records: list[dict[str, Any]] = [
            {
                "format": TRACE_FORMAT,
                "scenario": "hand-made",
                "seed": 1,
                "scheduling": "inline",
                "overrides": [],
                "settings": {"cloud": {"push_timeout": push_timeout, "mismatch_policy": policy}},
            }
        ]
        self.t = 0.0
        self._request_ids: dict[str, int] = {}

    def at(self, t: float) -> TraceBuilder:
        self.t = t
        return self

    # -- raw events

    def event(self, kind: str, frm: str, to: str, **fields: Any) -> dict[str, Any]:
        record = {"t": self.t, "event": kind, "from": frm, "to": to, **fields}
        self.records.append(record)
        return record

    def message(
        self,
        frm: str,
        to: str,
        type_: str,
        msg: dict[str, Any],
        *,
        received: bool = True,
        fault: str | None = None,
    ) -> None:
        """A send, then its receipt (or a drop with ``fault``, or nothing)."""
        if "receipt_id" in msg and type_ != "error-reply":
            msg = {**msg, "merchant_id": SHOP}
        fields = {"type": type_, "receipt": key(msg.get("receipt_id")), "msg": msg}
        self.event("send", frm, to, **fields)
        if fault is not None:
            self.event("drop", frm, to, **fields, fault=fault)
        elif received:
            self.event("recv", frm, to, **fields)

    def note(
        self, actor: str, kind: str, receipt: str | None, phone_id: str | None, detail: str = ""
    ) -> None:
        self.event(
            "note", actor, actor, type=kind, receipt=key(receipt), phone=phone_id, detail=detail
        )

    # -- protocol exchanges

    def subscribe(self, phone_id: str) -> None:
        self.message(phone(phone_id), CLOUD, "subscribe", {"phone_id": phone_id})
        self.message(CLOUD, phone(phone_id), "subscribe-ack", {"phone_id": phone_id})

    def upload(self, receipt: str, named: str, *, items: list[dict[str, Any]] = ITEMS) -> None:
        """Step 501/502: the upload and its acknowledgement."""
        body = {
            "receipt_id": receipt,
            "pos_id": "pos-1",
            "phone_id": named,
            "items": items,
            "purchased_at": self.t,
        }
        self.message(POS, CLOUD, "purchase-upload", body)
        self.message(CLOUD, POS, "upload-ack", {"receipt_id": receipt})

    def notice(self, receipt: str, buyer: str) -> None:
        body = {"receipt_id": receipt, "purchased_at": self.t}
        self.message(POS, phone(buyer), "receipt-notice", body)
        if self.reliable:
            self.message(phone(buyer), POS, "notice-ack", {"receipt_id": receipt})

    def request(self, requester: str, receipt: str, *, received: bool = True) -> int:
        request_id = self._request_ids[requester] = self._request_ids.get(requester, 0) + 1
        body = {"request_id": request_id, "receipt_id": receipt, "phone_id": requester}
        self.message(phone(requester), CLOUD, "association-request", body, received=received)
        return request_id

    def respond(self, requester: str, receipt: str, request_id: int, *, show: bool = True) -> None:
        body = {"request_id": request_id, "receipt_id": receipt, "products": PRODUCTS}
        self.message(CLOUD, phone(requester), "association-response", body)
        if show and self.reliable:
            self.note(phone(requester), "shown", receipt, requester, "response")

    def refuse(self, requester: str, receipt: str, request_id: int, code: str) -> None:
        body = {
            "code": code,
            "detail": "no",
            "receipt_id": receipt,
            "request_id": request_id,
            "merchant_id": SHOP,
        }
        self.message(CLOUD, phone(requester), "error-reply", body)

    def push(
        self,
        receipt: str,
        phone_id: str,
        reason: str = "timeout",
        *,
        to: str | None = None,
        show: bool = True,
        products: list[dict[str, Any]] = PRODUCTS,
        fault: str | None = None,
    ) -> None:
        body = {"receipt_id": receipt, "phone_id": phone_id, "reason": reason, "products": products}
        target = to if to is not None else phone(phone_id)
        self.message(CLOUD, target, "association-push", body, fault=fault)
        if self.reliable and fault is None:
            self.message(target, CLOUD, "push-ack", {"receipt_id": receipt, "phone_id": phone_id})
            if show:
                self.note(target, "shown", receipt, phone_id, reason)

    def pull(self, receipt: str, buyer: str) -> None:
        """The happy path of step 503-509: the buyer asks and is answered."""
        self.respond(buyer, receipt, self.request(buyer, receipt))

    def purchase(self, receipt: str, buyer: str, *, named: str | None = None) -> None:
        """Steps 501-502 and the receipt notice (the buyer already subscribed)."""
        self.upload(receipt, named if named is not None else buyer)
        self.notice(receipt, buyer)


def result_of(builder: TraceBuilder) -> CheckResult:
    return check_trace(builder.records)


def only(result: CheckResult, invariant: str) -> list[Violation]:
    """The violations of ``invariant``, after asserting no other invariant was violated."""
    others = [v.format_line() for v in result.violations if v.invariant != invariant]
    assert not others, others
    return result.by_invariant(invariant)


def happy() -> TraceBuilder:
    """Two purchases: one pulled, one pushed after the timeout."""
    b = TraceBuilder()
    b.subscribe(A)
    b.purchase("R1", A)
    b.at(30).pull("R1", A)
    b.at(40).purchase("R2", A)
    b.at(640).push("R2", A)
    return b


def test_a_clean_hand_made_trace_has_no_violation() -> None:
    result = result_of(happy())
    assert result.ok, result.format_text()
    assert result.receipts == 2
    assert result.shown_from == "shown notes"
    assert [s.name for s in result.invariants] == list(INVARIANTS)
    checked = {s.name: s.checked for s in result.invariants}
    assert checked["binding"] == 3  # two upload-acks, one push
    assert checked["timeout-push"] == 1
    assert checked["no-duplicate-shown"] == 2
    assert checked["privacy"] == 2


# ------------------------------------------------------------------ binding


def test_binding_catches_an_acknowledged_upload_with_other_content() -> None:
    b = happy()
    b.at(50).upload("R1", B)  # the same receipt, keyed to another phone, acknowledged again
    (violation,) = only(result_of(b), "binding")
    assert violation.receipt == key("R1")
    assert violation.times == (0.0, 50.0)
    assert f"to phone {B}, bound to {A}" in violation.detail
    assert violation.actors == (POS, CLOUD)


def test_binding_catches_other_goods_and_a_push_to_another_phone() -> None:
    b = happy()
    other = [{**ITEMS[0], "quantity": 2}]
    b.at(50).upload("R1", A, items=other)
    b.at(700).push("R2", A, to=phone(B), show=False)
    result = result_of(b)
    violations = result.by_invariant("binding")
    assert [v.receipt for v in violations] == [key("R1"), key("R2")]
    # the push to B is also a leak, and a second, different timeout push of R2
    assert {v.invariant for v in result.violations} == {"binding", "privacy", "timeout-push"}
    assert "other goods" in violations[0].detail
    assert f"to {phone(B)}" in violations[1].detail and f"bound it to {A}" in violations[1].detail


def test_binding_allows_the_same_upload_acknowledged_again() -> None:
    b = happy()
    b.at(1).upload("R1", A)  # a re-send of the identical upload (purchased_at differs!)
    violations = result_of(b).by_invariant("binding")
    assert len(violations) == 1  # purchased_at is part of the content: it differs here
    b2 = TraceBuilder()
    b2.subscribe(A)
    b2.purchase("R1", A)
    b2.upload("R1", A)  # truly identical: fine
    b2.at(30).pull("R1", A)
    assert result_of(b2).ok


# ------------------------------------------------------------------ mismatch dual-send


def mismatch(policy: str) -> TraceBuilder:
    """R1 bound to B (a wrong id); A, the buyer, asks. Both subscribed."""
    b = TraceBuilder(policy=policy)
    b.subscribe(A)
    b.subscribe(B)
    b.at(10).purchase("R1", A, named=B)
    return b


def test_dual_send_policy_needs_the_dual_send_push() -> None:
    b = mismatch("dual-send")
    request = b.at(60).request(A, "R1")
    b.note(CLOUD, "mismatch", "R1", A, f"requester {A} is not {B}")
    b.respond(A, "R1", request)  # answered, but the named phone B gets nothing
    result = result_of(b)
    (violation,) = result.by_invariant("mismatch-dual-send")
    assert violation.actors == (phone(A), CLOUD, phone(B))
    assert violation.times == (60.0, 60.0)
    assert f"named phone {B} neither a dual-send push" in violation.detail
    # ... and B never sees its products: a lost delivery too
    assert [v.receipt for v in result.by_invariant("no-delivery-lost")] == [key("R1")]


def test_dual_send_policy_is_satisfied_by_the_push_or_a_withheld_note() -> None:
    b = mismatch("dual-send")
    b.at(60).respond(A, "R1", b.request(A, "R1"))
    b.push("R1", B, "dual-send")
    assert result_of(b).ok, result_of(b).format_text()

    c = TraceBuilder(policy="dual-send")
    c.subscribe(A)  # B never subscribes
    c.purchase("R1", A, named=B)
    request = c.at(60).request(A, "R1")
    c.note(CLOUD, "dual-send-withheld", "R1", B, "not subscribed")
    c.respond(A, "R1", request)
    c.at(600).note(CLOUD, "push-withheld", "R1", B, "not subscribed")
    assert result_of(c).ok, result_of(c).format_text()


def test_dual_send_policy_accepts_a_named_phone_already_served() -> None:
    b = mismatch("dual-send")
    b.at(610).push("R1", B)  # the timeout push came first
    b.at(660).respond(A, "R1", b.request(A, "R1"))  # no second delivery to B needed
    assert result_of(b).ok, result_of(b).format_text()


def test_dual_send_policy_refusing_a_mismatch_is_a_violation() -> None:
    b = mismatch("dual-send")
    b.at(60).refuse(A, "R1", b.request(A, "R1"), "identifier-mismatch")
    b.at(610).push("R1", B)
    (violation,) = only(result_of(b), "mismatch-dual-send")
    assert "refused under mismatch_policy dual-send" in violation.detail


def test_reject_policy_leaks_nothing() -> None:
    b = mismatch("reject")
    request = b.at(60).request(A, "R1")
    b.respond(A, "R1", request)  # products to the wrong requester
    b.push("R1", B, "dual-send")  # and a dual-send under reject
    violations = only(result_of(b), "mismatch-dual-send")
    details = [v.detail for v in violations]
    assert any("went to requester" in d for d in details)
    assert any("dual-send push of shop-01/R1 under mismatch_policy reject" in d for d in details)


def test_reject_policy_wants_the_identifier_mismatch_refusal() -> None:
    good = mismatch("reject")
    good.at(60).refuse(A, "R1", good.request(A, "R1"), "identifier-mismatch")
    good.at(610).push("R1", B)
    assert result_of(good).ok, result_of(good).format_text()

    bad = mismatch("reject")
    bad.at(60).refuse(A, "R1", bad.request(A, "R1"), "unknown-receipt")
    bad.at(610).push("R1", B)
    result = result_of(bad)
    (violation,) = result.by_invariant("mismatch-dual-send")
    assert "'unknown-receipt', not 'identifier-mismatch'" in violation.detail
    # and an acknowledged receipt is not unknown (tests/scenarios/test_refusal_justified.py)
    (unknown,) = result.by_invariant("refusal-justified")
    assert len(result.violations) == 2 and "whose upload it acknowledged" in unknown.detail


def test_a_dual_send_without_any_mismatch_is_a_violation() -> None:
    b = TraceBuilder()
    b.subscribe(A)
    b.purchase("R1", A)
    b.at(10).push("R1", A, "dual-send")
    (violation,) = only(result_of(b), "mismatch-dual-send")
    assert "no mismatched request" in violation.detail


# ------------------------------------------------------------------ timeout push


def test_timeout_push_not_before_the_deadline() -> None:
    b = TraceBuilder(push_timeout=600)
    b.subscribe(A)
    b.at(100).purchase("R1", A)
    b.at(699.5).push("R1", A)
    (violation,) = only(result_of(b), "timeout-push")
    assert violation.times == (100.0, 699.5)
    assert "before the deadline t=700.000" in violation.detail


def test_timeout_push_exactly_once_but_resends_are_fine() -> None:
    b = TraceBuilder(push_timeout=600)
    b.subscribe(A)
    b.purchase("R1", A)
    b.at(600).push("R1", A, fault="loss")  # lost: no PushAck comes
    b.at(602).push("R1", A)  # the identical push re-sent while outstanding: fine
    assert result_of(b).ok
    b.at(900).push("R1", A, products=[], show=False)  # another push: a violation
    (violation,) = only(result_of(b), "timeout-push")
    assert violation.times == (600.0, 900.0)
    assert "a second, different timeout push" in violation.detail


def test_timeout_push_never_after_an_answered_pull() -> None:
    b = TraceBuilder(push_timeout=600)
    b.subscribe(A)
    b.purchase("R1", A)
    b.at(30).pull("R1", A)
    b.at(600).push("R1", A, show=False)
    (violation,) = only(result_of(b), "timeout-push")
    assert violation.times == (30.0, 600.0)
    assert "after the cloud answered" in violation.detail


# ------------------------------------------------------------------ no delivery lost


def test_an_acknowledged_upload_never_shown_is_lost() -> None:
    b = TraceBuilder()
    b.subscribe(A)
    b.at(5).purchase("R1", A)
    b.at(605).push("R1", A, fault="loss")  # sent once, lost, never re-sent
    (violation,) = only(result_of(b), "no-delivery-lost")
    assert violation.kind == "liveness"
    assert violation.receipt == key("R1")
    assert violation.actors == (POS, CLOUD, phone(A))
    assert violation.times[:2] == (5.0, 0.0)
    assert "the cloud sent it at t=605.000 but it was never shown" in violation.detail


def test_withheld_before_the_subscription_is_not_owed() -> None:
    b = TraceBuilder()
    b.purchase("R1", A)  # A has not subscribed yet
    b.at(600).note(CLOUD, "push-withheld", "R1", A, "not subscribed")
    b.at(700).subscribe(A)
    assert result_of(b).ok
    # withheld although subscribed: owed, and lost
    c = TraceBuilder()
    c.subscribe(A)
    c.purchase("R1", A)
    c.at(600).note(CLOUD, "push-withheld", "R1", A, "not subscribed")
    (violation,) = only(result_of(c), "no-delivery-lost")
    assert "the cloud never sent it" in violation.detail


def test_an_unanswered_request_is_lost_unless_the_phone_gave_up() -> None:
    b = TraceBuilder()
    b.subscribe(A)
    b.purchase("R1", A)
    b.at(30).request(A, "R1", received=False)
    b.at(600).push("R1", A)
    (violation,) = only(result_of(b), "no-delivery-lost")
    assert violation.times[0] == 30.0
    assert "request 1 for shop-01/R1 never got a reply" in violation.detail
    b.at(3000).note(
        phone(A), "gave-up", "R1", None, "no answer to association-request for cloud after 50"
    )
    assert result_of(b).ok


def test_an_upload_never_acknowledged_is_lost() -> None:
    b = TraceBuilder()
    body = {"receipt_id": "R9", "merchant_id": "shop-01", "pos_id": "pos-1"}
    b.message(POS, CLOUD, "purchase-upload", {**body, "phone_id": A, "items": ITEMS}, fault="loss")
    (violation,) = only(result_of(b), "no-delivery-lost")
    assert "never acknowledged or refused" in violation.detail


# ------------------------------------------------------------------ no duplicate shown


def test_two_shown_notes_are_a_duplicate() -> None:
    b = happy()
    b.at(700).note(phone(A), "shown", "R2", A, "timeout")
    (violation,) = only(result_of(b), "no-duplicate-shown")
    assert violation.actors == (phone(A),)
    assert violation.times == (640.0, 700.0)


def test_already_shown_copies_are_fine() -> None:
    b = happy()
    b.at(700).note(phone(A), "already-shown", "R2", A, "timeout")
    assert result_of(b).ok


def test_a_trace_without_shown_notes_is_judged_by_receptions() -> None:
    b = TraceBuilder(reliable=False)
    b.subscribe(A)
    b.purchase("R1", A)
    b.at(600).push("R1", A)
    b.at(700).pull("R1", A)  # asked after the push: the user asked again, fine
    result = result_of(b)
    assert result.ok, result.format_text()
    assert result.shown_from == "receptions"
    b.at(800).push("R1", A)  # a second unasked delivery
    result = result_of(b)
    (violation,) = result.by_invariant("no-duplicate-shown")
    assert violation.times == (600.0, 800.0)
    assert "a second push (timeout)" in violation.detail
    # and the cloud re-sent the push after answering A's request (push-superseded)
    (resent,) = result.by_invariant("timeout-push")
    assert "push-superseded" in resent.detail and resent.times == (600.0, 800.0)
    assert len(result.violations) == 2


# ------------------------------------------------------------------ privacy


def test_privacy_catches_products_to_a_phone_neither_named_nor_buyer() -> None:
    b = mismatch("dual-send")
    b.subscribe(C)  # a subscribed stranger: only who may see the products is at stake
    b.at(60).respond(A, "R1", b.request(A, "R1"))
    b.push("R1", B, "dual-send")
    b.at(61).respond(C, "R1", 1, show=False)  # C never asked, never got the notice
    (violation,) = only(result_of(b), "privacy")
    assert violation.actors == (CLOUD, phone(C))
    assert violation.times == (61.0,)
    assert f"POS-named phone ({B})" in violation.detail and phone(A) in violation.detail


# ------------------------------------------------------------------ the API


def test_violation_lines_name_invariant_receipt_actors_and_times() -> None:
    violation = Violation("privacy", "R1", (CLOUD, phone(C)), (61.0, 62.5), "leak")
    line = violation.format_line()
    assert line == (
        f"privacy (safety): receipt R1; actors cloud, {phone(C)}; t=61.000, 62.500: leak"
    )
    assert violation.as_dict()["kind"] == "safety"


def test_settings_missing_skip_the_policy_and_deadline_checks() -> None:
    records = happy().records[1:]  # no header
    result = check_trace(records)
    assert result.ok
    assert result.skipped and "no scenario settings" in result.skipped[0]
    given = check_trace(records, settings={"cloud": {"push_timeout": 1000.0}})
    (violation,) = given.by_invariant("timeout-push")
    assert "before the deadline" in violation.detail


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"event": "send"}, "line 2: 't' must be a finite number"),
        ({"t": 1.0, "event": "send", "from": "cloud", "to": POS}, "needs the message 'type'"),
        ({"t": 1.0, "from": "cloud", "to": POS}, "no 'event' kind"),
        ({"t": 1.0, "event": "note", "from": 3, "to": POS}, "'from' and 'to' must be addresses"),
    ],
)
def test_bad_records_are_typed_errors_naming_the_line(record: dict[str, Any], message: str) -> None:
    with pytest.raises(TraceError, match=message):
        check_trace([happy().records[0], record])


# ------------------------------------------------------------------ real runs


def run_with_trace(name: str, *sets: str) -> str:
    """The trace (header and events) of a run of a built-in scenario, as text."""
    scenario = apply_overrides(load_scenario(name), list(sets))
    stream = io.StringIO()
    header = {"scenario": scenario.name, "seed": scenario.seed, "scheduling": "inline"}
    header |= {"overrides": list(sets), "settings": scenario_to_dict(scenario)}
    run_scenario(scenario, observers=[JsonlTraceWriter(stream, header)])
    return stream.getvalue()


@functools.cache
def builtin_trace(name: str) -> str:
    """One run's trace per built-in scenario, shared by the trace tools' test modules."""
    return run_with_trace(name)


def check_text(text: str) -> CheckResult:
    return check_trace(json.loads(line) for line in text.splitlines())


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_scenario_passes_every_invariant(name: str) -> None:
    scenario = load_scenario(name)
    checker = TraceChecker(scenario)  # the observer form: no file in between
    run_scenario(scenario, observers=[checker])
    result = checker.result()
    assert result.ok, result.format_text()
    checked = {s.name: s.checked for s in result.invariants}
    assert checked["binding"] > 0 and checked["no-delivery-lost"] > 0
    assert checked["no-duplicate-shown"] > 0 and checked["privacy"] > 0
    assert result.receipts == scenario.purchases
    assert not result.skipped


def test_a_trace_file_checks_like_the_live_run() -> None:
    scenario = load_scenario("wrong-ids")
    checker = TraceChecker(scenario)
    run_scenario(scenario, observers=[checker])
    from_file = check_text(builtin_trace("wrong-ids"))
    assert from_file.ok and from_file == checker.result()


def test_wrong_ids_judges_mismatches_and_the_reject_policy_too() -> None:
    dual = check_text(builtin_trace("wrong-ids"))
    assert {s.name: s.checked for s in dual.invariants}["mismatch-dual-send"] > 20
    reject = check_text(
        run_with_trace("wrong-ids", "cloud.mismatch_policy=reject", "purchases=120")
    )
    assert reject.ok, reject.format_text()
    assert {s.name: s.checked for s in reject.invariants}["mismatch-dual-send"] > 5


def test_check_events_and_the_observer_check_live_trace_events() -> None:
    events: list[TraceEvent] = []
    scenario = apply_overrides(load_scenario("wrong-ids"), ["purchases=60"])
    checker = TraceChecker(scenario)
    run_scenario(scenario, observers=[events.append, checker])
    result = check_events(events, settings=scenario)
    assert result.ok and result.events == len(events)
    assert checker.result() == result
    push = next(
        e for e in events if e.kind is EventKind.SEND and isinstance(e.message, AssociationPush)
    )
    at = events.index(push) + 1
    # the identical push again before the phone's PushAck reached the cloud: a retry, fine
    assert check_events([*events[:at], push, *events[at:]], settings=scenario).ok
    resent = push._replace(t=push.t + 60.0)
    # at the trace's end, long after the cloud took the PushAck: refused (push-acknowledged)
    (again,) = check_events([*events, resent], settings=scenario).violations
    assert "PushAck" in again.detail and again.times[-1] == push.t + 60.0
    leaked = resent._replace(recipient="phone:+8613899999999")  # planted: to a stranger
    bad = check_events([*events, leaked], settings=scenario)
    assert {v.invariant for v in bad.violations} == {"binding", "privacy"}
    assert all(v.times[-1] == push.t + 60.0 for v in bad.violations)


# ------------------------------------------------------------------ the command line


def _console_script() -> Path:
    script = Path(sys.executable).parent / "assocsim"
    assert script.exists(), "install the project first: pip install '.[test]'"
    return script


def _assocsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(_console_script()), *args], capture_output=True, text=True, check=False
    )


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_check_cli_passes_a_real_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "wrong-ids.jsonl"
    trace.write_text(builtin_trace("wrong-ids"))
    assert main(["check", str(trace)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"trace {trace}: scenario wrong-ids, seed 11\nevents read")
    assert out.endswith("\nno violations\n")
    refusals = "refusal-justified"  # wrong-ids' cloud refuses nothing: quickstart's does
    for name, kind in INVARIANTS.items():
        if name != refusals:
            assert re.search(rf"^{name} +{kind} +[1-9][0-9]* +0$", out, re.MULTILINE), name
    assert re.search(rf"^{refusals} +safety +0 +0$", out, re.MULTILINE)
    quickstart = check_text(builtin_trace("quickstart"))
    (judged,) = [s for s in quickstart.invariants if s.name == refusals]
    assert quickstart.ok and judged.checked > 0


def test_check_cli_reports_violations_one_per_line_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = happy()
    b.at(700).note(phone(A), "shown", "R2", A, "timeout")
    b.subscribe(C)  # a subscribed stranger: one privacy violation, of who may see
    b.at(800).respond(C, "R1", 9, show=False)
    trace = _write(tmp_path / "bad.jsonl", b.records)
    done = _assocsim("check", str(trace))
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stdout.splitlines() if "): receipt" in line]
    assert len(lines) == 2
    assert lines[0].startswith("no-duplicate-shown (safety): receipt shop-01/R2; actors phone:")
    assert "t=640.000, 700.000" in lines[0]
    assert "2 violations:" in done.stdout

    assert main(["check", str(trace), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["invariants"]["privacy"] == {"kind": "safety", "checked": 3, "violations": 1}
    assert {v["invariant"] for v in report["violations"]} == {"privacy", "no-duplicate-shown"}


def _bad_inputs(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    yield tmp_path / "missing.jsonl", "cannot read trace"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    yield empty, "empty file, not an assocsim trace"
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": 1}\n')
    yield other, "not an assocsim trace (line 1 has no 'format' header"
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"format": "assocsim-trace/9"}\n')
    yield newer, "trace format 'assocsim-trace/9' is not 'assocsim-trace/2'"
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"format": "assocsim-trace/1"}\n{"t": 0, "event": "send"\n')
    yield broken, "line 2: not valid JSON"
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    yield binary, "not UTF-8 text"


def test_check_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, expected in _bad_inputs(tmp_path):
        assert main(["check", str(path)]) == 2, path
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("assocsim: error: ") and expected in err, err
        assert err.count("\n") == 1 and "Traceback" not in err
    done = _assocsim("check", str(tmp_path / "broken.jsonl"))  # the installed script too
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"assocsim: error: {tmp_path / 'broken.jsonl'}: line 2: not valid JSON "
        "(Expecting ',' delimiter, column 25)\n"
    )


def _digests_follow_bodies(digest: Callable[[Mapping[str, Any]], bytes]) -> bool:
    """Bodies made and dropped one after another (their memory, so their ids, reused by
    the next ones) each get their own digest from ``digest``; the same body asked twice
    gets it from the cache."""
    for n in range(200):
        msg = {"receipt_id": f"r-{n}", "phone_id": "+8613800000001"}
        if digest(msg) != text_digest(body_text(msg)) or digest(msg) != digest(dict(msg)):
            return False
    return True


def _kept_then_read(msg: Mapping[str, Any]) -> bytes:
    """A body kept as the explorer keeps its parsed records', then read by the checker."""
    keep_body_digest(msg)
    return _digest(msg)


def test_a_bodys_digest_is_cached_by_the_body_itself() -> None:
    assert _digests_follow_bodies(_kept_then_read)
    assert _digests_follow_bodies(_digest)  # a body nobody kept: made from its text


def test_a_digest_cached_by_a_dropped_bodys_id_is_caught() -> None:
    assert not _digests_follow_bodies(id_keyed_digest)


def _upload_rebound_streamed(monkeypatch: pytest.MonkeyPatch, digest: Any) -> list[str]:
    """The violations ``check_trace`` finds when a POS uploads R1 naming A, then again
    naming B (both acknowledged), the records streamed with both uploads' bodies one
    dict, changed in place between them, and the checker's digests made by ``digest``."""
    b = TraceBuilder()
    b.subscribe(A)
    b.upload("R1", A)
    b.at(5.0)
    b.upload("R1", B)
    monkeypatch.setattr("scenarios._trace._checks._digest", digest)

    def streamed() -> Iterator[dict[str, Any]]:
        body: dict[str, Any] | None = None
        for record in b.records:
            if record.get("type") == "purchase-upload":
                if body is None:
                    body = record["msg"]
                elif record["msg"] is not body:
                    content = dict(record["msg"])
                    body.clear()
                    body.update(content)
                yield {**record, "msg": body}
            else:
                yield record

    return [v.invariant for v in check_trace(streamed()).violations]


def test_a_body_changed_in_place_between_records_is_digested_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """check_trace's caller may reuse one dict for the bodies it streams: the second
    upload's content is judged, not the first's (the acknowledged rebinding is seen)."""
    assert "binding" in _upload_rebound_streamed(monkeypatch, _digest)


def test_a_digest_cached_for_every_body_fed_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "binding" not in _upload_rebound_streamed(monkeypatch, fed_body_digest)
