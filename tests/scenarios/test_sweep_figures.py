"""Sweep figures for every figure a knob moves (issue 17, item 3).

A loss sweep (``network.loss`` over 0, 0.1, 0.3, 3 seeds, a 10-phone world) through the
command line: every column of ``results.csv`` that varies gets a panel against the knob,
re-sends and injected faults included; bands are clipped at 0; fewer than 5 seeds are
said to make a rough band; the printed summary counts the plots' time; ``assocsim
report`` says when it draws; ``docs/sweeps.md`` lists exactly the columns written.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from pathlib import Path

import attrs
import pytest

from scenarios import Report
from scenarios._sweep import _plots
from scenarios._sweep._plots import (
    SweepData,
    _knob_figure,
    _series,
    read_sweep,
    seeds_note,
    sweep_panels,
)
from tests.planted.sweep_panels import zero_everywhere
from tests.scenarios.cli_runs import run_main as _main

ROOT = Path(__file__).resolve().parents[2]
SMALL = """\
description = "a small world for the sweep figures"
seed = 7
shops = 2
phones = 10
purchases = 40
duration = "1h"
ask_probability = 0.6
ask_delay = ["10s", "15m"]
"""
KNOB = "network.loss"
FIGURES = [f.name for f in attrs.fields(Report) if f.name not in ("scenario", "seed")]


@attrs.frozen
class Swept:
    out: Path
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Swept:
    """The loss sweep with its plots, through the CLI."""
    root = tmp_path_factory.mktemp("figures")
    scenario = root / "small.toml"
    scenario.write_text(SMALL)
    out = root / "loss"
    argv = ["sweep", str(scenario), "--vary", f"{KNOB}=0,0.1,0.3", "--seeds", "3"]
    code, stdout, stderr = _main([*argv, "--jobs", "1", "--out", str(out)])
    assert code == 0, stderr
    return Swept(out, stdout, stderr)


def _varying(sweep: SweepData) -> set[str]:
    """The results.csv figures that take more than one value across the sweep's runs."""
    return {name for name in FIGURES if len({row[name] for row in sweep.results}) > 1}


def _without_panel(sweep: SweepData) -> set[str]:
    """The varying figures no figure of panels shows against the knob."""
    shown = {name for plan in sweep_panels(sweep) if plan.knob == KNOB for name in plan.panels}
    return _varying(sweep) - shown


def test_every_figure_that_varies_has_a_panel(swept: Swept) -> None:
    sweep = read_sweep(swept.out)
    # What the issue saw flat: re-sends and the drops grow with the loss.
    assert {"resent", "dropped_by_loss"} <= _varying(sweep)
    assert _without_panel(sweep) == set()
    faults = (swept.out / "vs-network.loss-faults.svg").read_text(encoding="utf-8")
    for title in ("messages re-sent", "given up after retries", "faults: dropped (loss)"):
        assert f">{title}<" in faults, title
    # The counts 0 in every run are named under the title, not drawn as panels.
    assert "0 in every run: cut by partition, dropped (actor down), duplicated" in faults
    assert ">faults: crashes<" not in faults


def test_a_plan_that_hides_a_varying_figure_is_caught(
    swept: Swept, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_plots, "_zero_everywhere", zero_everywhere)  # the planted bug
    assert "dropped_by_loss" in _without_panel(read_sweep(swept.out))


def test_bands_are_clipped_at_zero(swept: Swept) -> None:
    sweep = read_sweep(swept.out)
    # A point whose interval reaches below 0, as 3 seeds of a small count give.
    summary = [{**row, "resent_ci95_low": "-5.5"} for row in sweep.summary]
    clipped = attrs.evolve(sweep, summary=tuple(summary))
    [(_, bands)] = _series(clipped, KNOB, ["resent", "delivered"])
    means, lows, highs = bands["resent"]
    assert means == [float(row["resent_mean"]) for row in sweep.summary]
    assert lows == [0.0, 0.0, 0.0]
    assert highs == [float(row["resent_ci95_high"]) for row in sweep.summary]
    # A band that stays above 0 is drawn as computed.
    assert bands["delivered"][1] == [float(row["delivered_ci95_low"]) for row in sweep.summary]


def test_fewer_than_five_seeds_are_said_to_make_a_rough_band(swept: Swept) -> None:
    note = "only 3 seeds: the band is rough (t = 4.3); use --seeds 5 or more"
    assert seeds_note(3) == note
    assert seeds_note(1).startswith("1 seed: no band")
    for stem in ("deliveries", "faults"):
        svg = (swept.out / f"vs-network.loss-{stem}.svg").read_text(encoding="utf-8")
        assert note in svg
    sweep = read_sweep(swept.out)
    plan = next(plan for plan in sweep_panels(sweep) if plan.stem.endswith("-faults"))
    title = _knob_figure(sweep, plan).get_suptitle()
    assert note in title
    five = _knob_figure(attrs.evolve(sweep, seeds=5), plan).get_suptitle()
    assert "seeds 5 or more" not in five and "mean of 5 seeds" in five


