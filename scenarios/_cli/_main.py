"""The ``assocsim`` command line: the parser, ``run``, ``sweep``, ``report`` and
``scenarios`` here; the trace tools (``check``, ``diagram``, ``replay``) in ``_trace.py``,
the field trials (``serve``, ``pos``, ``phone``, ``run --transport tcp``) in ``_field.py``,
``reco`` in ``_reco.py``: every argparse parser of assocsim is in this sub-package.

Every bad argument or bad scenario ends in one line on stderr naming the problem and exit
status 2, never a traceback. Plots are optional (matplotlib, the ``plot`` extra): without
them ``run --plots`` and ``sweep`` say how to get them and go on.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from actors import CrashTally, IdleFault, JsonlTraceWriter, Observer, idle_faults
from protocol import AssocsimError
from scenarios._model._errors import ScenarioError
from scenarios._model._runspec import RunSpec, rerun_header
from scenarios._model._scenario import Scenario, builtin_scenarios
from scenarios._model._workload import idle_workload_knobs
from scenarios._sim._cloud_factory import load_cloud_factory
from scenarios._sim._progress import Progress, SweepBar, SweepLines, SweepProgress
from scenarios._sim._runner import RunResult, run_scenario
from scenarios._sweep._cluster import connect_cluster
from scenarios._sweep._html import write_html_report
from scenarios._sweep._plots import write_run_plots, write_sweep_plots
from scenarios._sweep._run import cloud_factory, parse_vary, plan_sweep, run_sweep
from scenarios._trace._checks import TraceChecker, check_status
from scenarios._trace._replay import DeterminismResult, check_determinism

from ._explore import add_explore_parser, explore_command
from ._field import (
    add_client_parsers,
    add_serve_parser,
    add_tcp_run_options,
    phone_command,
    pos_command,
    refuse_tcp_options,
    run_tcp_command,
    serve_command,
)
from ._reco import add_reco_parser, run_reco
from ._trace import (
    add_trace_parsers,
    check_command,
    diagram_command,
    find_command,
    replay_command,
)

__all__ = ["main"]

EXIT_USAGE = 2
DEFAULT_SEEDS = 5
PLOTS_SKIPPED = "plots skipped: install the plot extra: pip install 'assocsim[plot]'"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No option by a prefix of its name: `sweep --seed 3` was read as `--seeds 3`.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

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
    _set_option(run)
    add_tcp_run_options(run)  # --transport tcp and its options
    run.add_argument(
        "--plots",
        metavar="DIR",
        type=Path,
        help="write the run's plots (PNG and SVG) into DIR (needs the plot extra)",
    )
    run.add_argument(
        "--check-determinism",
        action="store_true",
        help="run the scenario twice and compare the traces event by event; "
        "exit 1 naming the first event that differs",
    )
    run.add_argument(
        "--cloud",
        metavar="MODULE:FACTORY",
        help="run a variant of the protocol: FACTORY(store, recommender, config) in MODULE "
        "(importable from the current directory or PYTHONPATH) builds the cloud's machine",
    )
    run.add_argument(
        "--check",
        action="store_true",
        help="check every protocol invariant over the run; exit 1 listing the violations",
    )
    sweep = commands.add_parser(
        "sweep",
        help="run a scenario over a grid of knob values and seeds",
        description="Run a scenario at every combination of the --vary values, each for "
        "--seeds seeds (the scenario's seed, +1, ...), over --jobs processes; write "
        "results.csv, summary.csv, latencies.csv and sweep.json into --out, and the plots "
        "if matplotlib is installed. Every run is judged by every invariant of assocsim "
        "check (as run --check); if any run broke a promise, lost deliveries included, "
        "the files are still written, a line per such point goes to stderr and the exit "
        "status is 1.",
    )
    sweep.add_argument("scenario", metavar="NAME_OR_PATH", help="built-in scenario name or file")
    sweep.add_argument(
        "--vary",
        metavar="KEY=V1,V2,...",
        action="append",
        default=[],
        help="a knob and its values (repeatable; the points are every combination), "
        "e.g. cloud.push_timeout=1m,5m,10m",
    )
    sweep.add_argument(
        "--seeds",
        type=int,
        default=DEFAULT_SEEDS,
        metavar="N",
        help=f"seeds per point (default: {DEFAULT_SEEDS})",
    )
    sweep.add_argument(
        "--jobs",
        type=int,
        metavar="J",
        help="worker processes (default: the machine's cores; 1: no worker processes)",
    )
    sweep.add_argument(
        "--out", type=Path, metavar="DIR", help="output directory (default: sweep-NAME)"
    )
    _set_option(sweep)
    sweep.add_argument(
        "--no-plots", action="store_true", help="write the CSVs and sweep.json only, no plots"
    )
    sweep.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the sweep on the Dask cluster of this scheduler (needs the cluster extra; "
        "its workers need assocsim installed) instead of --jobs local processes",
    )
    sweep.add_argument(
        "--cloud",
        metavar="MODULE:FACTORY",
        help="run every run with a variant of the protocol, as run --cloud does (MODULE "
        "importable from the current directory or PYTHONPATH, by every worker too)",
    )
    report = commands.add_parser(
        "report",
        help="render a sweep directory into one HTML page",
        description="Render the sweep in DIR (what assocsim sweep wrote) into "
        "DIR/report.html: tables and plots in one self-contained page.",
    )
    report.add_argument("directory", metavar="DIR", type=Path, help="a sweep's --out directory")
    commands.add_parser(
        "scenarios",
        help="list the built-in scenarios",
        description="List the built-in scenarios with their descriptions.",
    )
    add_trace_parsers(commands)
    add_explore_parser(commands)
    add_reco_parser(commands)
    add_serve_parser(commands)  # field trials: serve cloud, pos, phone
    add_client_parsers(commands)
    return parser


def _set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a knob of the scenario (repeatable), e.g. cloud.push_timeout=10m",
    )


def _version() -> str:
    try:
        return importlib.metadata.version("assocsim")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def _plots_if_possible(draw: Callable[[], list[Path]]) -> list[Path]:
    """The files ``draw()`` writes, or none and a hint on stderr without matplotlib."""
    if importlib.util.find_spec("matplotlib") is None:
        sys.stderr.write(PLOTS_SKIPPED + "\n")
        return []
    return draw()


def _make_dir(directory: Path, what: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"cannot write {what} into {directory}: {exc.strerror}") from None


def _run(args: argparse.Namespace, out: IO[str]) -> int:
    run = RunSpec.load(args.scenario, args.set, args.seed)
    scenario, seed = run.scenario, run.seed
    if args.transport == "tcp":
        return run_tcp_command(args, run, out)
    refuse_tcp_options(args)
    cloud = None if args.cloud is None else load_cloud_factory(args.cloud)
    if args.plots is not None:
        _make_dir(args.plots, "plots")
    observers, crash_tally, checker = _observers(scenario, check=args.check)
    trace_file: IO[str] | None = None
    header = rerun_header(run, {"scheduling": args.scheduling})
    if args.cloud is not None:
        header["cloud"] = args.cloud  # so replay runs the same variant
    if args.trace is not None:
        try:
            trace_file = args.trace.open("w", encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot write trace {args.trace}: {exc.strerror}") from None
        observers.append(JsonlTraceWriter(trace_file, header))
    progress = None
    if sys.stderr.isatty():
        progress = Progress(sys.stderr, purchases=scenario.purchases, horizon=scenario.horizon)
        observers.append(progress)
    started = time.perf_counter()
    determinism: DeterminismResult | None = None
    try:
        if args.check_determinism:
            result, determinism = check_determinism(
                scenario,
                seed,
                scheduling=args.scheduling,
                header=header,
                observers=observers,
                cloud=cloud,
                second_process=_same_run(run, args),
            )
        else:
            result = run_scenario(
                scenario, seed, observers=observers, scheduling=args.scheduling, cloud=cloud
            )
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
    verdicts = sys.stderr if args.json else out
    _warn(idle_faults(result.world, scenario.crash, crash_tally))
    _warn(idle_workload_knobs(scenario, result.workload))
    if args.plots is not None:
        _run_plots(result, args.plots, verdicts)
    return _verdicts(determinism, checker, f"scenario {scenario.name}, seed {seed}", verdicts)


def _same_run(run: RunSpec, args: argparse.Namespace) -> list[str]:
    """The command of this run (its scenario, overrides, seed, scheduling and cloud) for
    a child process: ``--check-determinism``'s second run."""
    argv = [sys.executable, "-m", "scenarios", "run", run.source, "--seed", str(run.seed)]
    for override in run.overrides:
        argv += ["--set", override]
    argv += ["--scheduling", args.scheduling]
    if args.cloud is not None:
        argv += ["--cloud", args.cloud]
    return argv


