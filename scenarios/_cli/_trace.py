"""``assocsim check``, ``diagram`` and ``replay``: the trace tools' parsers and commands.

The work is in :mod:`scenarios._trace` (:func:`~scenarios._trace._checks.check_trace_files`,
:func:`~scenarios.write_diagram`, :func:`~scenarios.replay_trace`); here the arguments are
read and the results printed. A trace that cannot be read is a
:class:`~scenarios.TraceError`: one line and exit status 2, from ``main``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import IO, Any

from actors import Observer
from scenarios._sim._progress import Progress
from scenarios._trace._checks import check_trace_files
from scenarios._trace._diagram import DEFAULT_MAX_MESSAGES, DiagramOptions, write_diagram
from scenarios._trace._reader import TraceReader
from scenarios._trace._replay import replay_trace, scenario_from_header

from ._types import duration

__all__ = ["add_trace_parsers", "check_command", "diagram_command", "replay_command"]


def add_trace_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``check``, ``diagram`` and ``replay`` commands."""
    check = commands.add_parser(
        "check",
        help="check every protocol invariant over a trace",
        description="Check every protocol invariant (binding, mismatch dual-send, timeout "
        "push, no delivery lost, no duplicate shown, privacy) over a trace written by "
        "assocsim run --trace; print a summary and each violation. Exit 0 if none, 1 if any, "
        "2 if the trace cannot be read.",
    )
    check.add_argument(
        "trace",
        metavar="TRACE",
        type=Path,
        nargs="+",
        help="a trace file (JSON lines); several (a field trial's processes) are merged by time",
    )
    check.add_argument("--json", action="store_true", help="print the result as one JSON object")
    diagram = commands.add_parser(
        "diagram",
        help="draw a trace as a sequence diagram (SVG)",
        description="Draw a trace as a Lamport/sequence diagram: one lane per actor, an "
        "arrow per message, lost messages crossed, crashes and partitions shaded. At most "
        "--max-messages arrows are drawn; pick a receipt or a time window for the rest.",
    )
    diagram.add_argument("trace", metavar="TRACE", type=Path, help="a trace file (JSON lines)")
    diagram.add_argument(
        "-o", "--output", type=Path, metavar="FILE.svg", help="where to write (default: TRACE.svg)"
    )
    diagram.add_argument("--receipt", metavar="R", help="only the messages of receipt R")
    diagram.add_argument(
        "--from",
        dest="start",
        metavar="T",
        type=duration,
        help="only messages sent at or after virtual time T (seconds, or 90s, 10m, 1.5h)",
    )
    diagram.add_argument(
        "--until",
        metavar="T",
        type=duration,
        help="only messages sent at or before virtual time T",
    )
    diagram.add_argument(
        "--max-messages",
        type=int,
        default=DEFAULT_MAX_MESSAGES,
        metavar="N",
        help=f"draw at most N arrows (default: {DEFAULT_MAX_MESSAGES})",
    )
    replay = commands.add_parser(
        "replay",
        help="re-run a trace's scenario and seed and compare the traces",
        description="Re-run the scenario, seed and scheduling recorded in a trace's header "
        "and compare the new trace with the file, event by event. Exit 0 if identical, 1 "
        "naming the first event that differs, 2 if the trace cannot be read.",
    )
    replay.add_argument("trace", metavar="TRACE", type=Path, help="a trace file (JSON lines)")


def check_command(args: argparse.Namespace, out: IO[str]) -> int:
    """``assocsim check TRACE...``: 0 if every invariant holds, 1 on a violation. Several
    traces (a field trial's processes) are checked merged by time."""
    paths: list[Path] = args.trace
    header, result = check_trace_files(paths)
    scenario, seed = header.get("scenario"), header.get("seed")
    # A field process's trace has no seed (nothing it did was drawn from one): say so.
    run = f"scenario {header.get('scenario', '?')}, " + (
        f"seed {seed}" if seed is not None else "no seed (field trial)"
    )
    if len(paths) == 1:
        path = paths[0]
        if args.json:
            fields = {"trace": str(path), "scenario": scenario, "seed": seed}
            out.write(json.dumps({**fields, **result.as_dict()}) + "\n")
        else:
            title = f"trace {path}: {run}"
            out.write(result.format_text(title) + "\n")
    elif args.json:
        fields = {"traces": [str(p) for p in paths], "scenario": scenario, "seed": seed}
        out.write(json.dumps({**fields, **result.as_dict()}) + "\n")
    else:
        names = " + ".join(str(path) for path in paths)
        title = f"traces {names} (merged by time): {run}"
        out.write(result.format_text(title) + "\n")
    return 0 if result.ok else 1


def diagram_command(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``assocsim diagram TRACE -o FILE.svg``: draw, say what was drawn, warn when capped."""
    trace: Path = args.trace
    options = DiagramOptions(args.receipt, args.start, args.until, args.max_messages)
    target: Path = args.output if args.output is not None else trace.with_suffix(".svg")
    diagram = write_diagram(trace, target, options)
    if diagram.notice is not None:
        err.write(f"assocsim: {diagram.notice}\n")
    lost = f", {diagram.lost} lost" if diagram.lost else ""
    out.write(
        f"{target}: {diagram.drawn} of {diagram.selected} messages{lost}, "
        f"{len(diagram.lanes)} actors ({options.describe()})\n"
    )
    return 0


def replay_command(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``assocsim replay TRACE``: 0 if the run reproduced the trace, 1 if not."""
    trace: Path = args.trace
    observers: list[Observer] = []
    progress: Progress | None = None
    if err.isatty():
        with TraceReader(trace) as reader:
            scenario, _, _ = scenario_from_header(reader.header, str(trace))
        horizon = scenario.duration + max(scenario.cloud.push_timeout, scenario.ask_delay[1])
        progress = Progress(err, purchases=scenario.purchases, horizon=horizon)
        observers.append(progress)
    try:
        result = replay_trace(trace, observers=observers)
    finally:
        if progress is not None:
            progress.close()
    out.write(result.format_text(trace) + "\n")
    return 0 if result.reproduced else 1
