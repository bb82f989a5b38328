"""One definition of each promise: the report's ``lost`` and ``duplicates`` and the
checker's verdicts agree, receipt for receipt, on every built-in scenario with the
reference cloud and with every planted variant in ``tests/planted``.

Whether the POS-named phone was owed its delivery is judged from the trace (the cloud's
``subscribe-ack`` to it, before the push deadline), never from a note the cloud under
test may or may not write: ``tests/planted/silent_cloud.py`` never pushes and writes no
note, and both the report and ``assocsim check`` catch it. A failing run of the README's
pytest template is one failure carrying the scenario file and the replay command.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

import tests.planted
from actors import TraceEvent
from protocol import AssocsimError
from scenarios import (
    CheckResult,
    Report,
    ReportBuilder,
    Scenario,
    apply_overrides,
    builtin_scenarios,
    check_events,
    check_trace,
    load_scenario,
    run_scenario,
)
from scenarios._cli._main import main
from scenarios._sim._promises import Judgement
from scenarios._trace._checks import Violation
from scenarios._trace._reader import events_from_records
from scenarios.testing import CloudFactoryError, load_cloud_factory, run_checked, write_scenario
from tests.scenarios.test_checks import CLOUD, SHOP, TraceBuilder, key, phone
from tests.scenarios.test_testing_toolkit import INNER_CONFTEST, _readme_example

ROOT = Path(__file__).resolve().parents[2]
SILENT = "tests.planted.silent_cloud:silent_cloud"
BUGGY = "tests.planted.buggy_cloud:buggy_cloud"
MAX_PURCHASES = 1000  # built-in scenarios shrunk to this: the whole module stays under 30 s
A, B = "+8613800000001", "+8613800000002"


def planted_clouds(*, refused: bool = False) -> list[str]:
    """``MODULE:FACTORY`` of every cloud factory in ``tests/planted`` (a new variant
    planted there is judged here without being listed); ``refused``: instead, those of the
    modules that say the runner refuses to run them (``REFUSED_BY_THE_RUNNER``: a cloud
    on a store of its own, one spinning at one instant), whose refusal is tested below."""
    specs: list[str] = []
    for info in pkgutil.iter_modules(tests.planted.__path__, "tests.planted."):
        module = importlib.import_module(info.name)
        if hasattr(module, "REFUSED_BY_THE_RUNNER") is not refused:
            continue
        for name in getattr(module, "__all__", ()):
            spec = f"{info.name}:{name}"
            try:
                load_cloud_factory(spec)
            except CloudFactoryError:
                continue  # a class, a store: not a cloud factory
            specs.append(spec)
    return sorted(specs)


def test_the_planted_variants_are_found() -> None:
    assert {SILENT, BUGGY} <= set(planted_clouds())


@pytest.mark.parametrize("cloud", planted_clouds(refused=True))
def test_the_variants_left_out_are_refused_by_the_runner(cloud: str) -> None:
    # Left out above only because no run of them ends: each is refused, in one line.
    with pytest.raises(AssocsimError):
        run_scenario(small("faults"), cloud=load_cloud_factory(cloud))  # a cloud crash too


@functools.cache
def small(name: str) -> Scenario:
    scenario = load_scenario(name)
    if scenario.purchases > MAX_PURCHASES:
        scenario = apply_overrides(scenario, [f"purchases={MAX_PURCHASES}"])
    return scenario


def judged(events: Iterable[TraceEvent], settings: Scenario | None) -> Judgement:
    builder = ReportBuilder(settings)
    for event in events:
        builder(event)
    return builder.judgement()


def assert_agree(judgement: Judgement, check: CheckResult) -> None:
    """The report's verdicts are the checker's, one for one."""
    assert [Violation(*b) for b in judgement.lost] == check.by_invariant("no-delivery-lost")
    assert [Violation(*b) for b in judgement.shown_twice] == check.by_invariant(
        "no-duplicate-shown"
    )
    pushes = check.by_invariant("timeout-push")
    assert all(Violation(*b) in pushes for b in judgement.pushed_after)
    after = [v for v in pushes if " after the " in v.detail]
    assert len(after) == len(judgement.pushed_after)


@functools.cache
def checked_run(name: str, cloud: str | None) -> tuple[Report, tuple[TraceEvent, ...], CheckResult]:
    scenario = small(name)
    events: list[TraceEvent] = []
    factory = None if cloud is None else load_cloud_factory(cloud)
    result = run_scenario(scenario, observers=[events.append], cloud=factory)
    return result.report, tuple(events), check_events(events, settings=scenario)


@pytest.mark.parametrize("cloud", [None, *planted_clouds()])
@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_report_and_check_agree(name: str, cloud: str | None) -> None:
    report, events, check = checked_run(name, cloud)
    lost = check.by_invariant("no-delivery-lost")
    duplicates = check.by_invariant("no-duplicate-shown") + [
        v for v in check.by_invariant("timeout-push") if " after the " in v.detail
    ]
    # The run's own report (judged with the scenario's push deadline, as the check is:
    # tests/planted/timerless_cloud.py arms no push timer to stand in for it) counts what
    # the check lists...
    assert (report.lost, report.duplicates) == (len(lost), len(duplicates))
    # ...and a report told the deadline lists the very same verdicts.
    with_settings = judged(events, small(name))
    assert_agree(with_settings, check)
    assert with_settings.withheld == report.withheld
    if cloud is None:
        assert check.ok, check.format_text()


def test_the_silent_cloud_is_caught_by_both() -> None:
    report, _, check = checked_run("silent-phones", SILENT)
    lost = check.by_invariant("no-delivery-lost")
    assert report.lost > 0 and report.lost == len(lost)
    assert all("the cloud never sent it" in v.detail for v in lost)
    assert report.pushes == 0


def test_the_buggy_cloud_is_caught_by_both() -> None:
    report, _, check = checked_run("quickstart", BUGGY)
    after = [v for v in check.by_invariant("timeout-push") if " after the " in v.detail]
    assert report.duplicates > 0 and report.duplicates == len(after)
    assert any("after the cloud answered" in v.detail for v in after)


def test_a_report_from_the_trace_file_agrees_too() -> None:
    _, events, check = checked_run("faults", SILENT)
    records = [event.to_json() for event in events]
    assert_agree(judged(events_from_records(records), small("faults")), check)
    assert check_trace(records, settings=small("faults")) == check


# ------------------------------------------------------------------ the case

NEVER_SUBSCRIBES = Scenario(
    name="never-subscribes", seed=1, phones=1, purchases=1, unsubscribed_rate=1.0
)
SUBSCRIBES = Scenario(name="subscribes", seed=1, phones=1, purchases=1, ask_probability=0.0)


def _run_cli(scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> int:
    path = tmp_path / f"{scenario.name}.toml"
    write_scenario(scenario, path)
    status = main(["run", str(path), "--cloud", SILENT, "--check"])
    out = capsys.readouterr().out
    lost = next(line for line in out.splitlines() if line.startswith("deliveries lost"))
    assert (int(lost.split()[-1]) > 0) == (status == 1), out
    return status


def test_a_phone_that_never_subscribed_is_owed_nothing_by_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The issue: a silent cloud, a phone that never subscribed: the report said lost 1
    # (no push-withheld note), the check said no violations. Now both: nothing owed.
    outcome = run_checked(NEVER_SUBSCRIBES, cloud=SILENT, failures_dir=tmp_path)
    assert outcome.ok and outcome.report.lost == 0 and outcome.report.withheld == 1
    assert _run_cli(NEVER_SUBSCRIBES, tmp_path, capsys) == 0
    # A phone that subscribed and never asks: the silent cloud loses it, both say so.
    outcome = run_checked(SUBSCRIBES, cloud=SILENT, failures_dir=tmp_path)
    assert outcome.report.lost == 1
    assert [v.invariant for v in outcome.violations] == ["no-delivery-lost"]
    assert _run_cli(SUBSCRIBES, tmp_path, capsys) == 1


# ------------------------------------------------------------------ owed, from the trace


def verdicts(builder: TraceBuilder, *, settings: bool = True) -> tuple[list[str], int]:
    """The receipts lost (the checker's and the report's, asserted the same) and the
    report's ``withheld``, for a hand-made trace, with or without its settings."""
    given: Mapping[str, Any] | None = builder.records[0]["settings"] if settings else None
    records = builder.records[1:]
    check = check_trace(records, settings=given)
    report = ReportBuilder(given)
    for event in events_from_records(records):
        report(event)
    judgement = report.judgement()
    assert_agree(judgement, check)
    return [v.receipt or "-" for v in check.by_invariant("no-delivery-lost")], judgement.withheld


