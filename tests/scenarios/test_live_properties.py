"""The design card's three behaviours, checked on the live trio actors.

Hypothesis generates small worlds (shops, phones, purchases, wrong ids, silent users,
unsubscribed phones, both mismatch policies); each example runs the real actors over the
in-memory transport under pytest-trio's autojump MockClock, so hours of protocol time
cost no wall time. Each property is checked against the workload's ground truth (who
really bought, which id the POS keyed in, who asked when), not against the report.
"""

from __future__ import annotations

from collections import Counter
from typing import cast

import attrs
import trio.testing
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from actors import Scheduling
from protocol import (
    CLOUD,
    CloudMachine,
    ErrorCode,
    MismatchPolicy,
    PhoneMachine,
    ReceiptKey,
    phone_address,
)
from scenarios import (
    CloudSettings,
    PlannedPurchase,
    RunResult,
    Scenario,
    generate_workload,
    simulate,
)

policies = st.sampled_from(list(MismatchPolicy))
schedulings = st.sampled_from(["tasks", "inline"])

# Every property runs under both schedulings of the World: a trio task per actor, and one
# task driving every actor inline.
# pytest-trio runs each example in its own trio.run, reusing the test's MockClock; that is
# sound here because every schedule in a world is relative to the moment its actors start.
live = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def small_scenarios(
    draw: st.DrawFn, policy: st.SearchStrategy[MismatchPolicy] = policies
) -> Scenario:
    low = draw(st.integers(0, 600))
    return Scenario(
        name="generated",
        seed=draw(st.integers(0, 2**32 - 1)),
        shops=draw(st.integers(1, 3)),
        pos_per_shop=draw(st.integers(1, 2)),
        phones=draw(st.integers(2, 8)),
        purchases=draw(st.integers(0, 30)),
        duration=draw(st.floats(60.0, 7200.0)),
        items_per_purchase=(1, draw(st.integers(1, 4))),
        wrong_id_rate=draw(st.sampled_from([0.0, 0.3, 1.0])),
        unsubscribed_rate=draw(st.sampled_from([0.0, 0.25, 0.5])),
        ask_probability=draw(st.sampled_from([0.0, 0.5, 1.0])),
        ask_delay=(float(low), float(low + draw(st.integers(0, 1200)))),
        cloud=CloudSettings(
            push_timeout=draw(st.floats(1.0, 1800.0)),
            mismatch_policy=draw(policy),
            promotions=draw(st.booleans()),
        ),
    )


def _phone(result: RunResult, phone_id: str) -> PhoneMachine:
    return cast(PhoneMachine, result.world.actors[phone_address(phone_id)].machine)


def _cloud(result: RunResult) -> CloudMachine:
    return cast(CloudMachine, result.world.actors[CLOUD].machine)


def _first_purchase_at(result: RunResult) -> dict[str, float]:
    first: dict[str, float] = {}
    for purchase in result.workload.purchases:
        first.setdefault(purchase.buyer_phone_id, purchase.at)
    return first


def _ask_is_clear_of_deadline(delay: float | None, timeout: float) -> bool:
    # An ask at exactly the push deadline may go either way; keep examples away from it.
    return delay is None or abs(delay - timeout) > 1e-6


@live
@given(scenario=small_scenarios(), scheduling=schedulings)
async def test_binding_every_upload_bound_to_the_pos_id_and_each_request_answered_once(
    scenario: Scenario, scheduling: Scheduling, autojump_clock: trio.testing.MockClock
) -> None:
    result = await simulate(scenario, scheduling=scheduling)
    store = _cloud(result).store
    assert result.report.uploads_acknowledged == len(result.workload.purchases)
    for purchase in result.workload.purchases:
        binding = store.binding(ReceiptKey(purchase.merchant_id, purchase.receipt_id))
        assert binding is not None
        assert binding.phone_id == purchase.keyed_phone_id
        assert binding.upload.items == purchase.items
        buyer = _phone(result, purchase.buyer_phone_id)
        if purchase.ask_delay is None or not buyer.subscribes or purchase.wrong_id:
            continue
        shown = [d for d in buyer.deliveries if d.receipt_id == purchase.receipt_id]
        assert len(shown) == 1, purchase  # answered (or pushed first), and shown once
        if shown[0].kind == "response":
            assert shown[0].products, "a response carries associated products"
        assert buyer.unanswered == 0, "every request was answered"