def test_the_summary_counts_the_plots_time(swept: Swept) -> None:
    lines = swept.stdout.splitlines()
    runs = re.fullmatch(r"sweep small: 3 points x 3 seeds = 9 runs in ([\d.]+) s .*", lines[0])
    assert runs is not None, lines[0]
    drawn = re.search(
        r"^plots: +14 files \(PNG and SVG\) in .*, drawn in ([\d.]+) s$", swept.stdout, re.M
    )
    total = re.search(r"^total: +([\d.]+) s of wall time$", swept.stdout, re.M)
    assert drawn is not None and total is not None, swept.stdout
    # One decimal each: the total is at least the runs and the plots, give or take rounding.
    assert float(total[1]) >= float(runs[1]) + float(drawn[1]) - 0.15
    assert float(drawn[1]) > 0
    assert f"assocsim: drawing the plots into {swept.out}\n" in swept.stderr


def test_report_says_when_it_draws(swept: Swept, tmp_path: Path) -> None:
    bare = tmp_path / "no-plots"
    bare.mkdir()
    for name in ("results.csv", "summary.csv", "latencies.csv", "sweep.json"):
        shutil.copy(swept.out / name, bare / name)
    code, stdout, stderr = _main(["report", str(bare)])
    assert code == 0
    assert stdout == f"{bare / 'report.html'}\n"
    first, second = stderr.splitlines()
    assert first == f"assocsim: no plots in {bare}: drawing all 7 first"
    assert re.fullmatch(r"assocsim: drew 14 files in [\d.]+ s", second), second
    assert len(list(bare.glob("*.svg"))) == 7
    # With the plots there, nothing to draw and nothing said.
    assert _main(["report", str(bare)]) == (0, stdout, "")
    # A sweep drawn before the faults figure existed: the missing one is drawn.
    (bare / "vs-network.loss-faults.svg").unlink()
    code, _, stderr = _main(["report", str(bare)])
    assert code == 0
    assert stderr.splitlines()[0] == f"assocsim: 1 plot missing in {bare}: drawing all 7 first"
    assert (bare / "vs-network.loss-faults.svg").is_file()
    page = (bare / "report.html").read_text(encoding="utf-8")
    assert "only 3 seeds: the band is rough" in page


def _documented_results_columns() -> list[str]:
    """The columns docs/sweeps.md's results.csv table names, in its order."""
    text = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")
    section = text.split("### `results.csv`", 1)[1].split("\n### ", 1)[0]
    columns = []
    for line in section.splitlines():
        cell = re.match(r"\| `([a-z0-9_]+)` \|", line)
        if cell is not None:
            columns.append(cell[1])
    return columns


def test_the_docs_list_exactly_the_columns_written(swept: Swept) -> None:
    with (swept.out / "results.csv").open(encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream))
    knobs = list(json.loads((swept.out / "sweep.json").read_text())["vary"])
    assert knobs == [KNOB]
    written = [column for column in header if column not in knobs]
    assert _documented_results_columns() == written
    # point, seed, the figures, violations, broken, scenario, overrides, cloud
    assert len(written) == len(FIGURES) + 7


def test_a_run_without_deliveries_has_no_latency_not_zero(tmp_path: Path) -> None:
    """No delivery, no latency: empty cells (the report's n/a), left out of the means."""
    scenario = tmp_path / "silent.toml"
    scenario.write_text(SMALL.replace("ask_probability = 0.6", "ask_probability = 0.0"))
    out = tmp_path / "out"
    argv = ["sweep", str(scenario), "--vary", "unsubscribed_rate=0,1", "--seeds", "2"]
    code, _, err = _main([*argv, "--jobs", "1", "--no-plots", "--out", str(out)])
    assert code == 0, err
    sweep = read_sweep(out)
    rows = [(row["point"], row["delivered"], row["latency_p50"]) for row in sweep.results]
    assert [(p, lat != "") for p, _, lat in rows] == [
        ("0", True),
        ("0", True),
        ("1", False),
        ("1", False),
    ]
    assert all(delivered == "0" for p, delivered, _ in rows if p == "1")
    cells = [(row["latency_max_mean"], row["latency_max_ci95_low"]) for row in sweep.summary]
    assert cells[0][0] != "" and cells[1] == ("", "")
    [(_, bands)] = _series(sweep, "unsubscribed_rate", ["latency_max"])
    assert bands["latency_max"][0][0] > 0 and math.isnan(bands["latency_max"][0][1])
