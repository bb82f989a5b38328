"""``assocsim run --transport tcp``'s verdict on its merged traces is worded and exits as
``assocsim check``'s: a TCP run of no purchase printed "invariants over the merged traces:
no violations", exit 0 (it read ``CheckResult.ok``, blind to a check that judged nothing),
and a cut trace (``incomplete``) would have read "0 violations". The verdict is built from
real merged traces (an in-memory run's, read as ``run_tcp`` reads the processes' files),
the processes themselves left out: their part is tested in ``test_serve.py``. Against the
planted status blind to judging (``tests/planted/unjudged_all_clear.py``) the same run
exits 0."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from scenarios._cli import _field as cli_field
from scenarios._field import _tcprun
from scenarios._field._tcprun import TcpRunResult, format_tcp_result, tcp_result_json
from scenarios._model._runspec import RunSpec
from scenarios._trace._checks import NOTHING_JUDGED, TraceChecker
from scenarios._trace._reader import merge_traces
from tests.planted.unjudged_all_clear import all_clear_unless_broken
from tests.scenarios.cli_runs import run_main


def _result(tmp_path: Path, purchases: int, *, cut: bool = False) -> TcpRunResult:
    """What ``run_tcp`` returns for quickstart of ``purchases`` whose merged traces are an
    in-memory run's (``cut``: its last half of records gone, as a killed writer's)."""
    path = tmp_path / f"p{purchases}.jsonl"
    argv = ["run", "quickstart", "--set", f"purchases={purchases}", "--trace", str(path)]
    code, _, _ = run_main(argv)
    assert code == 0
    if cut:
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[: len(lines) // 2]))
    spec = RunSpec.load("quickstart", [f"purchases={purchases}"])
    _, records = merge_traces([path])
    checker = TraceChecker(spec.scenario)
    for line, record in enumerate(records, 2):
        checker.feed(record, line)
    report = _tcprun.report_from_records(records, scenario=spec.scenario, seed=spec.seed)
    return TcpRunResult(report, report, 100.0, 3, 1.0, checker.result())


def _exit(result: TcpRunResult, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """``run_tcp_command``'s exit status and output when ``run_tcp`` returns ``result``."""
    monkeypatch.setattr(cli_field, "run_tcp", lambda run, options: result)
    args = argparse.Namespace(
        check_determinism=False, plots=None, cloud=None, phone_processes=1, tls_cert=None,
        tls_key=None, tls_ca=None, speed=100.0, trace=None, keep=None, json=False,
    )  # fmt: skip
    spec = RunSpec.load("quickstart")
    out = io.StringIO()
    return cli_field.run_tcp_command(args, spec, out), out.getvalue()


def test_a_tcp_run_of_no_purchase_judges_nothing_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _result(tmp_path, 0)
    code, out = _exit(result, monkeypatch)
    assert code == 2
    assert out.rstrip().endswith(NOTHING_JUDGED) and "no violations" not in out
    found = tcp_result_json(result)
    assert found["invariants_ok"] is False and found["invariants_judged"] is False


def test_a_tcp_run_that_judged_something_is_all_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _result(tmp_path, 5)
    code, out = _exit(result, monkeypatch)
    assert code == 0 and out.rstrip().endswith("invariants over the merged traces: no violations")
    assert tcp_result_json(result)["invariants_ok"] is True


def test_merged_traces_missing_their_end_are_no_all_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _result(tmp_path, 5, cut=True)
    code, out = _exit(result, monkeypatch)
    assert code == 1 and result.check.violations
    assert f"invariants over the merged traces: {len(result.check.violations)} violation" in out
    assert json.loads(json.dumps(tcp_result_json(result)))["invariants_ok"] is False


def test_planted_a_status_blind_to_judging_passes_a_tcp_run_of_no_purchase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_tcprun, "check_status", all_clear_unless_broken)
    code, out = _exit(_result(tmp_path, 0), monkeypatch)
    assert code == 0  # the bug: all clear of a run that judged nothing
    assert NOTHING_JUDGED in out  # (the words still say so: only the status lies)
    assert format_tcp_result(_result(tmp_path, 0)).endswith(NOTHING_JUDGED)
