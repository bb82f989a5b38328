"""The checked runner says what a run exercised: a run that judged nothing does not pass,
a passing run is described as one, faults that injected nothing are named, hypothesis is
told what each run met; and the toolkit's errors and constants are the project's.
"""

from __future__ import annotations

import ast
import fnmatch
import itertools
from collections.abc import Callable
from pathlib import Path

import attrs
import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol
from actors import Crash
from protocol import CLOUD, AssocsimError
from protocol._core import _messages
from protocol.lowlevel import MAX_TEXT_LENGTH
from scenarios import ExplorationFailed, Scenario
from scenarios.testing import (
    NothingCheckedError,
    ProtocolViolationError,
    RunOutcome,
    run_checked,
)
from scenarios.testing import _outcome as outcome_module
from scenarios.testing import strategies as S
from tests.planted.crashless_idle_faults import network_idle_faults
from tests.planted.lenient_assert_ok import lenient_assert_ok

NOTHING = Scenario(name="no-purchase", purchases=0)
NEVER_FALLS = Crash("cloud", at=1.0, restart=30.0, during="purchase-upload", after_writes=4)
"""A crash inside an upload after its 4th store write: an upload makes 2, so it never falls."""
EXERCISED = Scenario(
    name="exercised",
    seed=1,
    phones=2,
    purchases=6,
    duration=60.0,
    wrong_id_rate=0.5,
    ask_probability=0.5,
    ask_delay=(100.0, 200.0),
    crash=(
        Crash("pos:*", at=300.0, restart=400.0),
        Crash("cloud", at=500.0, restart=600.0, during="purchase-upload", after_writes=2),
    ),
)
"""A dual-send, timeout pushes, a crash of the POSes, and a crash inside a step that never
falls (no upload after 500 s)."""


# ------------------------------------------------------------------ nothing checked


def _passes(assert_ok: Callable[[RunOutcome], None], outcome: RunOutcome) -> bool:
    try:
        assert_ok(outcome)
    except AssertionError:
        return False
    return True


def test_a_run_that_checked_nothing_does_not_pass(tmp_path: Path) -> None:
    outcome = run_checked(NOTHING, failures_dir=tmp_path)
    assert outcome.violations == () and outcome.checked == 0
    assert not outcome.ok
    with pytest.raises(NothingCheckedError) as caught:
        outcome.assert_ok()
    message = str(caught.value)
    assert message.startswith("nothing was checked: 0 receipts in scenario 'no-purchase'")
    assert message == outcome.describe()
    assert "judged: nothing; never exercised: binding, mismatch-dual-send" in message
    assert caught.value.outcome is outcome
    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # nothing to replay


def test_an_assert_ok_blind_to_what_was_checked_is_caught(tmp_path: Path) -> None:
    outcome = run_checked(NOTHING, failures_dir=tmp_path)
    assert not _passes(RunOutcome.assert_ok, outcome)
    assert _passes(lenient_assert_ok, outcome)  # tests/planted/lenient_assert_ok.py
    judged = run_checked(attrs.evolve(NOTHING, purchases=1), failures_dir=tmp_path)
    assert judged.ok and judged.checked > 0
    assert _passes(RunOutcome.assert_ok, judged) and _passes(lenient_assert_ok, judged)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(S.scenarios())
def test_every_drawn_scenario_judges_something(scenario: Scenario) -> None:
    assert scenario.purchases >= 1
    outcome = run_checked(scenario)
    assert outcome.checked > 0
    outcome.assert_ok()


# ------------------------------------------------------------------ describe


def test_a_passing_run_is_described_as_one() -> None:
    outcome = run_checked(attrs.evolve(NOTHING, name="one", purchases=1))
    lines = outcome.describe().splitlines()
    assert lines[0] == (
        "the protocol held: scenario 'one', seed 0, the reference cloud, inline scheduling: "
        "no violations"
    )
    assert lines[1].startswith("report: 1 purchase, ")
    assert "broken" not in outcome.describe()


# ------------------------------------------------------------------ idle faults


def _idle_crash_named(outcome: RunOutcome) -> bool:
    """Is the crash entry that never fell in the outcome, and in its description?"""
    named = [f for f in outcome.idle_faults if f.what.startswith("[[crash]] #1")]
    return bool(named) and f"idle fault: {named[0]}" in outcome.describe().splitlines()