def _observers(
    scenario: Scenario, *, check: bool
) -> tuple[list[Observer], CrashTally, TraceChecker | None]:
    """A run's own observers: the crash tally of the idle-fault warnings (when the scenario
    crashes something) and the invariants' checker (``--check``)."""
    crash_tally = CrashTally()
    observers: list[Observer] = [crash_tally] if scenario.crash else []
    checker = TraceChecker(scenario) if check else None
    if checker is not None:
        observers.append(checker)
    return observers, crash_tally, checker


def _warn(idle: Sequence[IdleFault] | Sequence[str]) -> None:
    """One ``assocsim: warning:`` line on stderr per configured fault that did nothing."""
    for fault in idle:
        sys.stderr.write(f"assocsim: warning: {fault}\n")


def _verdicts(
    determinism: DeterminismResult | None,
    checker: TraceChecker | None,
    title: str,
    out: IO[str],
) -> int:
    """Print the run-twice comparison and the invariants' check: 1 if either failed."""
    status = 0
    if determinism is not None:
        out.write(determinism.format_text() + "\n")
        status = 0 if determinism.deterministic else 1
    if checker is not None:
        checked = checker.result()
        out.write(checked.format_text(f"check: {title}") + "\n")
        status = max(status, check_status(checked))
    return status


