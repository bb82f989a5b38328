"""Plots of a sweep directory and of a single run, as PNG and SVG (matplotlib, optional).

matplotlib is the optional extra ``assocsim[plot]``: it is imported inside the functions
that draw, never when this module is imported, so a sweep without it still writes its CSVs.
Figures are drawn on matplotlib's Agg canvas without pyplot (no global state, no window).

:func:`write_sweep_plots` reads what ``assocsim sweep`` wrote into a directory:

* ``sweep.json``: the scenario, the varied knobs and their values in the order given;
* ``summary.csv``: per point, the mean and 95 % interval of every report figure;
* ``results.csv``: one row per run (used to aggregate when more than two knobs vary);
* ``latencies.csv``: every first-delivery latency of every run.

:func:`write_run_plots` draws one run's latency distribution and deliveries by kind.
Every plot is written as ``NAME.png`` and ``NAME.svg``; the same data give the same files.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from scenarios._model._errors import ScenarioError
from scenarios._sim._runner import RunResult

from ._run import t_critical_95

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = [
    "FEW_SEEDS",
    "FIGURES",
    "PLOT_INSTALL_HINT",
    "FigureSpec",
    "PanelPlan",
    "SweepData",
    "read_sweep",
    "seeds_note",
    "sweep_panels",
    "sweep_plot_names",
    "write_run_plots",
    "write_sweep_plots",
]

PLOT_INSTALL_HINT = "pip install 'assocsim[plot]'"

Unit = Literal["count", "time", "ratio"]


@attrs.frozen
class FigureSpec:
    """How a report figure is named and measured on plots and in tables."""

    name: str  # the Report field / CSV column stem
    label: str  # what a reader calls it
    unit: Unit

    @property
    def axis_label(self) -> str:
        return {"count": "per run", "time": "minutes", "ratio": "per purchase"}[self.unit]

    @property
    def scale(self) -> float:
        return 1 / 60 if self.unit == "time" else 1.0


FIGURES: dict[str, FigureSpec] = {
    f.name: f
    for f in (
        FigureSpec("purchases", "purchases", "count"),
        FigureSpec("uploads_acknowledged", "uploads acknowledged", "count"),
        FigureSpec("requests", "requests", "count"),
        FigureSpec("responses", "responses (pull)", "count"),
        FigureSpec("refusals", "refusals", "count"),
        FigureSpec("pushes", "timeout pushes", "count"),
        FigureSpec("mismatches", "mismatched ids", "count"),
        FigureSpec("dual_sends", "dual-sends", "count"),
        FigureSpec("withheld", "not owed (unsubscribed)", "count"),
        FigureSpec("delivered", "deliveries", "count"),
        FigureSpec("lost", "deliveries lost", "count"),
        FigureSpec("duplicates", "duplicate deliveries", "count"),
        # not a report figure: the invariants' checker's verdict on the run (results.csv)
        FigureSpec("violations", "violations (every invariant)", "count"),
        FigureSpec("deliveries_per_purchase", "deliveries per purchase", "ratio"),
        FigureSpec("latency_p50", "delivery latency p50", "time"),
        FigureSpec("latency_p95", "delivery latency p95", "time"),
        FigureSpec("latency_max", "delivery latency max", "time"),
        FigureSpec("virtual_time", "virtual time", "time"),
        FigureSpec("resent", "messages re-sent", "count"),
        FigureSpec("gave_up", "given up after retries", "count"),
        FigureSpec("dropped_by_loss", "faults: dropped (loss)", "count"),
        FigureSpec("cut_by_partition", "faults: cut by partition", "count"),
        FigureSpec("dropped_while_down", "faults: dropped (actor down)", "count"),
        FigureSpec("duplicated", "faults: duplicated", "count"),
        FigureSpec("reordered", "faults: reordered", "count"),
        FigureSpec("crashes", "faults: crashes", "count"),
        FigureSpec("restarts", "restarts", "count"),
    )
}

# Each varied knob gets four figures of panels: what was delivered, how fast and how well,
# the workload behind it, and the reliability layer's work with the faults injected (so
# every report figure is plotted against every knob). In the last, a fault count that is
# 0 in every run gets no panel, only a line under the title (see _panels).
_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "deliveries",
        "Deliveries",
        ("responses", "pushes", "dual_sends", "mismatches", "delivered", "deliveries_per_purchase"),
    ),
    (
        "latency",
        "Latency and promises kept",
        (
            "latency_p50",
            "latency_p95",
            "latency_max",
            "lost",
            "duplicates",
            "violations",
            "refusals",
        ),
    ),
    (
        "workload",
        "Workload",
        ("purchases", "uploads_acknowledged", "requests", "withheld", "virtual_time"),
    ),
    (
        "faults",
        "Re-sends and faults injected",
        (
            "resent",
            "gave_up",
            "dropped_by_loss",
            "cut_by_partition",
            "dropped_while_down",
            "duplicated",
            "reordered",
            "crashes",
            "restarts",
        ),
    ),
)
# Panels a group always has, even when 0 in every run (the others then get only a mention).
_ALWAYS = frozenset(name for _, _, names in _GROUPS[:3] for name in names) | {"resent", "gave_up"}
# Fewer seeds than this: the 95 % band rests on a rough estimate of the spread; say so.
FEW_SEEDS = 5

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_KIND_COLOURS = {
    "responses": "#0072B2",
    "pushes": "#E69F00",
    "dual_sends": "#CC79A7",
    "refusals": "#999999",
    "withheld": "#5f5f5f",
}
_DPI = 110
_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "assocsim",
    "svg.fonttype": "none",  # text stays text: smaller files, searchable in the HTML page
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


# ------------------------------------------------------------------ reading a sweep


@attrs.frozen
class SweepData:
    """What ``assocsim sweep`` wrote into a directory, read back."""

    directory: Path
    scenario: str
    knobs: tuple[str, ...]  # the varied knobs, dotted keys, in the order given
    values: dict[str, tuple[str, ...]]  # knob -> its values as given, in the order given
    seeds: int
    jobs: int | None
    base: dict[str, Any]
    meta: dict[str, Any]  # all of sweep.json ({} without it)
    summary: tuple[dict[str, str], ...]  # summary.csv rows, by point
    results: tuple[dict[str, str], ...]  # results.csv rows
    latencies: dict[int, tuple[float, ...]]  # point -> every first-delivery latency (s)

    @property
    def points(self) -> list[tuple[int, tuple[str, ...]]]:
        """(point, the knobs' values) for every point, in point order."""
        return [(int(row["point"]), tuple(row[k] for k in self.knobs)) for row in self.summary]

    def figures(self) -> list[str]:
        """The figures summary.csv has means for, in the report's order."""
        columns = self.summary[0].keys() if self.summary else ()
        have = [c.removesuffix("_mean") for c in columns if c.endswith("_mean")]
        known = [name for name in FIGURES if name in have]
        return known + [name for name in have if name not in FIGURES]

    def describe_point(self, values: Sequence[str], *, short: bool = False) -> str:
        """``cloud.push_timeout=10m, wrong_id_rate=0.05``.

        ``short``: ``push_timeout=10m, ...``, the keys' last parts, if those tell them apart.
        """
        names = [_short(k) for k in self.knobs]
        if not short or len(set(names)) < len(names):
            names = list(self.knobs)
        return ", ".join(f"{k}={v}" for k, v in zip(names, values, strict=True))


def _short(knob: str) -> str:
    return knob.rsplit(".", 1)[-1]


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _number(text: str | None) -> float:
    if text is None or not text.strip():
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_sweep(out_dir: Path) -> SweepData:
    """Read a sweep directory; :class:`ScenarioError` if it has no results."""
    out_dir = Path(out_dir)
    for name in ("results.csv", "summary.csv"):
        if not (out_dir / name).is_file():
            raise ScenarioError(
                f"{out_dir}: no {name} here; run `assocsim sweep SCENARIO --vary KEY=V1,V2 "
                f"--out {out_dir}` first"
            )
    summary = _read_csv(out_dir / "summary.csv")
    results = _read_csv(out_dir / "results.csv")
    if not summary:
        raise ScenarioError(f"{out_dir / 'summary.csv'}: no points in it")
    columns = list(summary[0])
    meta: dict[str, Any] = {}
    if (out_dir / "sweep.json").is_file():
        try:
            meta = json.loads((out_dir / "sweep.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScenarioError(f"{out_dir / 'sweep.json'}: not readable JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise ScenarioError(f"{out_dir / 'sweep.json'}: expected a JSON object")
    if isinstance(meta.get("vary"), dict) and meta["vary"]:
        knobs = tuple(str(k) for k in meta["vary"])
        values = {str(k): tuple(str(v) for v in vs) for k, vs in meta["vary"].items()}
    else:  # no sweep.json: the knobs are summary.csv's columns between point and runs
        end = columns.index("runs") if "runs" in columns else len(columns)
        knobs = tuple(columns[1:end])
        values = {k: tuple(dict.fromkeys(row[k] for row in summary)) for k in knobs}
    missing = [c for c in ("point", *knobs) if c not in columns]
    if missing:
        raise ScenarioError(f"{out_dir / 'summary.csv'}: missing column {missing[0]!r}")
    if not all(row["point"].isdigit() for row in summary):
        raise ScenarioError(f"{out_dir / 'summary.csv'}: the point column holds non-numbers")
    latencies: dict[int, list[float]] = defaultdict(list)
    if (out_dir / "latencies.csv").is_file():
        try:
            for row in _read_csv(out_dir / "latencies.csv"):
                value = _number(row.get("latency_s"))
                if not math.isnan(value):
                    latencies[int(row["point"])].append(value)
        except (KeyError, TypeError, ValueError):
            raise ScenarioError(
                f"{out_dir / 'latencies.csv'}: expected columns point, seed, latency_s"
            ) from None
    seeds = meta.get("seeds")
    if not isinstance(seeds, int):
        seeds = len({row.get("seed") for row in results})
    jobs = meta.get("jobs")
    base = meta.get("base")
    return SweepData(
        directory=out_dir,
        scenario=str(meta.get("scenario") or (results[0].get("scenario") if results else "")),
        knobs=knobs,
        values=values,
        seeds=seeds,
        jobs=jobs if isinstance(jobs, int) else None,
        base=base if isinstance(base, dict) else {},
        meta=meta,
        summary=tuple(summary),
        results=tuple(results),
        latencies={point: tuple(lat) for point, lat in latencies.items()},
    )


# ------------------------------------------------------------------ statistics


def _mean_ci(samples: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95 % interval of the mean (Student's t, as in summary.csv); NaN where
    undefined (no band is drawn for a single run)."""
    data = [x for x in samples if not math.isnan(x)]
    if not data:
        return (math.nan, math.nan, math.nan)
    mean = statistics.fmean(data)
    if len(data) < 2:
        return (mean, math.nan, math.nan)
    half = t_critical_95(len(data) - 1) * statistics.stdev(data) / math.sqrt(len(data))
    return (mean, mean - half, mean + half)


Band = tuple[list[float], list[float], list[float]]  # means, lows, highs along the x axis


def _series(
    sweep: SweepData, knob: str, figures: Iterable[str]
) -> list[tuple[str | None, dict[str, Band]]]:
    """The lines of the plots against ``knob``: (label, figure -> band along its values).

    With exactly two knobs, one line per value of the other knob, straight from
    summary.csv. With one, a single line. With more, one line aggregated from results.csv
    over every other knob's values. Every report figure is a count, a time or a ratio,
    never below 0: a band's low end is clipped at 0 (summary.csv keeps the interval as
    computed).
    """
    return [
        (label, {name: _clip(band) for name, band in bands.items()})
        for label, bands in _unclipped_series(sweep, knob, figures)
    ]


def _clip(band: Band) -> Band:
    means, lows, highs = band
    return means, [low if math.isnan(low) else max(0.0, low) for low in lows], highs


def _unclipped_series(
    sweep: SweepData, knob: str, figures: Iterable[str]
) -> list[tuple[str | None, dict[str, Band]]]:
    xs = sweep.values[knob]
    figures = list(figures)
    others = [k for k in sweep.knobs if k != knob]
    if len(others) <= 1:
        line_values: Sequence[str | None] = sweep.values[others[0]] if others else [None]
        by_key = {tuple(row[k] for k in sweep.knobs): row for row in sweep.summary}
        lines: list[tuple[str | None, dict[str, Band]]] = []
        for line in line_values:
            bands: dict[str, Band] = {}
            for name in figures:
                band: Band = ([], [], [])
                for x in xs:
                    key = tuple(x if k == knob else str(line) for k in sweep.knobs)
                    row = by_key.get(key, {})
                    for part, suffix in zip(band, ("mean", "ci95_low", "ci95_high"), strict=True):
                        part.append(_number(row.get(f"{name}_{suffix}")))
                bands[name] = band
            lines.append((line, bands))
        return lines
    runs: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in sweep.results:
        runs[row[knob]].append(row)
    bands = {}
    for name in figures:
        stats = [_mean_ci([_number(r.get(name)) for r in runs[x]]) for x in xs]
        bands[name] = ([s[0] for s in stats], [s[1] for s in stats], [s[2] for s in stats])
    return [(None, bands)]


# ------------------------------------------------------------------ drawing


def _matplotlib() -> None:
    """Import matplotlib or say how to get it."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ModuleNotFoundError(f"plots need matplotlib: {PLOT_INSTALL_HINT}", name="matplotlib")


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, out_dir: Path, stem: str) -> list[Path]:
    png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
    figure.savefig(png, dpi=_DPI, metadata={"Software": None})
    figure.set_layout_engine("none")  # keep the layout just computed: half the drawing time
    figure.savefig(svg, metadata={"Date": None})  # svg.hashsalt is set in _RC
    return [png, svg]


def _stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


@attrs.frozen
class PanelPlan:
    """One figure of panels against a knob: its file stem, caption, panels and the
    figures left out because they are 0 in every run (named under the title instead)."""

    stem: str
    caption: str
    knob: str
    title: str
    panels: tuple[str, ...]
    zero: tuple[str, ...] = ()


def _zero_everywhere(sweep: SweepData, name: str) -> bool:
    values = [_number(row.get(name)) for row in sweep.results]
    return bool(values) and all(v == 0 for v in values)


def sweep_panels(sweep: SweepData) -> list[PanelPlan]:
    """Every figure of panels against a knob, in reading order.

    Every figure of ``summary.csv`` gets a panel against every knob, except a fault count
    that is 0 in every run (it cannot vary; its figure's title says it stayed 0). A
    figure the groups do not name (a newer report's) goes to an "Other figures" one.
    """
    have = sweep.figures()
    grouped = {name for _, _, names in _GROUPS for name in names}
    groups = list(_GROUPS)
    rest = tuple(name for name in have if name not in grouped)
    if rest:
        groups.append(("other", "Other figures", rest))
    plans: list[PanelPlan] = []
    for knob in sweep.knobs:
        for key, title, names in groups:
            present = [n for n in names if n in have]
            zero = tuple(n for n in present if n not in _ALWAYS and _zero_everywhere(sweep, n))
            panels = tuple(n for n in present if n not in zero)
            if not panels:
                continue
            plans.append(
                PanelPlan(
                    f"vs-{_stem(knob)}-{key}", f"{title} against {knob}", knob, title, panels, zero
                )
            )
    return plans


def sweep_plot_names(sweep: SweepData) -> list[tuple[str, str]]:
    """(file stem, caption) of every plot :func:`write_sweep_plots` draws, in reading order."""
    names = [(plan.stem, plan.caption) for plan in sweep_panels(sweep)]
    names.append(("delivery-shares", "Pull, push and dual-send shares of deliveries per point"))
    if sweep.latencies:
        names.append(("latency-cdf", "Delivery latency distribution (CDF) per point"))
        names.append(("latency-histograms", "Delivery latency histogram per point"))
    return names


def _label_lowest(axes: Any, label: str) -> None:
    """Label the x axis (ticks too) of the lowest visible panel of every column."""
    for column in range(axes.shape[1]):
        shown = [ax for ax in axes[:, column] if ax.get_visible()]
        if shown:
            shown[-1].set_xlabel(label)
            shown[-1].xaxis.set_tick_params(labelbottom=True)


def _mark_if_all_zero(ax: Axes, ys: Iterable[float]) -> None:
    finite = [y for y in ys if not math.isnan(y)]
    if finite and all(y == 0 for y in finite):
        ax.set_ylim(-0.03, 1)
        ax.text(
            0.5,
            0.55,
            "0 in every run",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#2a7a2a",
            fontsize=11,
            fontweight="bold",
        )


def _knob_figure(sweep: SweepData, plan: PanelPlan) -> Figure:
    knob, title, names = plan.knob, plan.title, list(plan.panels)
    xs = sweep.values[knob]
    series = _series(sweep, knob, names)
    others = [k for k in sweep.knobs if k != knob]
    ncols = 3
    nrows = max(1, math.ceil(len(names) / ncols))
    figure = _new_figure(4.0 * ncols, 2.75 * nrows + 1.1)
    axes = figure.subplots(nrows, ncols, squeeze=False, sharex=True)
    positions = list(range(len(xs)))
    # Lines that coincide (a figure the other knob does not move) stay visible side by side.
    spread = min(0.16, 0.05 * (len(series) - 1))
    dodge = [
        spread * (i / (len(series) - 1) - 0.5) if len(series) > 1 else 0.0
        for i in range(len(series))
    ]
    alpha = 0.2 if len(series) <= 2 else max(0.07, 0.4 / len(series))
    handles: list[Any] = []
    for ax, name in zip(axes.flat, names, strict=False):
        spec = FIGURES.get(name, FigureSpec(name, name.replace("_", " "), "count"))
        everything: list[float] = []
        for index, (label, bands) in enumerate(series):
            colour = _COLOURS[index % len(_COLOURS)]
            means, lows, highs = ([v * spec.scale for v in part] for part in bands[name])
            everything += means + lows + highs
            shifted = [p + dodge[index] for p in positions]
            (line,) = ax.plot(
                shifted,
                means,
                color=colour,
                marker=_MARKERS[index % len(_MARKERS)],
                markersize=5,
                linewidth=1.8,
                label=label if label is not None else "mean",
            )
            ax.fill_between(shifted, lows, highs, color=colour, alpha=alpha, linewidth=0)
            if len(handles) < len(series):
                handles.append(line)
        ax.set_title(spec.label)
        ax.set_ylabel(spec.axis_label)
        ax.set_xticks(positions, list(xs))
        ax.set_xlim(-0.3, len(xs) - 0.7)
        ax.set_ylim(bottom=0)
        ax.set_ylim(bottom=-0.03 * ax.get_ylim()[1])  # markers at 0 drawn whole
        _mark_if_all_zero(ax, everything)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    _label_lowest(axes, knob)
    if len(others) == 1:
        figure.legend(
            handles=handles,
            title=others[0],
            loc="outside right upper",
            alignment="left",
        )
    mean_of = f"mean of {sweep.seeds} seeds" if sweep.seeds != 1 else "1 seed"
    if len(others) > 1:
        mean_of += f", over all values of {', '.join(others)}"
    lines = [
        f"{sweep.scenario}: {title.lower()} against {knob}",
        f"line: {mean_of}; band: 95 % interval of the mean, clipped at 0",
    ]
    if sweep.seeds < FEW_SEEDS:
        lines.append(seeds_note(sweep.seeds))
    if plan.zero:
        lines.append("0 in every run: " + ", ".join(_label_of(n) for n in plan.zero))
    figure.suptitle("\n".join(lines), fontsize=11.5)
    return figure


def _label_of(name: str) -> str:
    spec = FIGURES.get(name)
    return spec.label.removeprefix("faults: ") if spec is not None else name.replace("_", " ")


def seeds_note(seeds: int) -> str:
    """What a band over fewer than :data:`FEW_SEEDS` seeds is worth."""
    if seeds < 2:
        return "1 seed: no band (the spread is unknown); use --seeds 5 or more"
    return (
        f"only {seeds} seeds: the band is rough (t = {t_critical_95(seeds - 1):.1f}); "
        f"use --seeds {FEW_SEEDS} or more"
    )


def _point_labels(sweep: SweepData) -> list[tuple[int, str]]:
    return [(point, sweep.describe_point(values, short=True)) for point, values in sweep.points]


def _shares_figure(sweep: SweepData) -> Figure:
    kinds = (
        ("responses", "response to a request (pull)"),
        ("pushes", "timeout push"),
        ("dual_sends", "dual-send (mismatched id)"),
    )
    labels = [label for _, label in _point_labels(sweep)]
    shares: dict[str, list[float]] = {kind: [] for kind, _ in kinds}
    for row in sweep.summary:
        counts = {kind: max(0.0, _number(row.get(f"{kind}_mean"))) for kind, _ in kinds}
        total = sum(c for c in counts.values() if not math.isnan(c))
        for kind, _ in kinds:
            value = counts[kind]
            shares[kind].append(100 * value / total if total and not math.isnan(value) else 0.0)
    height = 1.6 + 0.42 * len(labels)
    figure = _new_figure(max(9.5, 6.0 + 0.075 * max(map(len, labels), default=0)), height)
    ax = figure.subplots()
    ys = list(range(len(labels)))
    left = [0.0] * len(labels)
    for kind, label in kinds:
        widths = shares[kind]
        bars = ax.barh(ys, widths, left=left, color=_KIND_COLOURS[kind], label=label, height=0.7)
        texts = [f"{w:.0f} %" if w >= 6 else "" for w in widths]
        ax.bar_label(bars, texts, label_type="center", color="white", fontsize=8.5)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, share in zip(ys, shares["dual_sends"], strict=True):
        if 0 < share < 6:  # too thin a slice for a label inside: say it to the right
            ax.text(101, y, f"{share:.1f} %", va="center", fontsize=8.5, color="#a0507f")
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of deliveries (%), from the means over seeds")
    ax.grid(axis="y", visible=False)
    figure.legend(loc="outside lower center", ncols=3)
    figure.suptitle(
        f"{sweep.scenario}: how deliveries reached the phones, per point", fontsize=11.5
    )
    return figure


def _bins_minutes(largest_minutes: float) -> list[float]:
    """Histogram edges in minutes at a round width, about 20-40 bins.

    The inner edges sit a hair above the round values, so that a latency of exactly
    10 minutes (a push after a 10m timeout) is counted in the bar that ends at 10.
    """
    top = max(largest_minutes, 1.0)
    width = 60.0
    for candidate in (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60):
        if top / candidate <= 40:
            width = candidate
            break
    count = math.ceil(top / width - 1e-9)
    return [0.0] + [i * width + 1e-6 for i in range(1, count + 1)]


def _cdf(ordered: Sequence[float], most: int = 1500) -> tuple[list[float], list[float]]:
    """Steps of the empirical CDF (in %) of sorted ``ordered``, from (0, 0), thinned.

    Equal values make one step; beyond ``most`` steps, every k-th is kept (and the last),
    which a plot cannot tell from the whole (and the SVG stays small).
    """
    xs, ys = [0.0], [0.0]
    for index, value in enumerate(ordered):
        if index + 1 < len(ordered) and ordered[index + 1] == value:
            continue
        xs.append(value)
        ys.append(100 * (index + 1) / len(ordered))
    if len(xs) > most:
        keep = sorted({*range(0, len(xs), math.ceil(len(xs) / most)), len(xs) - 1})
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    return xs, ys


def _latency_layout(sweep: SweepData) -> tuple[str | None, list[tuple[str, ...]]]:
    """The colour knob (the first) and the panel keys (the other knobs' value combinations)."""
    if not sweep.knobs:
        return None, [()]
    panels: list[tuple[str, ...]] = list(dict.fromkeys(values[1:] for _, values in sweep.points))
    return sweep.knobs[0], panels


def _panel_title(sweep: SweepData, key: tuple[str, ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(sweep.knobs[1:], key, strict=True)) or "all points"


def _cdf_figure(sweep: SweepData) -> Figure:
    colour_knob, panels = _latency_layout(sweep)
    colour_values = sweep.values[colour_knob] if colour_knob else ()
    ncols = 2 if len(panels) == 4 else min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    figure = _new_figure(max(4.6 * ncols, 6.5), 3.3 * nrows + 1.0)
    axes = figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    handles: dict[str, Any] = {}
    for ax, key in zip(axes.flat, panels, strict=False):
        for point, values in sweep.points:
            if values[1:] != key:
                continue
            index = colour_values.index(values[0]) if colour_knob else 0
            data = sorted(x / 60 for x in sweep.latencies.get(point, ()))
            if not data:
                continue
            xs, ys = _cdf(data)
            (line,) = ax.step(
                xs,
                ys,
                where="post",
                color=_COLOURS[index % len(_COLOURS)],
                linewidth=1.8,
                label=values[0] if colour_knob else "all runs",
            )
            handles.setdefault(line.get_label(), line)
        if len(sweep.knobs) > 1:
            ax.set_title(_panel_title(sweep, key))
        ax.set_ylim(0, 101)
        ax.set_xlim(left=0)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    _label_lowest(axes, "minutes from purchase to first delivery")
    for ax in axes[:, 0]:
        ax.set_ylabel("% of first deliveries at or below")
    if colour_knob:
        ordered = [handles[v] for v in colour_values if v in handles]
        # inside, bottom right: where a CDF's curves, rising to the left, leave room
        axes.flat[len(panels) - 1].legend(
            handles=ordered,
            title=colour_knob,
            loc="lower right",
            alignment="left",
            frameon=True,
            edgecolor="none",
            framealpha=0.85,
        )
    figure.suptitle(
        f"{sweep.scenario}: delivery latency, cumulative (all seeds pooled)", fontsize=11.5
    )
    return figure


def _histogram_figure(sweep: SweepData) -> Figure:
    colour_knob, panels = _latency_layout(sweep)
    colour_values = sweep.values[colour_knob] if colour_knob else ("",)
    by_key = {values: point for point, values in sweep.points}
    cells: list[tuple[int, tuple[str, ...]]]
    grid = bool(colour_knob) and len(colour_values) <= 6 and len(panels) <= 8
    if grid and all((c, *p) in by_key for c in colour_values for p in panels):
        # a table: a column per value of the first knob, a row per value of the others
        rows, cols = len(panels), len(colour_values)
        cells = [(by_key[(c, *p)], (c, *p)) for p in panels for c in colour_values]
    else:
        grid = False
        rows, cols = math.ceil(len(sweep.points) / 5), min(5, len(sweep.points))
        cells = list(sweep.points)
    largest = max((max(v) for v in sweep.latencies.values() if v), default=60.0) / 60
    edges = _bins_minutes(largest)
    figure = _new_figure(max(2.9 * cols + 0.8, 7.0), 2.1 * rows + 1.3)
    axes = figure.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    for ax, (point, values) in zip(axes.flat, cells, strict=False):
        data = [x / 60 for x in sweep.latencies.get(point, ())]
        index = colour_values.index(values[0]) if colour_knob else 0
        if data:
            ax.hist(
                data,
                bins=edges,
                weights=[100 / len(data)] * len(data),
                color=_COLOURS[index % len(_COLOURS)],
                edgecolor="white",
                linewidth=0.4,
            )
        else:
            ax.text(0.5, 0.5, "no deliveries", transform=ax.transAxes, ha="center")
        if not grid:
            ax.set_title(sweep.describe_point(values, short=True).replace(", ", "\n"), fontsize=9)
        ax.text(
            0.98, 0.95, f"n={len(data)}", transform=ax.transAxes, ha="right", va="top", fontsize=8
        )
    for ax in axes.flat[len(cells) :]:
        ax.set_visible(False)
    _label_lowest(axes, "minutes to first delivery")
    for row, ax in enumerate(axes[:, 0]):
        where = ""
        if grid and len(sweep.knobs) > 1:
            where = "".join(
                f"{_short(k)}={v}\n" for k, v in zip(sweep.knobs[1:], panels[row], strict=True)
            )
        ax.set_ylabel(f"{where}% of first deliveries")
    if grid:
        for ax, value in zip(axes[0], colour_values, strict=True):
            ax.set_title(f"{colour_knob}={value}", fontsize=9.5)
    figure.suptitle(
        f"{sweep.scenario}: delivery latency histogram per point\n"
        "(all seeds pooled; a bar ending at t counts latencies up to t)",
        fontsize=11.5,
    )
    return figure


def write_sweep_plots(out_dir: Path) -> list[Path]:
    """Draw every plot of the sweep in ``out_dir`` into it, as PNG and SVG; their paths.

    Raises :class:`ModuleNotFoundError` (saying how to install the plot extra) without
    matplotlib, :class:`ScenarioError` if ``out_dir`` holds no sweep results.
    """
    sweep = read_sweep(Path(out_dir))
    _matplotlib()
    import matplotlib

    written: list[Path] = []
    with matplotlib.rc_context(_RC):
        drawn: dict[str, Figure] = {}
        for plan in sweep_panels(sweep):
            drawn[plan.stem] = _knob_figure(sweep, plan)
        drawn["delivery-shares"] = _shares_figure(sweep)
        if sweep.latencies:
            drawn["latency-cdf"] = _cdf_figure(sweep)
            drawn["latency-histograms"] = _histogram_figure(sweep)
        for stem, _ in sweep_plot_names(sweep):
            written += _save(drawn[stem], sweep.directory, stem)
    return written


# ------------------------------------------------------------------ one run


def write_run_plots(result: RunResult, out_dir: Path) -> list[Path]:
    """One run's plots into ``out_dir`` (created if needed), PNG and SVG; their paths.

    ``run-latency``: histogram and CDF of the run's first-delivery latencies;
    ``run-deliveries``: the run's deliveries by kind, with refusals and withheld pushes.
    """
    _matplotlib()
    import matplotlib

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = result.report
    minutes = sorted(x / 60 for x in result.latencies)
    heading = f"{report.scenario}, seed {report.seed}"
    written: list[Path] = []
    with matplotlib.rc_context(_RC):
        figure = _new_figure(10.5, 3.9)
        hist_ax, cdf_ax = figure.subplots(1, 2)
        if minutes:
            hist_ax.hist(
                minutes,
                bins=_bins_minutes(minutes[-1]),
                weights=[100 / len(minutes)] * len(minutes),
                color=_COLOURS[0],
                edgecolor="white",
                linewidth=0.4,
            )
            cdf_ax.step(*_cdf(minutes), where="post", color=_COLOURS[0], linewidth=1.8)
            for q, share, value in (
                ("p50", 50, report.latency_p50),
                ("p95", 95, report.latency_p95),
            ):
                if value is None:  # no delivery, no latency (minutes would be empty)
                    continue
                if value is None:  # no delivery: no latency (and no minutes either)
                    continue
                cdf_ax.plot([value / 60], [share], "o", color="#333333", markersize=4)
                cdf_ax.annotate(
                    f"{q}: {value / 60:.1f} min",
                    (value / 60, share),
                    xytext=(7, -4),
                    textcoords="offset points",
                    fontsize=8.5,
                    va="top",
                )
        else:
            for ax in (hist_ax, cdf_ax):
                ax.text(0.5, 0.5, "no deliveries", transform=ax.transAxes, ha="center")
        hist_ax.set_title("histogram")
        hist_ax.set_xlabel("minutes from purchase to first delivery")
        hist_ax.set_ylabel("% of first deliveries")
        cdf_ax.set_title("cumulative")
        cdf_ax.set_xlabel("minutes from purchase to first delivery")
        cdf_ax.set_ylabel("% of first deliveries at or below")
        cdf_ax.set_ylim(0, 101)
        cdf_ax.set_xlim(left=0)
        figure.suptitle(
            f"{heading}: delivery latency ({len(minutes)} first deliveries)", fontsize=11.5
        )
        written += _save(figure, out_dir, "run-latency")

        kinds = (
            ("responses", "responses\n(pull)", report.responses),
            ("pushes", "timeout\npushes", report.pushes),
            ("dual_sends", "dual-sends", report.dual_sends),
            ("refusals", "refusals", report.refusals),
            ("withheld", "withheld\n(unsubscribed)", report.withheld),
        )
        figure = _new_figure(7.5, 4.0)
        ax = figure.subplots()
        bars = ax.bar(
            [label for _, label, _ in kinds],
            [count for _, _, count in kinds],
            color=[_KIND_COLOURS[kind] for kind, _, _ in kinds],
            width=0.65,
        )
        ax.bar_label(bars, padding=2, fontsize=9)
        ax.set_ylabel("count in the run")
        ax.grid(axis="x", visible=False)
        ax.margins(y=0.16)
        ax.axvline(2.5, color="#999999", linestyle=":", linewidth=1)
        for x, text in ((1.0, "deliveries of associated products"), (3.5, "no products sent")):
            ax.text(
                x,
                1.0,
                text,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=9,
                color="#555555",
            )
        figure.suptitle(
            f"{heading}: {report.delivered} deliveries for {report.purchases} purchases "
            f"({report.deliveries_per_purchase:.2f} per purchase)",
            fontsize=11.5,
        )
        written += _save(figure, out_dir, "run-deliveries")
    return written
