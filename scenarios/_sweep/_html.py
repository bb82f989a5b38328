"""A sweep directory rendered as one self-contained HTML page (``assocsim report DIR``).

The page links nothing outside itself: the style is inline, the plots are the sweep's SVG
files inlined (their ids prefixed so that several can share a page), the tables are HTML.
It can be mailed to a colleague as it is. Every text taken from the directory is escaped.
"""

from __future__ import annotations

import html
import importlib.util
import json
import math
import re
import shlex
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from scenarios._model._durations import format_duration

from ._plots import (
    FEW_SEEDS,
    FIGURES,
    PLOT_INSTALL_HINT,
    SweepData,
    read_sweep,
    seeds_note,
    sweep_plot_names,
    write_sweep_plots,
)

__all__ = ["write_html_report"]

# The summary table's figures, in reading order; the rest go to a folded table.
_MAIN = (
    "purchases",
    "requests",
    "responses",
    "pushes",
    "dual_sends",
    "mismatches",
    "refusals",
    "withheld",
    "delivered",
    "deliveries_per_purchase",
    "lost",
    "duplicates",
    "violations",
    "latency_p50",
    "latency_p95",
    "latency_max",
)
_MUST_BE_ZERO = ("lost", "duplicates", "violations")
_MAX_RUN_ROWS = 2000
_DURATIONS = frozenset({"duration", "ask_delay", "cloud.push_timeout"})  # seconds in sweep.json

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1d1f; margin: 0 auto; padding: 1.5rem 2rem 3rem; max-width: 1500px; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid #ddd;
     padding-bottom: .2rem; }
