"""The small things of issue 17 (item 6): what the report and ``check`` print when a figure
has no value, when a trace has no seed, and what each line means."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from scenarios import ReportBuilder, load_scenario, run_scenario
from scenarios._cli._main import main
from tests.scenarios.test_checks import A, TraceBuilder, happy

NOTHING_DELIVERED = ["--set", "purchases=20", "--set", "unsubscribed_rate=1"]
NOTHING_DELIVERED += ["--set", "ask_probability=0"]  # no phone subscribed, none asks


def test_a_run_without_deliveries_has_no_latency_not_a_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "quickstart", *NOTHING_DELIVERED]) == 0
    table = capsys.readouterr().out
    assert "deliveries                        0\n" in table
    for figure in ("p50", "p95", "max"):
        assert f"delivery latency {figure}            n/a\n" in table
    assert main(["run", "quickstart", *NOTHING_DELIVERED, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["delivered"] == 0 and report["withheld"] == 20
    assert report["latency_p50"] is None
    assert report["latency_p95"] is None
    assert report["latency_max"] is None


def test_a_run_with_deliveries_still_has_latencies() -> None:
    report = run_scenario(load_scenario("quickstart")).report
    assert report.delivered > 0
    assert report.latency_p50 is not None and report.latency_p50 > 0
    assert report.latency_max is not None and report.latency_max >= report.latency_p50


def test_an_empty_report_has_no_latency() -> None:
    report = ReportBuilder().report(scenario="empty", seed=1)
    assert (report.latency_p50, report.latency_p95, report.latency_max) == (None, None, None)
    rows = {row[:22].strip(): row[22:].strip() for row in report.format_table().splitlines()}
    assert rows["delivery latency max"] == "n/a"


def test_every_fault_row_of_the_report_says_faults_restarts_included() -> None:
    clean = run_scenario(attrs.evolve(load_scenario("quickstart"), purchases=10)).report
    assert "faults" not in clean.format_table()  # no fault, no fault rows
    faulty = attrs.evolve(clean, crashes=1, restarts=1)
    rows = faulty.format_table().splitlines()
    first = next(i for i, row in enumerate(rows) if row.startswith("faults: "))
    assert rows[first:], rows
    assert all(row.startswith("faults: ") for row in rows[first:]), rows[first:]
    assert any(row.startswith("faults: restarts") and row.endswith(" 1") for row in rows)


def _write(path: Path, builder: TraceBuilder) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in builder.records))
    return path


def test_check_on_a_field_trace_names_no_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    field = happy()
    field.records[0]["seed"] = None  # as serve cloud writes it: nothing drawn from a seed
    trace = _write(tmp_path / "cloud.jsonl", field)
    assert main(["check", str(trace)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"trace {trace}: scenario hand-made, no seed (field trial)\n")
    assert "None" not in out
    other = _write(tmp_path / "phone.jsonl", field)
    assert main(["check", str(trace), str(other)]) in (0, 1)
    assert "(merged by time): scenario hand-made, no seed (field trial)\n" in (
        capsys.readouterr().out
    )
    assert main(["check", str(trace), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seed"] is None


def test_check_with_a_seed_still_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = _write(tmp_path / "run.jsonl", happy())
    assert main(["check", str(trace)]) == 0
    assert capsys.readouterr().out.startswith(f"trace {trace}: scenario hand-made, seed 1\n")


@pytest.mark.parametrize(
    ("reliable", "line"),
    [
        (True, "deliveries judged  by shown notes (what each phone notes it showed its user)"),
        (
            False,
            "deliveries judged  by receptions (no shown notes in this trace: what phones received)",
        ),
    ],
)
def test_check_says_what_it_counted_as_a_delivery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reliable: bool, line: str
) -> None:
    builder = TraceBuilder(reliable=reliable)
    builder.subscribe(A)
    builder.purchase("R1", A)
    builder.at(30).pull("R1", A)
    assert main(["check", str(_write(tmp_path / "t.jsonl", builder))]) == 0
    out = capsys.readouterr().out.splitlines()
    assert line in out
    assert not any(row.startswith("users saw") for row in out)
