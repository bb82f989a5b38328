"""The ``assocsim`` command line.

Every bad argument or bad scenario ends in one line on stderr naming the problem and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, NoReturn

from actors import JsonlTraceWriter, Observer
from protocol import AssocsimError

from ._errors import ScenarioError
from ._progress import Progress
from ._runner import run_scenario
from ._scenario import builtin_scenarios, load_scenario, scenario_to_dict

__all__ = ["main"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="assocsim",
        description="Simulate the CN103177372A associated-products protocol "
        "(POS -> cloud -> phone) as trio actors in virtual time.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    run = commands.add_parser(
        "run",
        help="run a scenario and print its report",
        description="Run a scenario (a built-in name or a TOML file) in virtual time and "
        "print its report.",
    )
    run.add_argument("scenario", metavar="NAME_OR_PATH", help="built-in scenario name or file")
    run.add_argument("--seed", type=int, help="seed for every random choice (default: the file's)")
    run.add_argument("--json", action="store_true", help="print the report as one JSON object")
    run.add_argument(
        "--scheduling",
        choices=("inline", "tasks"),
        default="inline",
        help="inline: one trio task drives every actor (fast, the default); "
        "tasks: one trio task per actor over trio memory channels",
    )
    run.add_argument(
        "--trace",
        metavar="FILE.jsonl",
        type=Path,
        help="write every message sent and received as JSON lines",
    )
    commands.add_parser(
        "scenarios",
        help="list the built-in scenarios",
        description="List the built-in scenarios with their descriptions.",
    )
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("assocsim")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def _run(args: argparse.Namespace, out: IO[str]) -> int:
    scenario = load_scenario(args.scenario)
    seed = scenario.seed if args.seed is None else args.seed
    observers: list[Observer] = []
    trace_file: IO[str] | None = None
    if args.trace is not None:
        try:
            trace_file = args.trace.open("w", encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot write trace {args.trace}: {exc.strerror}") from None
        header = {
            "scenario": scenario.name,
            "seed": seed,
            "scheduling": args.scheduling,
            "settings": scenario_to_dict(scenario),
        }
        observers.append(JsonlTraceWriter(trace_file, header))
    progress = None
    if sys.stderr.isatty():
        horizon = scenario.duration + max(scenario.cloud.push_timeout, scenario.ask_delay[1])
        progress = Progress(sys.stderr, purchases=scenario.purchases, horizon=horizon)
        observers.append(progress)
    started = time.perf_counter()
    try:
        result = run_scenario(scenario, seed, observers=observers, scheduling=args.scheduling)
    except OSError as exc:  # the trace file could not be written to the end
        raise ScenarioError(f"cannot write trace {args.trace}: {exc.strerror or exc}") from None
    finally:
        if progress is not None:
            progress.close()
        if trace_file is not None:
            trace_file.close()
    wall = time.perf_counter() - started
    if args.json:
        out.write(json.dumps(result.report.as_dict()) + "\n")
    else:
        out.write(result.report.format_table() + "\n")
        out.write(f"(ran in {wall:.2f} s of wall time)\n")
    return 0


def _scenarios(out: IO[str]) -> int:
    found = builtin_scenarios()
    width = max(map(len, found), default=0)
    for name, description in found.items():
        out.write(f"{name:<{width}}  {description}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assocsim`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args, sys.stdout)
        return _scenarios(sys.stdout)
    except AssocsimError as exc:
        sys.stderr.write(f"assocsim: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("assocsim: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