def test_a_crash_that_never_falls_is_named(tmp_path: Path) -> None:
    scenario = attrs.evolve(NOTHING, purchases=3, crash=(NEVER_FALLS,))
    outcome = run_checked(scenario, failures_dir=tmp_path)
    assert outcome.ok and outcome.report.crashes == 0
    assert _idle_crash_named(outcome)
    assert "crashed 0 of the 1 actor it matches" in outcome.idle_faults[0].why
    fell = run_checked(
        attrs.evolve(scenario, crash=(attrs.evolve(NEVER_FALLS, after_writes=2),)),
        failures_dir=tmp_path,
    )
    assert fell.report.crashes == 1 and fell.idle_faults == ()


def test_idle_faults_blind_to_crashes_are_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = attrs.evolve(NOTHING, purchases=3, crash=(NEVER_FALLS,))
    monkeypatch.setattr(outcome_module, "idle_faults", network_idle_faults)
    # tests/planted/crashless_idle_faults.py
    assert not _idle_crash_named(run_checked(scenario, failures_dir=tmp_path))


# ------------------------------------------------------------------ hypothesis events


def test_each_run_tells_hypothesis_what_it_exercised(monkeypatch: pytest.MonkeyPatch) -> None:
    told: list[str] = []
    monkeypatch.setattr(hypothesis, "event", told.append)

    @settings(max_examples=1, database=None, deadline=None)
    @given(st.just(EXERCISED))
    def run(scenario: Scenario) -> None:
        run_checked(scenario).assert_ok()

    run()
    assert set(told) == {
        "assocsim: binding judged",
        "assocsim: mismatch-dual-send judged",
        "assocsim: timeout-push judged",
        "assocsim: no-delivery-lost judged",
        "assocsim: no-duplicate-shown judged",
        "assocsim: privacy judged",
        "assocsim: refusal-justified never judged",
        "assocsim: a dual-send push sent",
        "assocsim: a timeout push sent",
        "assocsim: an actor crashed",
        "assocsim: a fault injected nothing: [[crash]]",
    }
    told.clear()
    run_checked(EXERCISED)  # outside a hypothesis test: nothing is told
    assert told == []


# ------------------------------------------------------------------ strategies' docstrings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(S.faulty_scenarios(inside_steps="always"))
def test_always_restarts_its_crashes_by_duration_plus_push_timeout(scenario: Scenario) -> None:
    # The strategies' docstrings: partitions heal by `duration`; with "always" the crashes
    # (all of the cloud, inside steps) restart by `duration + push_timeout`.
    assert scenario.crash and all(c.inside_step and c.actor == CLOUD for c in scenario.crash)
    assert all(p.end <= scenario.duration for p in scenario.partition)
    bound = scenario.duration + scenario.cloud.push_timeout
    assert all(c.restart <= bound for c in scenario.crash)
    windows = sorted((c.at, c.restart) for c in scenario.crash)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(windows))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(S.faulty_scenarios())
def test_by_default_every_fault_ends_by_duration(scenario: Scenario) -> None:
    assert all(c.restart <= scenario.duration for c in scenario.crash)
    assert all(p.end <= scenario.duration for p in scenario.partition)
    assert all(fnmatch.fnmatchcase(CLOUD, c.actor) or not c.inside_step for c in scenario.crash)


# ------------------------------------------------------------------ errors and constants


@pytest.mark.parametrize(
    ("error", "second"),
    [
        (ProtocolViolationError, AssertionError),
        (NothingCheckedError, AssertionError),
        (ExplorationFailed, AssertionError),
        (S.StrategyError, ValueError),
    ],
)
def test_the_toolkit_errors_are_assocsim_errors(error: type[Exception], second: type) -> None:
    assert issubclass(error, AssocsimError) and issubclass(error, second)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: S.catalogs(departments=["toys"]),
        lambda: S.baskets(min_size=0),
    ],
)
def test_bad_strategy_knobs_are_strategy_errors(draw: Callable[[], object]) -> None:
    with pytest.raises(S.StrategyError):
        draw()


@given(st.data())
def test_a_partition_shorter_than_a_second_is_a_strategy_error(data: st.DataObject) -> None:
    with pytest.raises(S.StrategyError, match="needs at least 1 s"):
        data.draw(S.partitions(before=0.5))


def test_the_text_bound_is_the_protocols_one() -> None:
    # One constant: the strategies import it (an int this small is one object either way).
    source = ast.parse(Path(S.__file__).read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in source.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    assert "MAX_TEXT_LENGTH" not in assigned
    assert S.MAX_TEXT_LENGTH == MAX_TEXT_LENGTH == _messages.MAX_TEXT_LENGTH
    assert "MAX_TEXT_LENGTH" in protocol.lowlevel.__all__
    with pytest.raises(protocol.InvalidMessage):
        protocol.Offer(sku="x", description="y" * (MAX_TEXT_LENGTH + 1), price=1.0)