@live
@given(scenario=small_scenarios(), scheduling=schedulings)
async def test_mismatch_dual_send_reaches_both_devices_once_or_reject_leaks_nothing(
    scenario: Scenario, scheduling: Scheduling, autojump_clock: trio.testing.MockClock
) -> None:
    scenario = attrs.evolve(scenario, wrong_id_rate=1.0)
    result = await simulate(scenario, scheduling=scheduling)
    first_purchase = _first_purchase_at(result)
    policy = scenario.cloud.mismatch_policy
    for purchase in result.workload.purchases:
        receipt = purchase.receipt_id
        buyer = _phone(result, purchase.buyer_phone_id)
        named = _phone(result, purchase.keyed_phone_id)
        to_buyer = [d for d in buyer.deliveries if d.receipt_id == receipt]
        to_named = [d for d in named.deliveries if d.receipt_id == receipt]
        refusals = [r for r in buyer.refusals if r.receipt_id == receipt]
        assert len(to_named) <= 1  # the named phone never asks about it: at most one push
        asked = purchase.ask_delay is not None and buyer.subscribes
        if policy is MismatchPolicy.REJECT:
            assert to_buyer == []  # nothing leaks to a phone the POS did not name
            if asked:
                assert [r.code for r in refusals] == [ErrorCode.IDENTIFIER_MISMATCH]
            assert all(d.kind == "timeout" for d in to_named)
            continue
        if asked:
            assert [d.kind for d in to_buyer] == ["response"]
            assert to_buyer[0].products
        else:
            assert to_buyer == []
        named_subscribed_before = (
            named.subscribes and first_purchase.get(named.phone_id, float("inf")) < purchase.at
        )
        if named_subscribed_before:
            assert len(to_named) == 1
            assert to_named[0].kind in ("dual-send", "timeout")
            if asked and to_named[0].kind == "dual-send":
                assert to_named[0].products == to_buyer[0].products


@live
@given(scenario=small_scenarios(), scheduling=schedulings)
async def test_timeout_push_exactly_once_after_the_deadline_never_after_an_answered_pull(
    scenario: Scenario, scheduling: Scheduling, autojump_clock: trio.testing.MockClock
) -> None:
    scenario = attrs.evolve(scenario, wrong_id_rate=0.0)
    timeout = scenario.cloud.push_timeout
    assume(all(_ask_is_clear_of_deadline(p.ask_delay, timeout) for p in _planned(scenario)))
    result = await simulate(scenario, scheduling=scheduling)
    store = _cloud(result).store
    first_purchase = _first_purchase_at(result)
    for purchase in result.workload.purchases:
        phone = _phone(result, purchase.buyer_phone_id)
        binding = store.binding(ReceiptKey(purchase.merchant_id, purchase.receipt_id))
        assert binding is not None
        kinds = Counter(d.kind for d in phone.deliveries if d.receipt_id == purchase.receipt_id)
        pushes = [
            d
            for d in phone.deliveries
            if d.receipt_id == purchase.receipt_id and d.kind == "timeout"
        ]
        assert kinds["timeout"] <= 1
        for push in pushes:
            assert push.at >= binding.stored_at + timeout
        if not phone.subscribes:
            assert kinds == Counter()
            continue
        asked_in_time = purchase.ask_delay is not None and purchase.ask_delay < timeout
        if asked_in_time:
            assert kinds == Counter({"response": 1})  # answered: no push follows
        elif first_purchase[phone.phone_id] <= purchase.at:
            # no request within push_timeout: pushed once; a later pull is answered too,
            # but the user has already seen the products, so they are shown once
            assert kinds == Counter({"timeout": 1})


def _planned(scenario: Scenario) -> tuple[PlannedPurchase, ...]:
    return generate_workload(scenario, scenario.seed).purchases


@live
@given(scenario=small_scenarios(), scheduling=schedulings)
async def test_report_of_every_generated_world_has_nothing_lost_or_duplicated(
    scenario: Scenario, scheduling: Scheduling, autojump_clock: trio.testing.MockClock
) -> None:
    result = await simulate(scenario, scheduling=scheduling)
    report = result.report
    assert report.lost == 0
    assert report.duplicates == 0
    assert report.purchases == scenario.purchases
    assert report.delivered <= report.responses + report.pushes + report.dual_sends
    assert report.resent == 0  # a perfect network: nothing needs re-sending
    assert report.faults == 0
