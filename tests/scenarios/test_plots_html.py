"""Sweep and run plots (PNG + SVG) and the self-contained HTML report of a sweep directory.

The sweep directory is built here in ``assocsim sweep``'s format from real runs of a tiny
world (2 knobs x 2 values x 2 seeds), so these tests need nothing but the runner.
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
import subprocess
import sys
import xml.etree.ElementTree as ET
from itertools import product
from pathlib import Path

import attrs
import pytest

from scenarios import (
    Report,
    RunResult,
    Scenario,
    ScenarioError,
    parse_duration,
    run_scenario,
    scenario_to_dict,
)
from scenarios._sweep._html import write_html_report
from scenarios._sweep._plots import (
    _series,
    read_sweep,
    sweep_plot_names,
    write_run_plots,
    write_sweep_plots,
)

VARY = {"cloud.push_timeout": ["1m", "10m"], "wrong_id_rate": ["0", "0.25"]}
SEEDS = (1, 2)
FIGURES = [f.name for f in attrs.fields(Report) if f.name not in ("scenario", "seed")]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BASE = Scenario(name="tiny", phones=5, purchases=20, ask_probability=0.5)


def _with(scenario: Scenario, key: str, text: str) -> Scenario:
    if key == "cloud.push_timeout":
        return attrs.evolve(
            scenario, cloud=attrs.evolve(scenario.cloud, push_timeout=parse_duration(text))
        )
    if key == "ask_probability":
        return attrs.evolve(scenario, ask_probability=float(text))
    assert key == "wrong_id_rate", key
    return attrs.evolve(scenario, wrong_id_rate=float(text))


def _ci(samples: list[float]) -> tuple[float, float, float]:
    mean = statistics.fmean(samples)
    half = 12.706 * statistics.stdev(samples) / math.sqrt(len(samples))  # t(0.975, df=1)
    return mean, mean - half, mean + half


def make_sweep_dir(out: Path, vary: dict[str, list[str]] = VARY) -> Path:
    """A sweep directory as ``assocsim sweep`` writes it, from real runs of ``BASE``."""
    out.mkdir(parents=True, exist_ok=True)
    knobs = list(vary)
    points = [dict(zip(knobs, values, strict=True)) for values in product(*vary.values())]
    results: list[dict[str, object]] = []
    latencies: list[tuple[int, int, float]] = []
    summary: list[dict[str, object]] = []
    for point, values in enumerate(points):
        scenario = BASE
        for key, text in values.items():
            scenario = _with(scenario, key, text)
        overrides = ";".join(f"{k}={v}" for k, v in values.items())
        runs = [run_scenario(scenario, seed) for seed in SEEDS]
        for seed, run in zip(SEEDS, runs, strict=True):
            figures = {name: getattr(run.report, name) for name in FIGURES}
            results.append(
                {"point": point, **values, "seed": seed, **figures}
                | {"scenario": BASE.name, "overrides": overrides}
            )
            latencies += [(point, seed, latency) for latency in run.latencies]
        row: dict[str, object] = {"point": point, **values, "runs": len(runs)}
        for name in FIGURES:
            mean, low, high = _ci([float(getattr(run.report, name)) for run in runs])
            row |= {f"{name}_mean": mean, f"{name}_ci95_low": low, f"{name}_ci95_high": high}
        summary.append(row)
    sweep = {
        "scenario": BASE.name,
        "vary": vary,
        "seeds": len(SEEDS),
        "jobs": 2,
        "base": scenario_to_dict(BASE),
        "points": [
            {
                "point": point,
                "overrides": ";".join(f"{k}={v}" for k, v in values.items()),
                "values": values,
            }
            for point, values in enumerate(points)
        ],
    }
    (out / "sweep.json").write_text(json.dumps(sweep, indent=2), encoding="utf-8")
    _write_csv(out / "results.csv", results)
    _write_csv(out / "summary.csv", summary)
    _write_csv(
        out / "latencies.csv",
        [{"point": p, "seed": s, "latency_s": lat} for p, s, lat in latencies],
    )
    return out


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep_dir(tmp_path_factory.mktemp("sweep"))


@pytest.fixture(scope="module")
def plotted(sweep_dir: Path) -> list[Path]:
    return write_sweep_plots(sweep_dir)


def _assert_valid(paths: list[Path]) -> None:
    for path in paths:
        assert path.is_file(), path
        if path.suffix == ".png":
            assert path.read_bytes().startswith(PNG_MAGIC), path
        else:
            assert path.suffix == ".svg"
            assert ET.parse(path).getroot().tag.endswith("svg"), path


def test_sweep_plots_are_valid_png_and_svg_pairs(sweep_dir: Path, plotted: list[Path]) -> None:
    _assert_valid(plotted)
    stems = [stem for stem, _ in sweep_plot_names(read_sweep(sweep_dir))]
    assert sorted(p.name for p in plotted) == sorted(
        f"{stem}.{ext}" for stem in stems for ext in ("png", "svg")
    )
    for knob in VARY:  # a deliveries and a latency panel per varied knob
        assert f"vs-{knob}-deliveries" in stems and f"vs-{knob}-latency" in stems
    assert {"delivery-shares", "latency-cdf", "latency-histograms"} <= set(stems)


def test_sweep_plots_label_axes_with_units(plotted: list[Path]) -> None:
    text = {p.stem: p.read_text(encoding="utf-8") for p in plotted if p.suffix == ".svg"}
    # text stays text in the SVG (svg.fonttype none), so the labels can be searched for
    assert "per run" in text["vs-cloud.push_timeout-deliveries"]
    assert "minutes" in text["vs-cloud.push_timeout-latency"]
    assert "wrong_id_rate" in text["vs-cloud.push_timeout-latency"]  # the legend's title
    assert "minutes" in text["latency-cdf"]
    assert "share of deliveries" in text["delivery-shares"]


def test_read_sweep_keeps_the_values_in_the_order_given(sweep_dir: Path) -> None:
    sweep = read_sweep(sweep_dir)
    assert sweep.knobs == tuple(VARY)
    assert sweep.values == {k: tuple(v) for k, v in VARY.items()}
    assert len(sweep.points) == 4 and sweep.seeds == len(SEEDS)
    assert set(sweep.latencies) == {0, 1, 2, 3}


def test_run_plots_are_valid_and_deterministic(tmp_path: Path) -> None:
    result: RunResult = run_scenario(_with(BASE, "wrong_id_rate", "0.2"), 3)
    assert result.latencies
    paths = write_run_plots(result, tmp_path / "plots")
    _assert_valid(paths)
    assert sorted(p.name for p in paths) == [
        "run-deliveries.png",
        "run-deliveries.svg",
        "run-latency.png",
        "run-latency.svg",
    ]
    again = write_run_plots(run_scenario(_with(BASE, "wrong_id_rate", "0.2"), 3), tmp_path / "b")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    assert "minutes" in (tmp_path / "plots" / "run-latency.svg").read_text(encoding="utf-8")


def test_html_report_is_one_self_contained_page(sweep_dir: Path, plotted: list[Path]) -> None:
    page = write_html_report(sweep_dir)
    assert page == sweep_dir / "report.html"
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "<script" not in html and "<iframe" not in html
    assert re.search(r"""\b(src|href)\s*=\s*["'](?!#)""", html) is None
    assert "url(" not in html.replace("url(#", "")
    assert html.count("<svg") == len([p for p in plotted if p.suffix == ".svg"])
    # each inlined SVG keeps its own ids, so no plot borrows another's clip paths or markers
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for knob, values in VARY.items():
        assert knob in html and all(f">{v}<" in html for v in values)
    assert "assocsim run tiny --set cloud.push_timeout=1m --set wrong_id_rate=0 --seed 1" in html
    assert "95 %" in html


