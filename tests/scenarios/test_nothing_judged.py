"""A check that judged nothing is no all-clear: ``assocsim run quickstart --set purchases=0
--check`` printed a table of zeros and "no violations", exit 0; so did ``assocsim check`` of
its trace. Now both end with ``nothing judged: ...`` and exit 2 (JSON ``"judged": false``,
``"ok": false``). Against the planted status blind to it
(``tests/planted/unjudged_all_clear.py``) the same check exits 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios._cli import _trace
from scenarios._trace._checks import NOTHING_JUDGED
from tests.planted.unjudged_all_clear import all_clear_unless_broken
from tests.scenarios.cli_runs import run_main


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trace of a quickstart run of no purchase."""
    path = tmp_path_factory.mktemp("empty") / "empty.jsonl"
    code, _, _ = run_main(["run", "quickstart", "--set", "purchases=0", "--trace", str(path)])
    assert code == 0
    return path


def test_run_check_of_no_purchase_judges_nothing_and_exits_2() -> None:
    code, out, _ = run_main(["run", "quickstart", "--set", "purchases=0", "--check"])
    assert code == 2
    assert out.rstrip().endswith(NOTHING_JUDGED) and "no violations" not in out


def test_check_of_a_trace_that_gives_nothing_to_judge_exits_2(empty: Path) -> None:
    code, out, _ = run_main(["check", str(empty)])
    assert code == 2 and NOTHING_JUDGED in out and "no violations" not in out
    code, out, _ = run_main(["check", "--json", str(empty)])
    found = json.loads(out)
    assert code == 2 and found["judged"] is False and found["ok"] is False


def test_a_run_that_judged_something_is_still_all_clear() -> None:
    code, out, _ = run_main(["run", "quickstart", "--set", "purchases=5", "--check"])
    assert code == 0 and out.rstrip().endswith("no violations")


def test_planted_a_status_blind_to_judging_says_all_clear(
    empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_trace, "check_status", all_clear_unless_broken)
    code, out, _ = run_main(["check", str(empty)])
    assert code == 0  # the bug: all clear of a trace that judged nothing
    assert NOTHING_JUDGED in out  # (the table still says so: only the status lies)
