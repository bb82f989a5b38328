"""Every sweep run is judged by the invariants' checker, and ``sweep --cloud`` sweeps a
variant cloud.

A sweep of ``tests/planted/refusing_cloud.py`` (it refuses every valid upload: 20
``refusal-justified`` violations a run, none the report counts as lost or duplicated)
must say so in results.csv, summary.csv, on stderr (a line per point), in its exit status
(1) and in red on its HTML page; the same sweep with the old unit of work
(``tests/planted/unjudged_sweep.py``: no checker) must be caught. The reference cloud's
sweep is judged all clear in ``test_sweep.py``. Tiny runs (20 purchases), no plots.
"""

from __future__ import annotations

import csv
import json
import pickle
import sys
from pathlib import Path

import attrs
import distributed
import pytest

from scenarios import Report, RunSpec, SweepTask, load_scenario, parse_vary, scenario_to_dict
from scenarios._cli._main import main
from scenarios._sweep import _run
from scenarios._sweep._html import write_html_report
from scenarios._sweep._run import INCOMPLETE, broken_promises, run_point, run_sweep
from scenarios._trace._checks import INVARIANTS, CheckResult
from tests.planted import unjudged_sweep
from tests.scenarios.cli_runs import run_main as _main

REFUSING = "tests.planted.refusing_cloud:refusing_cloud"
SWEEP = [
    "sweep",
    "quickstart",
    "--set",
    "purchases=20",
    "--vary",
    "network.loss=0,0.1",
    "--seeds",
    "2",
    "--no-plots",
]
FIGURES = [f.name for f in attrs.fields(Report) if f.name not in ("scenario", "seed")]


@attrs.frozen
class Swept:
    out: Path
    code: int
    stdout: str
    stderr: str

    def read(self, name: str) -> list[dict[str, str]]:
        with (self.out / name).open(encoding="utf-8", newline="") as stream:
            return list(csv.DictReader(stream))


def _sweep(out: Path, *extra: str) -> Swept:
    code, stdout, stderr = _main([*SWEEP, "--out", str(out), *extra])
    return Swept(out, code, stdout, stderr)


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> Swept:
    """The refusing cloud swept over two worker processes (each imports it by name)."""
    out = tmp_path_factory.mktemp("refused") / "sweep"
    return _sweep(out, "--jobs", "2", "--cloud", REFUSING)


def _page(out: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The sweep's HTML page, without drawing plots (not what is tested here)."""
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "matplotlib", None)
        return write_html_report(out).read_text(encoding="utf-8")


def _misses(swept: Swept, page: str) -> list[str]:
    """What the refusing cloud's sweep must say, and did not."""
    misses: list[str] = []
    if swept.code != 1:
        misses.append(f"exit status {swept.code}, not 1")
    for row in swept.read("results.csv"):
        violations = int(row.get("violations") or 0)
        if violations < 20 or row.get("broken") != f"refusal-justified={violations}":
            misses.append(f"row {row['point']}/{row['seed']}: {row.get('broken')!r}")
    for point in swept.read("summary.csv"):
        if not float(point.get("violations_mean") or 0) >= 20:
            misses.append(f"summary point {point['point']}: no violations_mean")
    for index, value in enumerate(("0", "0.1")):
        head = f"assocsim: point {index} (network.loss={value}): 2 of 2 runs broke promises: "
        if head + "refusal-justified " not in swept.stderr:
            misses.append(f"no line for point {index} on stderr")
    if "Promises broken: 4 of 4 runs broke promises (refusal-justified " not in page:
        misses.append("the page does not say the promises were broken")
    if page.count('<td class="num bad">') < 2:  # each point's violations in the summary
        misses.append("no red violations on the page")
    return misses


