"""The assocsim command line, in-process and as the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import builtin_scenarios
from scenarios._cli._main import main

REQUIRED_KEYS = {
    "seed",
    "purchases",
    "requests",
    "responses",
    "pushes",
    "mismatches",
    "dual_sends",
    "delivered",
    "lost",
    "duplicates",
}


def _console_script() -> Path:
    script = Path(sys.executable).parent / "assocsim"
    assert script.exists(), "install the project first: pip install '.[test]'"
    return script


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_scenario_runs_through_the_installed_cli_with_nothing_lost(
    name: str,
) -> None:
    done = subprocess.run(
        [str(_console_script()), "run", name, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert set(report) >= REQUIRED_KEYS
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["purchases"] > 0 and report["delivered"] > 0


def test_run_prints_a_report_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "wrong-ids", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    for row in ("purchases", "dual-sends", "mismatches", "deliveries lost", "latency p95"):
        assert row in out
    assert "seed 2" in out


def test_json_and_seed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "quickstart", "--seed", "5", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["run", "quickstart", "--seed", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert first["seed"] == 5


def test_trace_has_a_header_and_every_message(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    assert main(["run", "wrong-ids", "--trace", str(trace), "--json"]) == 0
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    header, events = lines[0], lines[1:]
    assert header["format"] == "assocsim-trace/2"
    assert header["scenario"] == "wrong-ids" and header["seed"] == 11
    sends = [e for e in events if e["event"] == "send"]
    received = [e for e in events if e["event"] == "recv"]
    assert len(sends) == len(received) > 0
    assert {"t", "from", "to", "type", "receipt", "msg"} <= set(sends[0])
    types = {e["type"] for e in sends}
    assert {"purchase-upload", "association-request", "association-push"} <= types


def test_scenarios_lists_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "quickstart" in out and "wrong-ids" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "no-such-scenario"], "no built-in scenario 'no-such-scenario'"),
        (["run", "quickstart", "--seed", "x"], "invalid int value: 'x'"),
        (["run"], "the following arguments are required"),
        (["fly"], "invalid choice: 'fly'"),
        (["run", "quickstart", "--trace", "/no/such/dir/t.jsonl"], "cannot write trace"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        code = main(argv)
        raise SystemExit(code)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_bad_scenario_file_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("phones = -3\n")
    done = subprocess.run(
        [str(_console_script()), "run", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"assocsim: error: {path}: phones: must be at least 1, got -3"


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_both_schedulings_give_the_same_report(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = []
    for scheduling in ("tasks", "inline"):
        assert main(["run", name, "--seed", "3", "--json", "--scheduling", scheduling]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    assert reports[0] == reports[1]