def test_a_subscription_after_the_deadline_is_owed_nothing() -> None:
    b = TraceBuilder(push_timeout=600)
    b.purchase("R1", A)  # A had not subscribed by t=600; no push, no note
    b.at(700).subscribe(A)
    assert verdicts(b) == ([], 1)


def test_a_silent_withholding_from_a_subscribed_phone_is_lost() -> None:
    b = TraceBuilder(push_timeout=600)
    b.at(100).purchase("R1", A)
    b.at(650).subscribe(A)  # before the deadline t=700: owed, though the cloud says nothing
    b.at(800)
    assert verdicts(b) == ([key("R1")], 0)


def _timer(b: TraceBuilder, receipt: str) -> None:
    b.event(
        "timer",
        CLOUD,
        CLOUD,
        type="timer",
        timer=f"PushDue(receipt_id='{receipt}', merchant_id='{SHOP}')",
    )


def test_without_settings_the_clouds_push_timer_bounds_the_wait() -> None:
    b = TraceBuilder()
    b.purchase("R1", A)
    b.at(600)
    _timer(b, "R1")  # the cloud decided at t=600, before A subscribed
    b.at(700).subscribe(A)
    assert verdicts(b, settings=False) == ([], 1)
    c = TraceBuilder()  # no timer in the trace: a subscription at any time makes it owed
    c.purchase("R1", A)
    c.at(700).subscribe(A)
    assert verdicts(c, settings=False) == ([key("R1")], 0)
    # With the settings, a timer later than the deadline (the cloud was down) extends it.
    d = TraceBuilder(push_timeout=600)
    d.purchase("R1", A)
    d.at(650).subscribe(A)
    d.at(900)
    _timer(d, "R1")
    assert verdicts(d) == ([key("R1")], 0)


