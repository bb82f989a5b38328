"""``assocsim check``, ``diagram``, ``replay`` and ``find``: the trace tools' parsers and
commands.

The work is in :mod:`scenarios._trace` (:func:`~scenarios._trace._checks.check_trace_files`,
:func:`~scenarios.write_diagram`, :func:`~scenarios.replay_trace`); here the arguments are
read and the results printed. A trace that cannot be read is a
:class:`~scenarios.TraceError`: one line and exit status 2, from ``main``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from pathlib import Path
from typing import IO, Any

from actors import Observer
from scenarios._sim._progress import Progress
from scenarios._trace._checks import check_status, check_trace_files
from scenarios._trace._diagram import DEFAULT_MAX_MESSAGES, DiagramOptions, write_diagram
from scenarios._trace._find import DEFAULT, FindOptions, find_receipts
from scenarios._trace._reader import TraceReader
from scenarios._trace._replay import replay_trace, scenario_from_header

from ._types import duration

__all__ = [
    "add_trace_parsers",
    "check_command",
    "diagram_command",
    "find_command",
    "replay_command",
]


def add_trace_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``check``, ``diagram``, ``replay`` and ``find`` commands."""
    check = commands.add_parser(
        "check",
        help="check every protocol invariant over a trace",
        description="Check every protocol invariant (binding, mismatch dual-send, timeout "
        "push, no delivery lost, no duplicate shown, privacy, refusal justified) over a trace "
        "written by "
        "assocsim run --trace; print a summary and each violation. Exit 0 if none, 1 if any, "
        "2 if the trace cannot be read or is incomplete (its writer stopped at a bound, or a "
        "run's trace names fewer receipts than its header's purchases), or gave no invariant "
        "anything to check (no purchase, request or subscription: nothing judged is no "
        "all-clear). An incomplete trace whose events already break a promise exits 1 with "
        "those violations and why it is incomplete.",
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
    diagram.add_argument(
        "--receipt",
        metavar="R",
        help="only the messages of receipt R: MERCHANT/RECEIPT as the trace names it, or a "
        "receipt id alone for that id at every merchant",
    )
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
        "naming the first event that differs, 2 if the trace cannot be read or is incomplete.",
    )
    replay.add_argument("trace", metavar="TRACE", type=Path, help="a trace file (JSON lines)")
    find = commands.add_parser(
        "find",
        help="list the receipts of a trace worth a look, with a reason each",
        description="List the receipts of a trace that meet any of the criteria given (all "
        "of them with --every), one line each with why, ready for assocsim diagram TRACE "
        "--receipt R and assocsim replay TRACE; a broken promise that names no receipt (a "
        "subscription never answered) is listed after them as (no receipt). With no "
        "criterion: every one but --most-resent. Exit 0 if anything is listed, 1 if "
        "nothing, 2 if the trace cannot be read or is incomplete.",
    )
    find.add_argument("trace", metavar="TRACE", type=Path, help="a trace file (JSON lines)")
    find.add_argument(
        "--mismatch",
        action="store_true",
        help="a phone asked under another id than the one its POS named (step 505)",
    )
    find.add_argument(
        "--crash-affected",
        action="store_true",
        help="an actor of the receipt crashed while it was in play, or a message of it was "
        "dropped because its recipient was down",
    )
    find.add_argument(
        "--most-resent",
        type=int,
        metavar="N",
        help="the N receipts with the most re-sent messages",
    )
    find.add_argument(
        "--lost",
        action="store_true",
        help="a promise not kept at the end (the report's lost: check's no-delivery-lost)",
    )
    find.add_argument(
        "--duplicated",
        action="store_true",
        help="a delivery beyond the promises (the report's duplicates)",
    )
    find.add_argument(
        "--gave-up", action="store_true", help="a sender gave up re-sending one of its messages"
    )
    find.add_argument(
        "--violations",
        action="store_true",
        help="any invariant of assocsim check broken for the receipt",
    )
    find.add_argument(
        "--every",
        action="store_true",
        help="list only the receipts that meet every criterion given (default: any)",
    )
    find.add_argument("--json", action="store_true", help="print the result as one JSON object")


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
    return check_status(result)


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


def find_command(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``assocsim find TRACE [criteria]``: 0 if anything is listed, 1 if nothing."""
    trace: Path = args.trace
    options = FindOptions(
        mismatch=args.mismatch,
        crash_affected=args.crash_affected,
        most_resent=args.most_resent,
        lost=args.lost,
        duplicated=args.duplicated,
        gave_up=args.gave_up,
        violations=args.violations,
        every=args.every,
    )
    found = find_receipts(trace, options)
    criteria = (options if options.asked() else DEFAULT).asked()
    if args.json:
        document = {
            "trace": str(trace),
            "criteria": list(criteria),
            "every": options.every,
            "receipts": [f.as_dict() for f in found],
        }
        out.write(json.dumps(document) + "\n")
    else:
        try:
            out.writelines(f.line() + "\n" for f in found)
            out.flush()
        except BrokenPipeError:  # `assocsim find TRACE | head`: the reader has enough
            _silence(out)
            return 0 if found else 1
        receipts = [f.receipt for f in found if f.receipt is not None]
        unnamed = len(found) - len(receipts)
        if found:
            listed = [
                f"{n} {what}{'s' * (n > 1)}"
                for n, what in ((len(receipts), "receipt"), (unnamed, "promise of no receipt"))
                if n
            ]
            draw = (
                shlex.join(["assocsim", "diagram", str(trace), "--receipt", receipts[0]])
                if receipts
                else shlex.join(["assocsim", "check", str(trace)])
            )
            err.write(
                f"assocsim: {' and '.join(listed)} ({', '.join(criteria)}); "
                f"{'draw one' if receipts else 'every verdict'}: {draw}"
                f"; re-run the whole trace: {shlex.join(['assocsim', 'replay', str(trace)])}\n"
            )
        else:
            err.write(f"assocsim: no receipt of {trace} meets {', '.join(criteria)}\n")
    return 0 if found else 1


def _silence(out: IO[str]) -> None:
    """Point a closed pipe's file descriptor at /dev/null: Python's final flush of it
    then writes nowhere instead of printing a BrokenPipeError."""
    try:
        descriptor = out.fileno()
    except (OSError, ValueError):
        return  # not a file (a test's StringIO)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def replay_command(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``assocsim replay TRACE``: 0 if the run reproduced the trace, 1 if not."""
    trace: Path = args.trace
    observers: list[Observer] = []
    progress: Progress | None = None
    if err.isatty():
        with TraceReader(trace) as reader:
            scenario, _, _ = scenario_from_header(reader.header, str(trace))
        progress = Progress(err, purchases=scenario.purchases, horizon=scenario.horizon)
        observers.append(progress)
    try:
        result = replay_trace(trace, observers=observers)
    finally:
        if progress is not None:
            progress.close()
    out.write(result.format_text(trace) + "\n")
    return 0 if result.reproduced else 1
