"""Sweeps: the grid of points and seeds, over processes or a Dask cluster, and its files.

One small sweep (2 knobs x 2 values x 2 seeds on a 10-phone world) runs through the
command line with ``--jobs 2``; the other tests check it against running each row alone,
against ``--jobs 1`` and against a local Dask cluster.
"""

from __future__ import annotations

import csv
import io
import json
import math
import pickle
import statistics
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import distributed
import pytest

from scenarios import (
    INVARIANTS,
    Report,
    ScenarioError,
    SweepBar,
    SweepLines,
    SweepTask,
    load_scenario,
    parse_vary,
    plan_sweep,
    run_point,
    run_sweep,
    scenario_to_dict,
)
from scenarios._cli._main import main
from scenarios._sweep._run import MAX_RUNS
from tests.scenarios.cli_runs import run_main as _main

SMALL = """\
description = "a small world for sweep tests"
seed = 40
shops = 2
phones = 10
purchases = 40
duration = "1h"
wrong_id_rate = 0.1
unsubscribed_rate = 0.1
ask_probability = 0.6
ask_delay = ["10s", "15m"]
"""
VARY = ["--vary", "cloud.push_timeout=1m,10m", "--vary", "wrong_id_rate=0,0.3"]
FIGURES = [f.name for f in attrs.fields(Report) if f.name not in ("scenario", "seed")]


@attrs.frozen
class Swept:
    scenario: Path
    out: Path
    stdout: str
    stderr: str

    def read(self, name: str) -> list[dict[str, str]]:
        with (self.out / name).open(encoding="utf-8", newline="") as stream:
            return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Swept:
    """The small sweep through the CLI with --jobs 2 (and its plots)."""
    root = tmp_path_factory.mktemp("sweep")
    scenario = root / "small.toml"
    scenario.write_text(SMALL)
    out = root / "jobs2"
    argv = ["sweep", str(scenario), *VARY, "--seeds", "2", "--jobs", "2", "--out", str(out)]
    code, stdout, stderr = _main(argv)
    assert code == 0, stderr
    return Swept(scenario, out, stdout, stderr)


def test_results_csv_has_a_row_per_run_and_the_documented_columns(swept: Swept) -> None:
    rows = swept.read("results.csv")
    assert len(rows) == 8
    assert list(rows[0]) == [
        "point",
        "cloud.push_timeout",
        "wrong_id_rate",
        "seed",
        *FIGURES,
        "violations",
        "broken",
        "scenario",
        "overrides",
        "cloud",
    ]
    # By point, then seed; the first knob varies slowest; values as given.
    assert [(r["point"], r["seed"]) for r in rows] == [
        (str(p), str(s)) for p in range(4) for s in (40, 41)
    ]
    assert [(r["cloud.push_timeout"], r["wrong_id_rate"]) for r in rows[::2]] == [
        ("1m", "0"),
        ("1m", "0.3"),
        ("10m", "0"),
        ("10m", "0.3"),
    ]
    assert rows[2]["overrides"] == "cloud.push_timeout=1m;wrong_id_rate=0.3"
    assert {r["scenario"] for r in rows} == {str(swept.scenario)}
    assert all(r["lost"] == "0" and r["duplicates"] == "0" for r in rows)
    # the reference cloud, judged by every invariant: no promise broken, no variant
    assert {(r["violations"], r["broken"], r["cloud"]) for r in rows} == {("0", "", "")}


def test_every_row_is_what_running_its_point_alone_gives(
    swept: Swept, capsys: pytest.CaptureFixture[str]
) -> None:
    for row in swept.read("results.csv"):
        argv = ["run", row["scenario"], "--seed", row["seed"], "--json"]
        for assignment in row["overrides"].split(";"):
            argv += ["--set", assignment]
        assert main(argv) == 0
        alone = json.loads(capsys.readouterr().out)
        assert {f: row[f] for f in FIGURES} == {f: str(alone[f]) for f in FIGURES}


