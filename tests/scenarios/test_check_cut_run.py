"""``assocsim check`` and ``find`` on the trace of an ``assocsim run`` that stops before
its run's end.
Such a trace has no gap record (a run's writer is unbounded), but its header plans the
run's purchases, and each of them is uploaded whatever the faults: a trace naming fewer
receipts is cut. Cut before the first purchase (the header alone, or the first few lines)
check said ``no violations``, exit 0; now one line and exit 2. Cut later, its violations
are listed with an ``incomplete:`` line, exit 1. ``find`` exits 2 on both, as on a
trace cut by its writer's bound (it said "no receipt meets violations", exit 1, on the
header alone). Whole traces, with crashes and faults,
and traces that are not a run's (hand-made, a field process's) are judged as before.
Against the planted check that never compares (``tests/planted/planless_check.py``) a
trace cut after its first purchase's promises were kept is all clear again (the
header-only one is "nothing judged", exit 2, even so)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios._trace import _reader
from scenarios._trace._checks import NOTHING_JUDGED, check_trace_files
from scenarios._trace._reader import TraceError
from tests.planted.planless_check import never_cut
from tests.scenarios.cli_runs import run_main as _main


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """quickstart, 120 purchases (its first purchase comes after several promotions)."""
    path = tmp_path_factory.mktemp("cut") / "whole.jsonl"
    assert _main(["run", "quickstart", "--set", "purchases=120", "--trace", str(path)])[0] == 0
    return path


def _first_lines(whole: Path, target: Path, count: int) -> Path:
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(lines[:count]), encoding="utf-8")
    return target


def _first_upload_line(whole: Path) -> int:
    """The 1-based line of the first event naming a receipt."""
    return _first_line_of_receipt(whole, 1)


def _first_line_of_receipt(whole: Path, nth: int) -> int:
    """The 1-based line of the first event naming the ``nth`` receipt named."""
    named: set[str] = set()
    for number, line in enumerate(whole.read_text(encoding="utf-8").splitlines(), 1):
        receipt = json.loads(line).get("receipt") if number > 1 else None
        if receipt is not None and receipt not in named:
            named.add(receipt)
            if len(named) == nth:
                return number
    raise AssertionError(f"fewer than {nth} receipts in the trace")


def test_the_whole_trace_is_all_clear(whole: Path) -> None:
    code, out, _ = _main(["check", str(whole)])
    assert code == 0 and out.endswith("no violations\n") and "incomplete" not in out


@pytest.mark.parametrize("cut", ["header only", "before the first purchase"])
def test_a_trace_cut_before_its_first_purchase_is_incomplete(
    whole: Path, tmp_path: Path, cut: str
) -> None:
    count = 1 if cut == "header only" else _first_upload_line(whole) - 1
    assert count >= 1 and (cut == "header only" or count > 1)
    trace = _first_lines(whole, tmp_path / "cut.jsonl", count)
    for argv in (["check", str(trace)], ["check", "--json", str(trace)]):
        code, out, err = _main(argv)
        assert (code, out) == (2, ""), out
        assert err.count("\n") == 1
        assert f"{trace}: the trace names 0 of the 120 receipts its run rang up" in err


def test_the_python_api_tells_a_cut_run_too(whole: Path, tmp_path: Path) -> None:
    # check_trace_files (what a user's script calls) judges as assocsim check does: the
    # comparison once lived in the command alone, and the API said all clear
    trace = _first_lines(whole, tmp_path / "cut.jsonl", 1)
    with pytest.raises(TraceError, match="the trace names 0 of the 120 receipts"):
        check_trace_files([trace])
    lines = len(whole.read_text(encoding="utf-8").splitlines())
    _, result = check_trace_files([_first_lines(whole, tmp_path / "mid.jsonl", lines // 3)])
    assert not result.ok and result.incomplete is not None


def test_a_trace_cut_mid_run_lists_its_violations_as_incomplete(
    whole: Path, tmp_path: Path
) -> None:
    lines = len(whole.read_text(encoding="utf-8").splitlines())
    trace = _first_lines(whole, tmp_path / "cut.jsonl", lines // 3)
    code, out, _ = _main(["check", str(trace)])
    assert code == 1
    assert out.splitlines()[-1].startswith(f"incomplete: {trace}: the trace names ")
    code, out, _ = _main(["check", "--json", str(trace)])
    result = json.loads(out)
    assert code == 1 and not result["ok"] and result["violations"]
    assert "receipts its run rang up" in result["incomplete"]


@pytest.mark.parametrize(
    ("sets", "code", "verdict"),
    [
        # nothing planned, nothing named: whole, and nothing judged (test_nothing_judged.py)
        (["purchases=0"], 2, NOTHING_JUDGED),
        (["purchases=60", "crash=[{actor='pos:*', at='1h', restart='3h'}]"], 0, "no violations"),
    ],
    ids=["no purchase", "tills down"],
)
def test_whole_runs_with_few_or_delayed_purchases_are_judged(
    tmp_path: Path, sets: list[str], code: int, verdict: str
) -> None:
    trace = tmp_path / "run.jsonl"
    argv = ["run", "quickstart", *(w for s in sets for w in ("--set", s)), "--trace", str(trace)]
    assert _main(argv)[0] == 0
    status, out, err = _main(["check", str(trace)])
    assert status == code and out.rstrip().endswith(verdict) and "rang up" not in err, err


def test_a_trace_that_is_not_a_runs_is_not_compared(whole: Path, tmp_path: Path) -> None:
    header, *_ = whole.read_text(encoding="utf-8").splitlines()
    field = {**json.loads(header), "process": "cloud"}  # serve cloud --scenario's header
    trace = tmp_path / "field.jsonl"
    trace.write_text(json.dumps(field) + "\n", encoding="utf-8")
    code, out, err = _main(["check", str(trace)])
    # not compared (no "names 0 of the 120 receipts"): its header alone judges nothing
    assert code == 2 and out.rstrip().endswith(NOTHING_JUDGED) and "rang up" not in err


def test_planted_a_check_that_never_compares_says_all_clear(
    whole: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cut just before its second purchase, the first one's promises all kept: judged, and
    # no violation. (Cut before the first, nothing is judged: "nothing judged", exit 2,
    # test_nothing_judged.py, even against this plant.)
    trace = _first_lines(whole, tmp_path / "cut.jsonl", _first_line_of_receipt(whole, 2) - 1)
    code, _, err = _main(["check", str(trace)])
    assert code == 2 and "the trace names 1 of the 120 receipts" in err
    monkeypatch.setattr(_reader, "cut_run", never_cut)
    code, out, _ = _main(["check", str(trace)])
    assert code == 0 and out.endswith("no violations\n")  # the bug: a cut run all clear


@pytest.mark.parametrize("third", [False, True])
def test_find_on_a_cut_run_trace_is_incomplete(whole: Path, tmp_path: Path, third: bool) -> None:
    lines = len(whole.read_text(encoding="utf-8").splitlines()) // 3 if third else 1
    trace = _first_lines(whole, tmp_path / "cut.jsonl", lines)
    for criteria in (["--violations"], ["--lost"], []):
        code, out, err = _main(["find", str(trace), *criteria])
        assert (code, out) == (2, ""), out
        assert err.count("\n") == 1 and "receipts its run rang up" in err


def test_find_on_the_whole_trace_lists_nothing_broken(whole: Path) -> None:
    code, out, err = _main(["find", str(whole), "--violations", "--lost"])
    assert (code, out) == (1, "") and "meets lost, violations" in err


def test_planted_a_find_that_never_compares_finds_nothing(
    whole: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reader, "cut_run", never_cut)
    trace = _first_lines(whole, tmp_path / "cut.jsonl", 1)
    code, out, err = _main(["find", str(trace), "--violations"])
    assert (code, out) == (1, "") and "meets violations" in err  # the bug: nothing found