def test_a_cloud_breaking_a_safety_promise_is_judged_broken(
    refused: Swept, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _misses(refused, _page(refused.out, monkeypatch)) == []
    rows = refused.read("results.csv")
    # what the report counts says all clear: only the checker sees this cloud's bug
    assert {(r["lost"], r["duplicates"], r["delivered"]) for r in rows} == {("0", "0", "0")}
    assert "4 of 4 runs broke promises" in refused.stdout
    assert "re-run a row with assocsim run ... --check" in refused.stderr


def test_a_sweep_that_does_not_judge_its_runs_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_run, "run_point", unjudged_sweep.run_point)  # the planted bug
    unjudged = _sweep(tmp_path / "sweep", "--jobs", "1", "--cloud", REFUSING)
    misses = _misses(unjudged, _page(unjudged.out, monkeypatch))
    assert "exit status 0, not 1" in misses
    assert "the page does not say the promises were broken" in misses


def test_each_row_re_runs_with_its_cloud_to_the_same_report_and_violations(
    refused: Swept, capsys: pytest.CaptureFixture[str]
) -> None:
    meta = json.loads((refused.out / "sweep.json").read_text(encoding="utf-8"))
    assert meta["cloud"] == REFUSING and meta["invariants"] == list(INVARIANTS)
    for row in refused.read("results.csv"):
        assert row["cloud"] == REFUSING
        argv = ["run", row["scenario"], "--seed", row["seed"], "--cloud", row["cloud"]]
        for assignment in row["overrides"].split(";"):
            argv += ["--set", assignment]
        assert main([*argv, "--json", "--check"]) == 1
        out, err = capsys.readouterr()
        alone = json.loads(out)
        # results.csv writes a latency of a run without deliveries as empty, JSON null
        assert {f: row[f] for f in FIGURES} == {
            f: "" if alone[f] is None else str(alone[f]) for f in FIGURES
        }
        assert f"\n{row['violations']} violations:\n" in err


def test_a_dask_cluster_runs_the_variant_cloud_to_the_same_rows(
    refused: Swept, tmp_path: Path
) -> None:
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = run_sweep(
            RunSpec.load("quickstart", ["purchases=20"]),
            parse_vary(["network.loss=0,0.1"]),
            2,
            1,
            tmp_path / "dask",
            executor=client.get_executor(),
            cloud=REFUSING,
        )
    assert len(result.broken_promises()) == 2
    for name in ("results.csv", "summary.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (refused.out / name).read_bytes()


def test_a_bad_cloud_is_one_line_and_exit_2_before_any_run(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    swept = _sweep(out, "--jobs", "1", "--cloud", "no_such_variant:make_cloud")
    assert swept.code == 2
    assert swept.stderr == (
        "assocsim: error: cloud factory 'no_such_variant:make_cloud': no module named "
        "'no_such_variant' (is it in the current directory or on PYTHONPATH?)\n"
    )
    assert not out.exists()


def test_the_task_carries_the_cloud_by_name_and_pickles() -> None:
    settings = scenario_to_dict(load_scenario("quickstart"))
    task = SweepTask(0, 7, settings, ("purchases=20",), REFUSING)
    assert pickle.loads(pickle.dumps(task)) == task
    row = run_point(task)
    assert pickle.loads(pickle.dumps(row)) == row
    assert row.broken == (("refusal-justified", row.violations),) and row.violations >= 20
    reference = run_point(attrs.evolve(task, cloud=None))
    assert (reference.broken, reference.violations) == ((), 0)


def test_an_incomplete_check_counts_as_a_broken_promise_never_as_none() -> None:
    whole = CheckResult(events=1, receipts=0, invariants=(), violations=(), shown_from="")
    assert broken_promises(whole) == ()
    cut = attrs.evolve(whole, incomplete="the trace is cut")
    assert broken_promises(cut) == ((INCOMPLETE, 1),)
    left_out = attrs.evolve(whole, skipped=("the push deadline: no settings",))
    assert broken_promises(left_out) == ((INCOMPLETE, 1),)


def test_a_bad_cloud_is_told_before_connecting_to_a_cluster(tmp_path: Path) -> None:
    swept = _sweep(
        tmp_path / "sweep", "--scheduler", "tcp://127.0.0.1:9", "--cloud", "nope:make_cloud"
    )
    assert swept.code == 2
    assert swept.stderr.startswith("assocsim: error: cloud factory 'nope:make_cloud': ")
    assert swept.stderr.count("\n") == 1
