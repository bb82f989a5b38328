"""``assocsim find`` lists the broken promises that name no receipt too. A subscription
the cloud received and never answered is a ``no-delivery-lost`` violation of no receipt:
``find --violations`` (and ``--lost``, and find with no criterion) dropped it and said
"no receipt of T meets violations", exit 1, on a trace ``assocsim check`` failed. It is
listed now after the receipts, as ``(no receipt)  violations: ...`` (JSON: a null
receipt), and find exits 0. Against the planted find that lists receipts only
(``tests/planted/receipts_only_find.py``) the bug shows again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios import check_trace_file
from scenarios._cli import _trace as cli_trace
from scenarios._trace._find import NO_RECEIPT, FindOptions, find_receipts
from tests.planted.deaf_to_one_phone import IGNORED_PHONE
from tests.planted.receipts_only_find import receipts_only
from tests.scenarios.cli_runs import run_main as _main

CLOUD = "tests.planted.deaf_to_one_phone:deaf_to_one_phone"
UNANSWERED = f"the cloud received the subscription of phone:{IGNORED_PHONE} at t="


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """quickstart, 40 purchases, with the cloud that never answers one phone's subscribe."""
    path = tmp_path_factory.mktemp("unnamed") / "run.jsonl"
    argv = ["run", "quickstart", "--set", "purchases=40", "--cloud", CLOUD, "--trace", str(path)]
    assert _main(argv)[0] == 0
    return path


def test_the_trace_breaks_one_promise_of_no_receipt(trace: Path) -> None:
    violations = check_trace_file(trace).violations
    unnamed = [v for v in violations if v.receipt is None]
    assert len(unnamed) == 1 and unnamed[0].detail.startswith(UNANSWERED)
    assert _main(["check", str(trace)])[0] == 1


@pytest.mark.parametrize(
    "criteria", [["--violations"], ["--lost"], [], ["--lost", "--violations", "--every"]]
)
def test_find_lists_the_promise_of_no_receipt(trace: Path, criteria: list[str]) -> None:
    code, out, err = _main(["find", str(trace), *criteria])
    assert code == 0, err
    last = out.splitlines()[-1]
    assert last.startswith(f"{NO_RECEIPT}  ") and UNANSWERED in last
    assert "promise of no receipt" in err


def test_find_json_gives_it_a_null_receipt(trace: Path) -> None:
    code, out, _ = _main(["find", str(trace), "--violations", "--json"])
    document = json.loads(out)
    assert code == 0
    (entry,) = [r for r in document["receipts"] if r["receipt"] is None]
    (reason,) = entry["reasons"]
    assert reason["criterion"] == "violations"
    assert reason["detail"].startswith(f"no-delivery-lost: {UNANSWERED}")


def test_the_promise_is_one_entry_with_both_reasons(trace: Path) -> None:
    found = find_receipts(trace, FindOptions(lost=True, violations=True))
    (entry,) = [f for f in found if f.receipt is None]
    assert [r.criterion for r in entry.reasons] == ["lost", "violations"]
    assert found[-1] is entry  # after the receipts


def test_every_leaves_it_out_when_it_misses_a_criterion(trace: Path) -> None:
    found = find_receipts(trace, FindOptions(gave_up=True, violations=True, every=True))
    assert all(f.receipt is not None for f in found)


def test_planted_a_find_of_receipts_only_says_nothing_meets(
    trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_trace, "find_receipts", receipts_only(find_receipts))
    code, out, err = _main(["find", str(trace), "--violations"])
    # the bug: check fails the trace, find finds nothing
    assert (code, out) == (1, "") and "no receipt of" in err and "meets violations" in err