def _run_plots(result: RunResult, directory: Path, out: IO[str]) -> None:
    written = _plots_if_possible(lambda: write_run_plots(result, directory))
    if written:
        out.write(f"plots: {_files(written)}\n")


def _files(paths: Sequence[Path]) -> str:
    return ", ".join(str(path) for path in paths)


def _cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _sweep(args: argparse.Namespace, out: IO[str]) -> int:
    started = time.perf_counter()
    vary = parse_vary(args.vary)
    run = RunSpec.load(args.scenario, args.set)  # once: a bad --set is told before anything
    name = run.scenario.name
    out_dir: Path = args.out if args.out is not None else Path(f"sweep-{name}")
    if args.scheduler is not None and args.jobs is not None:
        raise ScenarioError("--jobs and --scheduler: give one (the cluster sets the workers)")
    if args.cloud is not None:  # a bad one is told before anything runs (or connects)
        cloud_factory(args.cloud)
    jobs: int = args.jobs if args.jobs is not None else _cores()
    progress: SweepProgress = (
        SweepBar(sys.stderr) if sys.stderr.isatty() else SweepLines(sys.stderr)
    )
    if args.scheduler is not None:  # a bad --vary is told before waiting for a cluster
        plan_sweep(run, vary)
    with contextlib.ExitStack() as stack:
        executor = None
        where = f"{jobs} jobs"
        if args.scheduler is not None:
            cluster = stack.enter_context(connect_cluster(args.scheduler))
            executor, jobs = cluster.executor, cluster.threads
            where = f"{jobs} threads on {cluster.address}"
        result = run_sweep(
            run,
            vary,
            args.seeds,
            jobs,
            out_dir,
            progress=progress,
            executor=executor,
            cloud=args.cloud,
        )
    runs = len(result.rows)
    out.write(
        f"sweep {name}: {len(result.points)} points x {len(result.seeds)} seeds = {runs} runs "
        f"in {result.wall_time:.1f} s ({runs / max(result.wall_time, 1e-9):.1f} runs/s, "
        f"{where})\n"
    )
    broken = result.broken_promises()
    failed = sum(1 for row in result.rows if row.violations)
    out.write(
        f"promises:  every invariant of assocsim check judged in every run: "
        f"{f'{failed} of {runs} runs broke promises' if failed else 'none broken'}\n"
    )
    results, summary, latencies, sweep_json = result.files
    out.write(
        f"results:   {results}  (one row per run)\n"
        f"summary:   {summary}  (mean and 95 % interval per point)\n"
        f"latencies: {latencies}  (every first-delivery latency)\n"
        f"sweep:     {sweep_json}  (what was run, to re-run it)\n"
    )
    out.flush()  # the paths first, while the plots are drawn
    drawing = time.perf_counter()

    def draw() -> list[Path]:
        _say(f"drawing the plots into {out_dir}")
        return write_sweep_plots(out_dir)

    written = [] if args.no_plots else _plots_if_possible(draw)
    if written:
        out.write(
            f"plots:     {len(written)} files (PNG and SVG) in {out_dir}, drawn in "
            f"{time.perf_counter() - drawing:.1f} s\n"
        )
    out.write(f"an HTML page of it all: assocsim report {out_dir}\n")
    out.write(f"total:     {time.perf_counter() - started:.1f} s of wall time\n")
    _warn(result.idle_faults())
    for line in broken:
        sys.stderr.write(f"assocsim: {line}\n")
    if broken:
        sys.stderr.write(
            "assocsim: see results.csv's violations and broken columns; re-run a row with "
            "assocsim run ... --check to see each violation\n"
        )
    return 1 if broken else 0