def test_summary_has_a_row_per_point_with_mean_and_student_t_interval(swept: Swept) -> None:
    results = swept.read("results.csv")
    summary = swept.read("summary.csv")
    assert len(summary) == 4
    assert list(summary[0])[:4] == ["point", "cloud.push_timeout", "wrong_id_rate", "runs"]
    assert list(summary[0])[4:] == [
        f"{f}_{part}"
        for f in (*FIGURES, "violations")
        for part in ("mean", "ci95_low", "ci95_high")
    ]
    assert {p["violations_mean"] for p in summary} == {"0.0"}
    for point in summary:
        assert point["runs"] == "2"
        for figure in FIGURES:
            values = [float(r[figure]) for r in results if r["point"] == point["point"]]
            mean = statistics.fmean(values)
            half = 12.706 * statistics.stdev(values) / math.sqrt(2)  # t(0.975, df=1)
            assert float(point[f"{figure}_mean"]) == pytest.approx(mean)
            assert float(point[f"{figure}_ci95_low"]) == pytest.approx(mean - half)
            assert float(point[f"{figure}_ci95_high"]) == pytest.approx(mean + half)


def test_latencies_and_sweep_json(swept: Swept) -> None:
    latencies = swept.read("latencies.csv")
    assert list(latencies[0]) == ["point", "seed", "latency_s"]
    assert {(r["point"], r["seed"]) for r in latencies} == {
        (str(p), str(s)) for p in range(4) for s in (40, 41)
    }
    assert all(float(r["latency_s"]) >= 0 for r in latencies)
    meta = json.loads((swept.out / "sweep.json").read_text())
    assert meta["scenario"] == str(swept.scenario)
    assert meta["vary"] == {"cloud.push_timeout": ["1m", "10m"], "wrong_id_rate": ["0", "0.3"]}
    assert (meta["seeds"], meta["seed_values"], meta["jobs"]) == (2, [40, 41], 2)
    assert meta["base"] == scenario_to_dict(load_scenario(str(swept.scenario)))
    assert (meta["cloud"], meta["invariants"]) == (None, list(INVARIANTS))
    assert [p["overrides"] for p in meta["points"]][1] == [
        "cloud.push_timeout=1m",
        "wrong_id_rate=0.3",
    ]
    assert meta["points"][3]["knobs"] == {"cloud.push_timeout": 600.0, "wrong_id_rate": 0.3}
    assert meta["points"][3]["settings"]["cloud"]["push_timeout"] == 600.0


def test_the_cli_says_where_the_files_are_and_draws_the_plots(swept: Swept) -> None:
    for name in ("results.csv", "summary.csv", "latencies.csv", "sweep.json"):
        assert str(swept.out / name) in swept.stdout
    assert "4 points x 2 seeds = 8 runs" in swept.stdout
    assert "every invariant of assocsim check judged in every run: none broken" in swept.stdout
    assert "broke promises" not in swept.stderr
    assert f"assocsim report {swept.out}" in swept.stdout
    # Not a terminal: one plain line per finished point, no carriage returns.
    assert swept.stderr.count("done (cloud.push_timeout=") == 4
    assert "\r" not in swept.stderr
    pngs, svgs = sorted(swept.out.glob("*.png")), sorted(swept.out.glob("*.svg"))
    assert pngs and [p.stem for p in pngs] == [s.stem for s in svgs]
    for png in pngs:
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    for svg in svgs:
        assert ET.parse(svg).getroot().tag.endswith("svg")


def test_one_job_gives_the_same_bytes_as_two(swept: Swept, tmp_path: Path) -> None:
    out = tmp_path / "jobs1"
    argv = ["sweep", str(swept.scenario), *VARY, "--seeds", "2", "--jobs", "1"]
    code, _, err = _main([*argv, "--out", str(out), "--no-plots"])
    assert code == 0, err
    for name in ("results.csv", "summary.csv", "latencies.csv"):
        assert (out / name).read_bytes() == (swept.out / name).read_bytes(), name
    assert not list(out.glob("*.png"))