def test_html_report_draws_the_plots_of_a_one_knob_sweep_when_there_are_none(
    tmp_path: Path,
) -> None:
    out = make_sweep_dir(tmp_path / "sweep", {"cloud.push_timeout": ["1m", "10m"]})
    html = write_html_report(out).read_text(encoding="utf-8")
    stems = [stem for stem, _ in sweep_plot_names(read_sweep(out))]
    assert html.count("<svg") == len(stems) == 7  # 4 panel figures for the knob, 3 per point
    _assert_valid([out / f"{stem}.{ext}" for stem in stems for ext in ("png", "svg")])


def test_with_three_knobs_each_plot_line_is_the_mean_over_the_other_knobs(
    tmp_path: Path,
) -> None:
    vary = {**VARY, "ask_probability": ["0.5", "1"]}
    sweep = read_sweep(make_sweep_dir(tmp_path / "sweep", vary))
    [(label, bands)] = _series(sweep, "wrong_id_rate", ["pushes"])
    assert label is None
    means, lows, highs = bands["pushes"]
    for index, value in enumerate(vary["wrong_id_rate"]):
        runs = [float(r["pushes"]) for r in sweep.results if r["wrong_id_rate"] == value]
        assert len(runs) == 4 * len(SEEDS)
        assert means[index] == pytest.approx(statistics.fmean(runs))
        assert lows[index] <= means[index] <= highs[index]