def _report(args: argparse.Namespace, out: IO[str]) -> int:
    directory: Path = args.directory
    if not (directory / "results.csv").is_file():
        raise ScenarioError(
            f"{directory}: no results.csv here; give the --out directory of an assocsim sweep"
        )
    out.write(f"{write_html_report(directory, notify=_say)}\n")
    return 0


def _say(line: str) -> None:
    """A progress line of a long step on stderr (stdout keeps only the result)."""
    sys.stderr.write(f"assocsim: {line}\n")
    sys.stderr.flush()


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
        if args.command == "sweep":
            return _sweep(args, sys.stdout)
        if args.command == "report":
            return _report(args, sys.stdout)
        if args.command == "check":
            return check_command(args, sys.stdout)
        if args.command == "diagram":
            return diagram_command(args, sys.stdout, sys.stderr)
        if args.command == "replay":
            return replay_command(args, sys.stdout, sys.stderr)
        if args.command == "find":
            return find_command(args, sys.stdout, sys.stderr)
        if args.command == "explore":
            return explore_command(args, sys.stdout, sys.stderr)
        if args.command == "reco":
            return run_reco(args, sys.stdout)
        if args.command == "serve":
            return serve_command(args, sys.stdout)
        if args.command == "pos":
            return pos_command(args, sys.stdout)
        if args.command == "phone":
            return phone_command(args, sys.stdout)
        return _scenarios(sys.stdout)
    except AssocsimError as exc:
        # one line even when the input it quotes holds a line break (--set $'a\nb=1')
        line = str(exc).replace("\r", "\\r").replace("\n", "\\n")
        sys.stderr.write(f"assocsim: error: {line}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("assocsim: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
