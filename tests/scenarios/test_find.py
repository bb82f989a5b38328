"""``assocsim find TRACE``: the receipts worth a look, one line each, ready for diagram.

On a hand-made trace with a planted receipt per criterion (``tests/planted/find_traces``)
every criterion lists exactly its planted receipts; on real runs, ``--lost`` and
``--duplicated`` list exactly the receipts of the promise ledger's verdicts (the report's
``lost``, ``assocsim check``'s violations), including for the planted cloud that never
pushes; and what ``find`` prints drives ``assocsim diagram --receipt``.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from scenarios import check_trace_file
from scenarios._cli._main import main
from scenarios._trace._find import CRITERIA, FindOptions, find_receipts
from tests.planted.find_traces import PLANTED, planted_trace

from .test_checks import _write

OPTION = {
    "mismatch": FindOptions(mismatch=True),
    "crash-affected": FindOptions(crash_affected=True),
    "most-resent": FindOptions(most_resent=2),
    "lost": FindOptions(lost=True),
    "duplicated": FindOptions(duplicated=True),
    "gave-up": FindOptions(gave_up=True),
    "violations": FindOptions(violations=True),
}


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own refusals
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    return _write(tmp_path / "planted.jsonl", planted_trace())


def test_the_planted_trace_is_what_its_doc_says(planted: Path) -> None:
    result = check_trace_file(planted)
    broken = sorted({(v.invariant, v.receipt) for v in result.violations})
    assert broken == [
        ("no-delivery-lost", "shop-01/R4"),
        ("no-duplicate-shown", "shop-01/R1"),
        ("timeout-push", "shop-01/R1"),
    ]


@pytest.mark.parametrize("criterion", CRITERIA)
def test_each_criterion_lists_exactly_its_planted_receipts(planted: Path, criterion: str) -> None:
    found = find_receipts(planted, OPTION[criterion])
    assert [f.receipt for f in found] == PLANTED[criterion]
    assert all([r.criterion for r in f.reasons] == [criterion] for f in found)


def test_the_reasons_say_what_happened(planted: Path) -> None:
    found = {f.receipt: f.line() for f in find_receipts(planted)}
    assert found["shop-01/R2"] == (
        "shop-01/R2  mismatch: phone:+8613800000002 asked at t=50.000; its POS named "
        "+8613800000001 (step 505)"
    )
    assert found["shop-01/R3"].startswith(
        "shop-01/R3  crash-affected: cloud down t=110.000 to 200.000, 1 message dropped while down"
    )
    assert "lost: acknowledged upload never shown to the named phone" in found["shop-01/R4"]
    assert (
        "duplicated: a timeout push of shop-01/R1 after the cloud answered" in found["shop-01/R1"]
    )
    assert found["shop-01/R6"] == (
        "shop-01/R6  gave-up: phone:+8613800000001 association-request after 5 attempts"
    )
    assert "shop-01/R5" not in found  # re-sends only when asked for: --most-resent N
    most = find_receipts(planted, FindOptions(most_resent=1))
    assert [f.line() for f in most] == ["shop-01/R5  most-resent: 2 re-sends (purchase-upload x2)"]


def test_criteria_combine_as_any_or_every(planted: Path) -> None:
    either = FindOptions(crash_affected=True, lost=True, most_resent=1)
    assert [f.receipt for f in find_receipts(planted, either)] == [
        "shop-01/R1",
        "shop-01/R3",
        "shop-01/R4",
        "shop-01/R5",
    ]
    both = FindOptions(crash_affected=True, most_resent=2, every=True)
    assert [(f.receipt, len(f.reasons)) for f in find_receipts(planted, both)] == [
        ("shop-01/R3", 2)
    ]
    none = FindOptions(mismatch=True, lost=True, every=True)
    assert find_receipts(planted, none) == []


def test_the_cli_lines_hint_and_json(planted: Path) -> None:
    code, out, err = _main(["find", str(planted), "--lost", "--mismatch"])
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["shop-01/R2", "shop-01/R4"]
    assert err == (
        f"assocsim: 2 receipts (mismatch, lost); draw one: assocsim diagram {planted} "
        f"--receipt shop-01/R2; re-run the whole trace: assocsim replay {planted}\n"
    )
    code, out, _ = _main(["find", str(planted), "--gave-up", "--json"])
    assert code == 0
    document = json.loads(out)
    assert document["criteria"] == ["gave-up"] and document["every"] is False
    assert document["receipts"] == [
        {
            "receipt": "shop-01/R6",
            "reasons": [
                {
                    "criterion": "gave-up",
                    "detail": "phone:+8613800000001 association-request after 5 attempts",
                }
            ],
        }
    ]
    # Nothing found: exit 1 and say so.
    code, out, err = _main(["find", str(planted), "--mismatch", "--lost", "--every"])
    assert (code, out) == (1, "")
    assert err == f"assocsim: no receipt of {planted} meets mismatch, lost\n"


def test_a_found_receipt_is_ready_for_the_diagram(planted: Path, tmp_path: Path) -> None:
    code, out, _ = _main(
        ["find", str(planted), "--crash-affected", "--every", "--most-resent", "9"]
    )
    assert code == 0
    [receipt] = [line.split()[0] for line in out.splitlines()]
    svg = tmp_path / "r.svg"
    code, _, err = _main(["diagram", str(planted), "--receipt", receipt, "-o", str(svg)])
    assert code == 0, err
    text = svg.read_text(encoding="utf-8")
    assert "association-request to cloud: lost (down)" in text
    assert "crashed (0:01:50.000 to 0:03:20.000)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--most-resent", "0"], "--most-resent must be at least 1, got 0"),
        (["--most-resent", "x"], "argument --most-resent: invalid int value: 'x'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(planted: Path, argv: list[str], message: str) -> None:
    code, out, err = _main(["find", str(planted), *argv])
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_a_missing_trace_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, out, err = _main(["find", str(tmp_path / "nope.jsonl")])
    assert (code, out) == (2, "")
    assert err.startswith("assocsim: error: cannot read trace ") and err.count("\n") == 1


@pytest.mark.parametrize("cloud", ["tests.planted.silent_cloud:silent_cloud", None])
def test_lost_and_duplicated_are_the_ledger_verdicts_of_a_real_run(
    tmp_path: Path, cloud: str | None
) -> None:
    trace = tmp_path / "run.jsonl"
    argv = ["run", "quickstart", "--set", "purchases=120", "--trace", str(trace), "--json"]
    code, out, err = _main([*argv, *(["--cloud", cloud] if cloud else [])])
    assert code == 0, err
    report = json.loads(out)
    violations = check_trace_file(trace).violations
    for criterion, figure, invariants in (
        ("lost", "lost", {"no-delivery-lost"}),
        ("duplicated", "duplicates", {"no-duplicate-shown", "timeout-push"}),
    ):
        found = find_receipts(trace, OPTION[criterion])
        named = {v.receipt for v in violations if v.invariant in invariants and v.receipt}
        assert {f.receipt for f in found} == named, criterion
        assert len(found) <= report[figure]  # a receipt may break more than one promise
    if cloud is not None:  # the planted cloud never pushes: its receipts are lost
        assert report["lost"] > 0 and find_receipts(trace, OPTION["lost"])
