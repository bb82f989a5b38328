"""``assocsim explore``: its parser and command.

The work is in :mod:`scenarios._explore` (:func:`~scenarios.explore`,
:func:`~scenarios.replay_counterexample`); here the arguments are read, progress is
printed to stderr, and the result (text or ``--json``) to stdout.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import IO, Any

from scenarios._explore._api import ExploreResult, explore, replay_counterexample
from scenarios._explore._search import Outcome, SearchProgress, Strategy
from scenarios._explore._world import SETTINGS, WORLDS, CrashPoints
from scenarios._model._overrides import split_assignment

__all__ = ["EXIT_PARTIAL", "add_explore_parser", "explore_command"]

EXIT_PARTIAL = 3  # --max-states or Ctrl-C: nothing proven about the states not visited


def _count(text: str, least: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {least}, got {text!r}")
    return value


def _positive(text: str) -> int:
    return _count(text, least=1)


def add_explore_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``explore`` command."""
    parser = commands.add_parser(
        "explore",
        help="visit every interleaving of a small world and check every promise",
        description="Exhaustive exploration (docs/explore.md): every order of deliveries, "
        "every loss, duplication and crash within the budgets, timers in deadline order, "
        "of a small built-in world; every path judged by assocsim check's invariants, "
        "sometimes-properties that must be reached. Exit 0 if exhausted with no violation "
        "and every sometimes-property reached, 1 on a violation or an unreached one, "
        f"{EXIT_PARTIAL} if stopped early (--max-states, Ctrl-C), 2 on bad input.",
    )
    parser.add_argument(
        "world",
        metavar="WORLD",
        nargs="?",
        help=f"a built-in world: {', '.join(WORLDS)} (omit with --replay)",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"change a knob of the world: {', '.join(SETTINGS)} (e.g. mismatch_policy=reject)",
    )
    parser.add_argument(
        "--max-loss", type=_count, default=0, metavar="N", help="messages lost per run (0)"
    )
    parser.add_argument(
        "--max-dup", type=_count, default=0, metavar="N", help="messages duplicated per run (0)"
    )
    parser.add_argument(
        "--max-crashes", type=_count, default=0, metavar="N", help="crashes per run (0)"
    )
    parser.add_argument(
        "--crash-points",
        choices=[str(c) for c in CrashPoints],
        default=str(CrashPoints.BETWEEN),
        help="where a crash falls: between two steps of any party, inside a cloud step after "
        "any store write, or anywhere (both) (default: between)",
    )
    parser.add_argument(
        "--strategy",
        choices=[str(s) for s in Strategy],
        default="bfs",
        help="bfs (default: shortest counterexamples) or dfs",
    )
    parser.add_argument(
        "--max-states",
        type=_positive,
        metavar="N",
        help="stop after N distinct states with a partial result",
    )
    symmetry = parser.add_mutually_exclusive_group()
    symmetry.add_argument(
        "--no-symmetry",
        dest="symmetry",
        action="store_false",
        default=None,
        help="do not merge states that differ only by swapping phones (and shops) that play "
        "the same role (the default with --cloud: a variant may treat them unlike)",
    )
    symmetry.add_argument(
        "--symmetry",
        dest="symmetry",
        action="store_true",
        default=None,
        help="merge them (the default for the reference cloud); with --cloud, assumes the "
        "variant treats phones of one role alike",
    )
    parser.add_argument(
        "--cloud",
        metavar="MODULE:FACTORY",
        help="explore this cloud variant instead of the reference (as assocsim run --cloud)",
    )
    parser.add_argument(
        "--counterexample",
        type=Path,
        metavar="FILE.jsonl",
        help="where to write a counterexample trace (default: explore-WORLD.jsonl)",
    )
    parser.add_argument(
        "--replay",
        type=Path,
        metavar="TRACE",
        help="re-execute the steps a counterexample trace records, compare with the file "
        "and check the result",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def explore_command(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``assocsim explore``: the exit status is described in the parser's description."""
    if args.replay is not None:
        return _replay(args, out)
    if args.world is None:
        err.write(
            f"assocsim explore: error: name a WORLD ({', '.join(WORLDS)}) or --replay TRACE\n"
        )
        return 2

    def progress(p: SearchProgress) -> None:
        err.write(
            f"explore: {p.states:,} states ({p.states_per_second:,.0f}/s), depth {p.depth}, "
            f"frontier {p.frontier:,}\n"
        )
        err.flush()

    settings = dict(
        split_assignment(item, example="mismatch_policy=reject") for item in args.settings
    )
    result = explore(
        args.world,
        settings=settings,
        loss=args.max_loss,
        duplication=args.max_dup,
        crashes=args.max_crashes,
        crash_points=args.crash_points,
        strategy=args.strategy,
        max_states=args.max_states,
        symmetry=args.symmetry,
        cloud=args.cloud,
        progress=progress,
    )
    trace: Path | None = None
    if result.violations:
        trace = result.write_counterexample(
            args.counterexample or Path(f"explore-{result.world.name}.jsonl")
        )
    if args.json:
        fields = result.as_dict()
        if trace is not None:
            fields["trace"] = str(trace)
            fields["replay"] = result.replay_command(trace)
        out.write(json.dumps(fields) + "\n")
    else:
        out.write(result.format_text() + "\n")
        if trace is not None:
            out.write(
                f"counterexample written to {trace} (assocsim check / assocsim diagram read it)"
                f"\nreplay it: {result.replay_command(trace)}\n"
            )
    return _status(result)


def _status(result: ExploreResult) -> int:
    if result.violations or (result.outcome is Outcome.EXHAUSTED and not result.ok):
        return 1
    return 0 if result.ok else EXIT_PARTIAL


def _replay(args: argparse.Namespace, out: IO[str]) -> int:
    identical, result = replay_counterexample(args.replay)
    same = "identical to" if identical else "DIFFERENT from"
    if args.json:
        fields = {"trace": str(args.replay), "identical": identical, **result.as_dict()}
        out.write(json.dumps(fields) + "\n")
    else:
        out.write(
            f"replayed {len(result.path)} steps of {args.replay} (world {result.world.name}): "
            f"the trace is {same} the file\n"
        )
        out.write("\n".join(result.violations) + "\n" if result.violations else "no violations\n")
    if not identical:
        return 1
    return 1 if result.violations else 0