nav a { margin-right: 1rem; }
a { color: #0060a0; }
.lead { color: #444; margin: .2rem 0 .8rem; }
pre, code { font: 13px/1.4 ui-monospace, "SF Mono", Menlo, Consolas, monospace; }
pre.cmd { background: #f4f5f7; border: 1px solid #e1e3e6; border-radius: 6px;
          padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: .4rem 0; }
th, td { padding: .3rem .55rem; border-bottom: 1px solid #e6e6e6; vertical-align: top; }
th { background: #f4f5f7; text-align: center; font-weight: 600; position: sticky; top: 0; }
th small { display: block; font-weight: 400; color: #666; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.knob { font-weight: 600; white-space: nowrap; background: #fafbfc; }
td .ci { display: block; color: #777; font-size: 11px; }
td.bad, p.bad { background: #fde8e8; color: #a00; font-weight: 600; }
p.bad { border-color: #e8a0a0; }
tbody tr:hover td { background: #f0f6ff; }
td.cmd { white-space: nowrap; font-family: ui-monospace, Menlo, Consolas, monospace;
         font-size: 12px; }
figure { margin: 1.2rem 0 2rem; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: #444; font-size: 14px; margin-top: .3rem; }
details { margin: .8rem 0; }
summary { cursor: pointer; font-weight: 600; }
.note { background: #fff8e5; border: 1px solid #f0d98a; border-radius: 6px;
        padding: .6rem .8rem; }
footer { margin-top: 2.5rem; color: #444; font-size: 14px; border-top: 1px solid #ddd;
         padding-top: .8rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _label(name: str) -> str:
    spec = FIGURES.get(name)
    return spec.label if spec else name.replace("_", " ")


def _unit(name: str) -> str:
    spec = FIGURES.get(name)
    if spec is None or spec.unit == "count":
        return "per run"
    return "h/m/s" if spec.unit == "time" else "per purchase"


def _format(name: str, value: float) -> str:
    if math.isnan(value):
        return "\u2013"
    spec = FIGURES.get(name)
    if spec is not None and spec.unit == "time":
        return format_duration(max(0.0, value))
    if spec is not None and spec.unit == "ratio":
        return f"{value:.3f}"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value)}"
    return f"{value:.1f}"


def _summary_cell(name: str, row: Mapping[str, str]) -> str:
    mean = _number(row.get(f"{name}_mean"))
    low = max(0.0, _number(row.get(f"{name}_ci95_low")))
    high = _number(row.get(f"{name}_ci95_high"))
    bad = name in _MUST_BE_ZERO and not math.isnan(mean) and mean > 0
    text = _e(_format(name, mean))
    if not (math.isnan(low) or math.isnan(high)) and (high - low) > 1e-9:
        text += f'<span class="ci">{_e(_format(name, low))}\u2013{_e(_format(name, high))}</span>'
    return f'<td class="num{" bad" if bad else ""}">{text}</td>'


def _table(head: str, rows: Iterable[str]) -> str:
    body = "\n".join(rows)
    return (
        f'<div class="scroll"><table>\n<thead>{head}</thead>\n'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _header(cells: Iterable[tuple[str, str]]) -> str:
    return (
        "<tr>"
        + "".join(
            f"<th>{_e(name)}{f'<small>{_e(unit)}</small>' if unit else ''}</th>"
            for name, unit in cells
        )
        + "</tr>"
    )


def _summary_table(sweep: SweepData, figures: Sequence[str]) -> str:
    head = _header(
        [("point", ""), *((k, "") for k in sweep.knobs), ("runs", "")]
        + [(_label(f), _unit(f)) for f in figures]
    )
    rows = []
    for row in sweep.summary:
        cells = [f'<td class="num">{_e(row.get("point", ""))}</td>']
        cells += [f'<td class="knob">{_e(row.get(k, ""))}</td>' for k in sweep.knobs]
        cells.append(f'<td class="num">{_e(row.get("runs", ""))}</td>')
        cells += [_summary_cell(f, row) for f in figures]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table(head, rows)


def _cloud(sweep: SweepData) -> str | None:
    """The variant cloud every run of the sweep ran (``--cloud``), or None."""
    cloud = sweep.meta.get("cloud")
    return cloud if isinstance(cloud, str) and cloud else None


def _judged(sweep: SweepData) -> bool:
    """Did the sweep judge its runs' promises (a sweep from before it did has no
    ``violations`` column: its page must not read as all clear)?"""
    return bool(sweep.results) and all("violations" in row for row in sweep.results)


def _rerun(sweep: SweepData, row: Mapping[str, str]) -> str:
    overrides = row.get("overrides")
    if overrides is None:
        sets = [f"{k}={row.get(k, '')}" for k in sweep.knobs]
    else:
        sets = [part for part in overrides.split(";") if part.strip()]
    words = ["assocsim", "run", sweep.scenario or "SCENARIO"]
    for assignment in sets:
        words += ["--set", assignment]
    words += ["--seed", row.get("seed", "N")]
    cloud = row.get("cloud") or _cloud(sweep)
    if cloud:
        words += ["--cloud", cloud]
    if "violations" in row:
        words.append("--check")
    return shlex.join(words)


def _runs_table(sweep: SweepData, figures: Sequence[str]) -> str:
    broken = any("broken" in row for row in sweep.results)
    head = _header(
        [("point", ""), *((k, "") for k in sweep.knobs), ("seed", "")]
        + [(_label(f), _unit(f)) for f in figures]
        + ([("promises broken", "invariant=violations")] if broken else [])
        + [("re-run this row", "")]
    )
    rows = []
    for row in sweep.results[:_MAX_RUN_ROWS]:
        cells = [f'<td class="num">{_e(row.get("point", ""))}</td>']
        cells += [f'<td class="knob">{_e(row.get(k, ""))}</td>' for k in sweep.knobs]
        cells.append(f'<td class="num">{_e(row.get("seed", ""))}</td>')
        for name in figures:
            value = _number(row.get(name))
            bad = name in _MUST_BE_ZERO and value > 0
            cells.append(f'<td class="num{" bad" if bad else ""}">{_e(_format(name, value))}</td>')
        if broken:
            text = row.get("broken", "")
            cells.append(f'<td class="cmd{" bad" if text else ""}">{_e(text)}</td>')
        cells.append(f'<td class="cmd">{_e(_rerun(sweep, row))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = len(sweep.results) - _MAX_RUN_ROWS
    note = f"<p>{more} more runs are in results.csv.</p>" if more > 0 else ""
    return _table(head, rows) + note


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    flat: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat += _flatten(value, f"{prefix}{key}.")
        else:
            flat.append((f"{prefix}{key}", value))
    return flat


def _base_table(sweep: SweepData) -> str:
    rows = []
    for key, value in _flatten(sweep.base):
        text = value if isinstance(value, str) else json.dumps(value)
        if key in _DURATIONS and isinstance(value, int | float | list):
            text = ", ".join(format_duration(float(v)) for v in _as_list(value))
        varied = " <small>(varied: see above)</small>" if key in sweep.knobs else ""
        rows.append(f"<tr><td><code>{_e(key)}</code></td><td>{_e(text)}{varied}</td></tr>")
    return _table(_header([("knob", ""), ("value", "")]), rows)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _meta(sweep: SweepData, key: str) -> list[str]:
    """A list of sweep.json beyond the knobs (``set``, ``seed_values``), as text."""
    value = sweep.meta.get(key)
    return [str(item) for item in value] if isinstance(value, list) else []


def _command(sweep: SweepData) -> str:
    words = ["assocsim", "sweep", sweep.scenario or "SCENARIO"]
    for assignment in _meta(sweep, "set"):
        words += ["--set", assignment]
    for knob in sweep.knobs:
        words += ["--vary", f"{knob}={','.join(sweep.values[knob])}"]
    words += ["--seeds", str(sweep.seeds)]
    cloud = _cloud(sweep)
    if cloud is not None:
        words += ["--cloud", cloud]
    if sweep.jobs is not None:
        words += ["--jobs", str(sweep.jobs)]
    words += ["--out", sweep.directory.name or str(sweep.directory)]
    return shlex.join(words)


# ------------------------------------------------------------------ inline SVG

_UNSAFE_SVG = re.compile(
    r"<script|<foreignObject|\son\w+\s*=|(?:href|src)\s*=\s*[\"'](?!#)|url\(\s*[\"']?(?!#)",
    re.IGNORECASE,
)


def _inline_svg(text: str, prefix: str, caption: str) -> str | None:
    """``text`` (a matplotlib SVG file) ready to sit in an HTML page; None if unsafe.

    Drops the XML prolog, comments and metadata (the namespace URIs are implicit in
    HTML), prefixes every id so several plots share a page, and makes the root scale.
    """
    text = re.sub(r"<\?xml.*?\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r'\sxmlns(?::\w+)?="[^"]*"', "", text)
    if _UNSAFE_SVG.search(text) or "<svg" not in text:
        return None
    text = re.sub(r'\sid="([^"]*)"', rf' id="{prefix}\1"', text)
    text = re.sub(r'((?:xlink:)?href)="#([^"]*)"', rf'\1="#{prefix}\2"', text)
    text = re.sub(r"url\(#([^)]*)\)", rf"url(#{prefix}\1)", text)

    def root(match: re.Match[str]) -> str:
        attributes = re.sub(r'\s(?:width|height|style)="[^"]*"', "", match.group(1))
        box = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) [\d.]+"', attributes)
        natural = f' style="max-width: {float(box.group(1)) * 4 / 3:.0f}px"' if box else ""
        return f'<svg{attributes}{natural} role="img" aria-label="{_e(caption)}">'

    return re.sub(r"<svg([^>]*)>", root, text, count=1).strip()


def _plots_section(sweep: SweepData, notify: Callable[[str], None] | None) -> str:
    names = sweep_plot_names(sweep)
    missing = [stem for stem, _ in names if not (sweep.directory / f"{stem}.svg").is_file()]
    # None drawn (a --no-plots sweep), or some (a sweep from before a plot was added).
    if missing and importlib.util.find_spec("matplotlib") is not None:
        started = time.perf_counter()
        if notify is not None:
            what = f"{len(missing)} plot{'s' * (len(missing) > 1)} missing"
            what = "no plots" if len(missing) == len(names) else what
            notify(f"{what} in {sweep.directory}: drawing all {len(names)} first")
        written = write_sweep_plots(sweep.directory)
        if notify is not None:
            notify(f"drew {len(written)} files in {time.perf_counter() - started:.1f} s")
    elif len(missing) == len(names):
        return (
            '<p class="note">No plots in this directory, and matplotlib is not installed '
            f"to draw them: <code>{_e(PLOT_INSTALL_HINT)}</code>, then run "
            f"<code>{_e(shlex.join(['assocsim', 'report', str(sweep.directory)]))}</code>"
            " again.</p>"
        )
    parts = []
    for index, (stem, caption) in enumerate(names):
        path = sweep.directory / f"{stem}.svg"
        if not path.is_file():
            continue
        svg = _inline_svg(path.read_text(encoding="utf-8"), f"p{index}-", caption)
        if svg is None:
            parts.append(
                f'<p class="note">{_e(path.name)}: not inlined, it holds active or '
                "outside content.</p>"
            )
            continue
        parts.append(
            f'<figure id="{_e(stem)}">\n{svg}\n<figcaption>{_e(caption)} '
            f"(<code>{_e(stem)}.png</code>, <code>{_e(stem)}.svg</code>)</figcaption></figure>"
        )
    return "\n".join(parts)


# ------------------------------------------------------------------ the verdict

_JUDGED_TEXT = (
    "Every run was judged by every invariant of <code>assocsim check</code> (as "
    "<code>assocsim run --check</code> judges a run): <em>violations</em> counts the "
    "promises a run broke (a check cut short counts one), <em>lost</em> and "
    "<em>duplicates</em> are the deliveries among them; each is red when not zero."
)
_UNJUDGED_TEXT = (
    "<strong>This sweep's promises were not judged</strong> (its results.csv has no "
    "<em>violations</em> column: a sweep from before assocsim judged them), so no figure "
    "here says that a promise was kept; <em>lost</em> and <em>duplicates</em> are red when "
    "not zero."
)


def _verdict(sweep: SweepData) -> str:
    """The page's first word on the promises: how many runs broke which, or that none
    did, or that they were not judged."""
    if not _judged(sweep):
        return f'<p class="note bad">{_UNJUDGED_TEXT}</p>'
    runs = sweep.results
    broke = [row for row in runs if _number(row.get("violations")) != 0]
    if not broke:
        return (
            f'<p class="lead">Promises: every invariant of <code>assocsim check</code> '
            f"judged in every run; none broken in any of the {len(runs)} runs.</p>"
        )
    counts: dict[str, int] = {}
    for row in broke:
        for part in row.get("broken", "").split():
            name, _, count = part.partition("=")
            counts[name] = counts.get(name, 0) + (int(count) if count.isdigit() else 1)
    order = sorted(counts.items(), key=lambda item: -item[1])
    what = ", ".join(f"{name} {count}" for name, count in order) or "see results.csv"
    return (
        f'<p class="note bad">Promises broken: {len(broke)} of {len(runs)} runs broke '
        f"promises ({_e(what)} violations); the runs table names each run's, and its "
        "re-run command lists every violation.</p>"
    )


# ------------------------------------------------------------------ the page


def write_html_report(out_dir: Path, *, notify: Callable[[str], None] | None = None) -> Path:
    """Render the sweep in ``out_dir`` into ``out_dir/report.html``; its path.

    Draws the plots first if any is missing from the directory and matplotlib is
    installed (saying so, before and after, through ``notify`` if given); without it the
    page shows those there are, or says how to get them. Raises :class:`~scenarios.ScenarioError` if
    ``out_dir`` has no ``results.csv`` or ``summary.csv``.
    """
    sweep = read_sweep(Path(out_dir))
    figures = sweep.figures()
    main = [f for f in _MAIN if f in figures]
    other = [f for f in figures if f not in main]
    runs = len(sweep.results)
    points = len(sweep.summary)
    title = f"assocsim sweep: {sweep.scenario}"
    knobs = ", ".join(f"{k} \u2208 {{{', '.join(sweep.values[k])}}}" for k in sweep.knobs)
    seeds = _meta(sweep, "seed_values")
    seeds_text = f" (seeds {', '.join(seeds)})" if seeds else ""
    sets = _meta(sweep, "set")
    sets_text = f", with {', '.join(sets)} for every run" if sets else ""
    example = _rerun(sweep, sweep.results[0]) if sweep.results else None
    plots = _plots_section(sweep, notify)
    cloud = _cloud(sweep)
    cloud_text = f", every run with the variant cloud {cloud}" if cloud else ""

    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="lead">{points} points \u00d7 {sweep.seeds} seeds{_e(seeds_text)} = '
        f"{runs} runs, varying {_e(knobs) or 'nothing'}{_e(sets_text)}{_e(cloud_text)}.</p>",
        f'<pre class="cmd">{_e(_command(sweep))}</pre>',
        _verdict(sweep),
        '<nav><a href="#summary">Summary</a><a href="#plots">Plots</a>'
        '<a href="#runs">Runs</a><a href="#rerun">Re-running a row</a></nav>',
        '<h2 id="summary">Summary per point</h2>',
        f"<p>The mean over the {sweep.seeds} seeds of each point; under it, in grey, the "
        "95 % interval of that mean (none when every seed gave the same figure). Counts are "
        "per run; times are virtual time from purchase to a phone's first delivery. "
        f"{_JUDGED_TEXT if _judged(sweep) else _UNJUDGED_TEXT}</p>",
    ]
    if sweep.seeds < FEW_SEEDS:
        body.append(f'<p class="note">{_e(seeds_note(sweep.seeds))}.</p>')
    body += [
        _summary_table(sweep, main),
    ]
    if other:
        body += [
            f"<details><summary>Other figures ({_e(', '.join(_label(f) for f in other))})"
            "</summary>",
            _summary_table(sweep, other),
            "</details>",
        ]
    body += ['<h2 id="plots">Plots</h2>', plots, '<h2 id="runs">Runs</h2>']
    body += [
        f"<details><summary>All {runs} runs (results.csv)</summary>",
        _runs_table(sweep, main),
        "</details>",
    ]
    if sweep.base:
        body += [
            "<details><summary>Base scenario (before the varied knobs)</summary>",
            _base_table(sweep),
            "</details>",
        ]
    rerun = (
        "Every run is deterministic for its scenario and seed: each row of "
        "<code>results.csv</code> can be re-run alone, with the same figures, by giving the "
        "scenario, the row's knob values as <code>--set</code> overrides, its seed and the "
        "sweep's variant cloud if any, with <code>--check</code> to list the violations: "
        "<code>assocsim run SCENARIO --set KEY=VALUE ... --seed N [--cloud MODULE:FACTORY] "
        "--check</code>"
    )
    if example is not None:
        rerun += f', e.g. for the first row:</p>\n<pre class="cmd">{_e(example)}</pre>'
    else:
        rerun += ".</p>"
    body.append(
        f'<footer id="rerun"><p>{rerun}\n<p>Add <code>--json</code> for the figures '
        "as JSON, <code>--plots DIR</code> for that run's plots.</p></footer>"
    )

    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    target = sweep.directory / "report.html"
    target.write_text(page, encoding="utf-8")
    return target