def test_without_matplotlib_the_report_says_how_to_get_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = make_sweep_dir(tmp_path / "sweep")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install 'assocsim[plot]'")):
        write_sweep_plots(out)
    html = write_html_report(out).read_text(encoding="utf-8")
    assert "<svg" not in html
    assert "pip install &#x27;assocsim[plot]&#x27;" in html
    assert "<table" in html


def test_importing_the_modules_needs_no_matplotlib() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import scenarios._sweep._plots, scenarios._sweep._html\n"
        "assert 'matplotlib.figure' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("missing", ["results.csv", "summary.csv"])
def test_a_directory_without_results_is_refused_in_one_line(tmp_path: Path, missing: str) -> None:
    out = tmp_path / "sweep"
    out.mkdir()
    for name in ("results.csv", "summary.csv"):
        if name != missing:
            (out / name).write_text("point\n", encoding="utf-8")
    for action in (write_html_report, write_sweep_plots):
        with pytest.raises(ScenarioError, match=missing) as caught:
            action(out)
        assert "\n" not in str(caught.value)
    assert not (out / "report.html").exists()


def test_html_escapes_what_the_files_say_and_inlines_no_active_svg(
    sweep_dir: Path, plotted: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    out.mkdir()
    for path in sweep_dir.iterdir():  # the plots too: the page need not draw them again
        (out / path.name).write_bytes(path.read_bytes())
    meta = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    meta["scenario"] = "<b>evil</b>"
    (out / "sweep.json").write_text(json.dumps(meta), encoding="utf-8")
    (out / "delivery-shares.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        encoding="utf-8",
    )
    html = write_html_report(out).read_text(encoding="utf-8")
    assert "<b>evil</b>" not in html and "&lt;b&gt;evil&lt;/b&gt;" in html
    assert "<script" not in html and "delivery-shares.svg: not inlined" in html
    assert html.count("<svg") == len([p for p in plotted if p.suffix == ".svg"]) - 1


def test_a_sweep_whose_promises_were_not_judged_says_so_never_all_clear(
    sweep_dir: Path, plotted: list[Path]
) -> None:
    # make_sweep_dir writes the files of a sweep from before runs were judged: no
    # violations column, so no figure on the page may read as promises kept
    html = write_html_report(sweep_dir).read_text(encoding="utf-8")
    assert html.count("promises were not judged</strong>") == 2  # first, and over the table
    assert '<p class="note bad"><strong>This sweep' in html
    assert "none broken" not in html and "Promises broken" not in html
    assert "--seed 1 --check" not in html  # its rows re-run as they were swept