def test_a_mismatched_answer_owes_the_named_phone_once_it_subscribed() -> None:
    b = TraceBuilder(push_timeout=600)
    b.subscribe(A)
    b.purchase("R1", A, named=B)  # B not subscribed at the deadline...
    b.at(700).subscribe(B)
    b.at(800).respond(A, "R1", b.request(A, "R1"))  # ...but subscribed when A is answered
    lost, _ = verdicts(b)
    assert lost == [key("R1")]
    assert {v.invariant for v in check_trace(b.records).violations} == {
        "no-delivery-lost",
        "mismatch-dual-send",
    }
    b.push("R1", B, "dual-send")
    assert verdicts(b) == ([], 0)


def test_a_withheld_note_excuses_nothing() -> None:
    # The cloud's notes about itself are not evidence: a subscribed phone is owed anyway.
    b = TraceBuilder(push_timeout=600)
    b.subscribe(A)
    b.subscribe(B)
    b.purchase("R1", A, named=B)
    request = b.at(60).request(A, "R1")
    b.note(CLOUD, "dual-send-withheld", "R1", B, "not subscribed")
    b.respond(A, "R1", request)
    b.at(600).note(CLOUD, "push-withheld", "R1", B, "not subscribed")
    assert verdicts(b) == ([key("R1")], 0)
    (violation,) = check_trace(b.records).by_invariant("mismatch-dual-send")
    assert "though it had subscribed (at t=0.000)" in violation.detail


def test_a_subscription_the_cloud_never_answers_is_lost() -> None:
    b = TraceBuilder()
    b.message(phone(A), CLOUD, "subscribe", {"phone_id": A})
    b.at(100)
    check = check_trace(b.records)
    (violation,) = check.by_invariant("no-delivery-lost")
    assert violation.receipt is None
    assert "never acknowledged or refused it" in violation.detail
    assert verdicts(b)[0] == ["-"]


# ------------------------------------------------------------------ the pytest template


def test_the_readme_template_fails_once_with_the_file_and_the_replay(tmp_path: Path) -> None:
    example = _readme_example()
    (tmp_path / "test_my_variant.py").write_text(example, encoding="utf-8")
    (tmp_path / "my_variant.py").write_text(
        "from tests.planted.silent_cloud import silent_cloud as make_cloud\n", encoding="utf-8"
    )
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nassocsim_failures_dir = found\naddopts = -p no:cacheprovider\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        # -rN: no short summary, whose line repeats the message (untruncated under CI=true)
        [sys.executable, "-m", "pytest", "-q", "-rN", "-p", "no:randomly", "test_my_variant.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "1 failed" in out and "ExceptionGroup" not in out, out
    assert out.count("the protocol was broken") == 1, out
    assert "no-delivery-lost (liveness)" in out
    (written,) = (tmp_path / "found").iterdir()
    assert f"scenario written to {written}; replay it with:" in out
    assert f"assocsim run {written} --seed" in out and "--cloud my_variant:make_cloud" in out