def test_a_dask_cluster_gives_the_same_rows(swept: Swept, tmp_path: Path) -> None:
    vary = parse_vary(["cloud.push_timeout=1m,10m", "wrong_id_rate=0,0.3"])
    base = load_scenario(str(swept.scenario))
    # Two threads in one worker: runs in one process take turns, so still deterministic.
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = run_sweep(
            base,
            vary,
            2,
            1,
            tmp_path / "dask",
            executor=client.get_executor(),
            source=str(swept.scenario),
        )
    assert len(result.rows) == 8
    for name in ("results.csv", "summary.csv", "latencies.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (swept.out / name).read_bytes(), name


def test_the_unit_of_work_is_plain_and_picklable(swept: Swept) -> None:
    base = load_scenario(str(swept.scenario))
    task = SweepTask(
        point=3, seed=41, scenario=scenario_to_dict(base), overrides=("wrong_id_rate=0.3",)
    )
    assert pickle.loads(pickle.dumps(task)) == task
    row = run_point(task)
    assert pickle.loads(pickle.dumps(row)) == row
    assert row.knobs == (("wrong_id_rate", "0.3"),)
    assert row.report.seed == 41 and row.report.mismatches > 0
    assert list(row.latencies) == sorted(row.latencies)
    assert row.report.latency_max == row.latencies[-1]


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        (["cloud.push_timeout"], "--vary cloud.push_timeout: expected KEY=V1,V2,..."),
        (["cloud.push_timeout="], "--vary cloud.push_timeout=: expected values"),
        (["shops=1,,2"], "--vary shops=1,,2: expected values separated by commas"),
        (["cloud.push_timeot=1m,5m"], "--vary cloud.push_timeot=1m: unknown key"),
        (["shops=1,two"], "--vary shops=two: shops: expected a whole number, got 'two'"),
        (["cloud.push_timeout=1m,0"], "--vary cloud.push_timeout=0: cloud.push_timeout: must"),
        (["shops=1,2", "shops=3"], "--vary shops=3: shops is already varied"),
        (["seed=1,2"], "--vary seed=1,2: vary the seed with --seeds N"),
        (["items_per_purchase=[1,2],[3,1]"], "--vary items_per_purchase=[3,1]: items_per"),
    ],
)
def test_a_bad_vary_is_one_line_and_exit_2_before_any_run(
    vary: list[str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_runs(task: SweepTask) -> None:
        raise AssertionError("a run started")

    monkeypatch.setattr("scenarios._sweep._run.run_point", no_runs)
    out = tmp_path / "never"
    argv = ["sweep", "quickstart", "--jobs", "1", "--out", str(out)]
    assert main([*argv, *(f"--vary={v}" for v in vary)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"assocsim: error: {expected}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "expected"), [("--seeds=0", "--seeds must be at least 1"), ("--jobs=0", "--jobs")]
)
def test_bad_seeds_or_jobs_are_refused(
    option: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "quickstart", option, "--vary", "shops=1,2"]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(
    ("seeds", "vary"),
    [(str(MAX_RUNS + 1), "shops=1"), (str(MAX_RUNS // 2 + 1), "shops=1,2"), ("10" * 11, "shops=1")],
)
def test_a_sweep_of_more_runs_than_the_limit_is_refused_before_planning(
    seeds: str, vary: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    argv = ["sweep", "quickstart", "--seeds", seeds, "--vary", vary, "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("assocsim: error: a sweep of ") and f"more than {MAX_RUNS:,}" in err
    assert err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize(
    "words",
    [
        ["--set", "description=a;b"],
        ["--vary", 'description="a","b;c"'],  # the second point's
    ],
)
def test_an_override_holding_the_rows_separator_is_refused(
    words: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """results.csv joins a row's overrides with ';': such a row could not be re-run."""
    out = tmp_path / "never"
    assert main(["sweep", "quickstart", *words, "--seeds", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "a sweep's overrides cannot hold ';'" in err
    assert ("b;c" if "--vary" in words else "a;b") in err
    assert err.count("\n") == 1 and not out.exists()


def test_values_split_on_commas_outside_brackets() -> None:
    vary = parse_vary(
        ["items_per_purchase=[1,2], [1,4]", 'cloud.mismatch_policy="reject",dual-send']
    )
    assert vary == {
        "items_per_purchase": ["[1,2]", "[1,4]"],
        "cloud.mismatch_policy": ['"reject"', "dual-send"],
    }
    points = plan_sweep(load_scenario("quickstart"), vary)
    assert [p.scenario.items_per_purchase for p in points[::2]] == [(1, 2), (1, 4)]
    assert [p.label for p in points][:2] == [
        'items_per_purchase=[1,2] cloud.mismatch_policy="reject"',
        "items_per_purchase=[1,2] cloud.mismatch_policy=dual-send",
    ]


def test_no_vary_is_one_point_run_for_every_seed(tmp_path: Path) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    result = run_sweep(load_scenario(str(scenario)), {}, 3, 1, tmp_path / "out", sets=["seed=5"])
    assert [(row.point, row.seed) for row in result.rows] == [(0, 5), (0, 6), (0, 7)]
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert [r["overrides"] for r in rows] == ["seed=5"] * 3


def test_set_overrides_the_base_and_a_bad_one_stops_the_sweep(tmp_path: Path) -> None:
    base = load_scenario("quickstart")
    with pytest.raises(ScenarioError, match=r"^--set phones=x: phones: expected a whole number"):
        run_sweep(base, {"shops": ["1"]}, 1, 1, tmp_path / "out", sets=["phones=x"])
    assert not (tmp_path / "out").exists()


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_terminal_bar_shows_points_rate_and_eta() -> None:
    clock, stream = _Clock(), io.StringIO()
    bar = SweepBar(stream, width=10, clock=clock)
    bar.start(["a=1", "a=2"], 4)
    assert bar.line() == "[----------] 0/2 points, 0.0 runs/s, ETA ?"
    clock.now += 2.0
    bar.run_done(0, point_done=False)
    clock.now += 2.0
    bar.run_done(0, point_done=True)
    assert bar.line() == "[#####-----] 1/2 points, 0.5 runs/s, ETA 0:04"
    bar.run_done(1, point_done=False)
    bar.run_done(1, point_done=True)
    bar.close()
    assert bar.line() == "[##########] 2/2 points, 1.0 runs/s, done"
    assert stream.getvalue().startswith("\r[----------]")
    assert stream.getvalue().endswith("\n")


def test_plain_progress_is_one_line_per_finished_point() -> None:
    clock, stream = _Clock(), io.StringIO()
    lines = SweepLines(stream, clock=clock)
    lines.start(["a=1", "a=2"], 4)
    clock.now += 4000.0
    lines.run_done(1, point_done=False)
    lines.run_done(1, point_done=True)
    lines.close()
    assert stream.getvalue().splitlines() == [
        "sweep: 2 points, 4 runs",
        "point 2/2 done (a=2): 1/2 points, 0.0 runs/s, ETA 1:06:40",
    ]


# ------------------------------------------------------------------ report and plots


def test_report_renders_the_sweep_directory(
    swept: Swept, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(swept.out)]) == 0
    page = Path(capsys.readouterr().out.strip())
    assert page.parent == swept.out and page.suffix == ".html"
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")


def test_report_of_a_directory_without_results_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"assocsim: error: {tmp_path}: no results.csv here; "
        "give the --out directory of an assocsim sweep\n"
    )


def test_run_plots_writes_the_run_plots_and_keeps_json_clean(
    swept: Swept, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plots = tmp_path / "plots"
    assert main(["run", str(swept.scenario), "--json", "--plots", str(plots)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["purchases"] == 40
    written = sorted(plots.iterdir())
    assert {p.suffix for p in written} == {".png", ".svg"}
    assert all(str(p) in captured.err for p in written)


def test_without_matplotlib_plots_are_skipped_with_a_hint(
    swept: Swept,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    hint = "plots skipped: install the plot extra: pip install 'assocsim[plot]'\n"
    assert main(["run", str(swept.scenario), "--plots", str(tmp_path / "plots")]) == 0
    assert capsys.readouterr().err == hint
    out = tmp_path / "sweep"
    argv = ["sweep", str(swept.scenario), "--vary", "shops=1,2", "--seeds", "1", "--jobs", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    assert capsys.readouterr().err.endswith(hint)
    assert (out / "results.csv").is_file() and not list(out.glob("*.png"))
