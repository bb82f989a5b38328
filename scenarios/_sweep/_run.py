"""Parameter sweeps: a scenario run over the cartesian product of knob values and seeds.

The unit of work is :func:`run_point`: a :class:`SweepTask` (a scenario as a plain dict,
the point's ``KEY=VALUE`` overrides, a seed and the variant cloud's ``MODULE:FACTORY``, if
any) in, a :class:`SweepRow` (the knob values, the report's figures, the delivery latencies
and the verdict of :class:`~scenarios.TraceChecker`, the checker of ``assocsim check`` and
``run --check``, on every invariant of the run) out. Both are plain, picklable values, so
any :class:`concurrent.futures.Executor` can run the units: :func:`run_sweep` uses a
process pool (``jobs`` workers), runs in-process for ``jobs=1``, or takes the executor it
is given (a ``distributed.Client(...).get_executor()`` runs a sweep on a Dask cluster).

Every point runs for the seeds ``base.seed``, ``base.seed + 1``, ... ``base.seed + seeds -
1``, where ``base`` is the scenario after its ``--set`` overrides. Rows are collected in a
fixed order (point, then seed) whatever order the runs finish in, so a sweep's files are
the same bytes for any number of jobs.

Files written into the output directory:

* ``results.csv``: one row per run: ``point``, one column per varied knob (its dotted key;
  the value as given to ``--vary``, e.g. ``10m``), ``seed``, every report figure,
  ``violations`` (the checker's violations, an incomplete check counting one) and
  ``broken`` (``privacy=3 binding=1``, empty when none), then ``scenario`` (the name or
  path given), ``overrides`` (``;``-joined ``KEY=VALUE``, the ``--set`` ones first) and
  ``cloud`` (the variant's ``MODULE:FACTORY``, empty for the reference cloud), so
  ``assocsim run SCENARIO --set ... --seed N [--cloud C] --check`` re-runs it.
* ``summary.csv``: per point the knobs, ``runs`` and for every figure ``F`` (and
  ``violations``): ``F_mean``, ``F_ci95_low``, ``F_ci95_high`` (Student-t 95 % interval of
  the mean over the seeds).
* ``latencies.csv``: ``point``, ``seed``, ``latency_s``: every first-delivery latency.
* ``sweep.json``: the sweep itself: ``scenario``, ``vary``, ``seeds``, ``seed_values``,
  ``jobs``, ``set``, ``cloud`` (``MODULE:FACTORY`` or null), ``invariants`` (every
  invariant judged), ``base`` (the effective base scenario) and ``points``, each with its
  ``overrides``, ``values`` (as given), ``knobs`` (effective values, durations in seconds)
  and ``settings`` (its effective scenario).
"""

from __future__ import annotations

import concurrent.futures
import csv
import itertools
import json
import math
import multiprocessing
import signal
import statistics
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from actors import CrashTally, Observer, idle_faults
from scenarios._model._errors import ScenarioError
from scenarios._model._overrides import split_assignment
from scenarios._model._runspec import RunSpec
from scenarios._model._scenario import Scenario, scenario_from_dict, scenario_to_dict
from scenarios._sim._cloud_factory import load_cloud_factory
from scenarios._sim._progress import SweepProgress
from scenarios._sim._report import Report
from scenarios._sim._runner import CloudFactory, run_scenario
from scenarios._trace._checks import INVARIANTS, CheckResult, TraceChecker

__all__ = [
    "FIGURES",
    "INCOMPLETE",
    "MAX_RUNS",
    "SWEEP_FORMAT",
    "SweepPoint",
    "SweepResult",
    "SweepRow",
    "SweepTask",
    "parse_vary",
    "plan_sweep",
    "run_point",
    "run_sweep",
    "t_critical_95",
]

SWEEP_FORMAT = "assocsim-sweep/1"

MAX_RUNS = 1_000_000
"""The most runs (points x seeds) one sweep plans: its tasks and points are built before
anything runs, so a mistyped ``--seeds 10000000000`` would fill the memory instead."""

#: The report's figures a sweep records and summarises, in :class:`Report` order.
FIGURES: tuple[str, ...] = tuple(
    field.name for field in attrs.fields(Report) if field.name not in ("scenario", "seed")
)


INCOMPLETE = "check-incomplete"
"""How ``broken`` names a run whose check was cut or left a judgement out: one violation
(the promises it could not judge may have been broken), never an all clear."""


# ------------------------------------------------------------------ the unit of work


@attrs.frozen
class SweepTask:
    """One run of a sweep: picklable, so any executor (a process, a cluster) can run it.

    ``scenario`` is the effective base scenario as :func:`~scenarios.scenario_to_dict` gives
    it; ``overrides`` are the point's ``KEY=VALUE``; ``seed`` the run's seed; ``cloud`` the
    variant cloud's ``MODULE:FACTORY`` (None: the reference cloud), a name rather than the
    factory so that the task pickles and each worker imports the module itself.
    """

    point: int
    seed: int
    scenario: dict[str, Any] = attrs.field(hash=False)
    overrides: tuple[str, ...]
    cloud: str | None = None


@attrs.frozen
class SweepRow:
    """What one run gives back: the varied knobs (as given), its report and latencies."""

    point: int
    seed: int
    knobs: tuple[tuple[str, str], ...]  # (dotted key, value as given), in the order varied
    report: Report
    latencies: tuple[float, ...]
    broken: tuple[tuple[str, int], ...]
    """The checker's verdict: (invariant, violations) of each invariant the run broke, in
    :data:`~scenarios.INVARIANTS` order, then (:data:`INCOMPLETE`, 1) if its check was cut
    or left a judgement out; empty when every promise was kept."""
    idle_faults: tuple[str, ...] = ()
    """The configured faults that injected nothing in this run (``IdleFault.what``)."""

    @property
    def violations(self) -> int:
        """How many promises the run broke (an incomplete check counts one): 0 only when
        the checker judged every invariant over the whole run and found nothing."""
        return sum(count for _, count in self.broken)


# trio's scheduler keeps its random generator in a module global (actors/_determinism.py):
# two runs in threads of one process would share it. Runs in one process take turns.
_ONE_RUN_AT_A_TIME = threading.Lock()


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        value = value[part]
    return value


def _given(overrides: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``("k=v", ...)`` -> ``(("k", "v"), ...)``, the values as text, as given."""
    return tuple(split_assignment(assignment, option="--vary") for assignment in overrides)


# The variant clouds this process loaded, by spec: a worker imports a module once, not
# once per run (and the parent checks it, by loading it, before any run).
_CLOUDS: dict[str, CloudFactory] = {}


def cloud_factory(spec: str) -> CloudFactory:
    """The cloud factory ``spec`` names, loaded (and checked) once per process; raises
    :class:`~scenarios.ScenarioError` in one line if it cannot be loaded."""
    factory = _CLOUDS.get(spec)
    if factory is None:
        factory = _CLOUDS[spec] = load_cloud_factory(spec)
    return factory


def broken_promises(checked: CheckResult) -> tuple[tuple[str, int], ...]:
    """A check's verdict as a sweep keeps it: (invariant, violations) of each invariant
    broken, then (:data:`INCOMPLETE`, 1) if the check was cut or left a judgement out."""
    counts = {name: 0 for name in INVARIANTS}
    for violation in checked.violations:
        counts[violation.invariant] = counts.get(violation.invariant, 0) + 1
    broken = [(name, count) for name, count in counts.items() if count]
    if checked.incomplete is not None or checked.skipped:
        broken.append((INCOMPLETE, 1))
    return tuple(broken)


def run_point(task: SweepTask) -> SweepRow:
    """Build the task's scenario, run it (inline scheduling) with the invariants' checker
    as an observer (as ``assocsim run --check``), and return its figures and verdict."""
    run = _point_run(RunSpec.of(scenario_from_dict(task.scenario)), task.overrides, task.seed)
    scenario = run.scenario
    cloud = None if task.cloud is None else cloud_factory(task.cloud)
    tally = CrashTally()
    checker = TraceChecker(scenario)
    observers: list[Observer] = [tally, checker] if scenario.crash else [checker]
    with _ONE_RUN_AT_A_TIME:
        result = run_scenario(scenario, run.seed, observers=observers, cloud=cloud)
    return SweepRow(
        point=task.point,
        seed=task.seed,
        knobs=_given(task.overrides),
        report=result.report,
        latencies=result.latencies,
        broken=broken_promises(checker.result()),
        idle_faults=tuple(f.what for f in idle_faults(result.world, scenario.crash, tally)),
    )


# ------------------------------------------------------------------ planning


@attrs.frozen
class SweepPoint:
    """One combination of knob values: its ``KEY=VALUE`` overrides and what they build."""

    index: int
    overrides: tuple[str, ...]
    scenario: Scenario

    @property
    def knobs(self) -> tuple[tuple[str, str], ...]:
        """(dotted key, value as given) of every varied knob, in the order varied."""
        return _given(self.overrides)

    def effective(self) -> dict[str, Any]:
        """Each varied knob's effective value, as in the scenario dict (durations in s)."""
        data = scenario_to_dict(self.scenario)
        return {key: _lookup(data, key) for key, _ in self.knobs}

    @property
    def label(self) -> str:
        return " ".join(self.overrides)


def _split_values(text: str) -> list[str]:
    """``"1,2"`` -> ``["1", "2"]``; commas inside brackets or quotes do not split."""
    values: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth <= 0:
            values.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    values.append("".join(current).strip())
    return values


def parse_vary(texts: Iterable[str]) -> dict[str, list[str]]:
    """``["KEY=V1,V2", ...]`` -> ``{"KEY": ["V1", "V2"], ...}``, in the order given.

    Commas inside ``[...]`` or quotes do not split, so ``items_per_purchase=[1,2],[1,4]``
    has two values. Only the form is checked here; :func:`plan_sweep` checks that every
    point builds.
    """
    vary: dict[str, list[str]] = {}
    for text in texts:
        key, equals, rest = text.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ScenarioError(f"--vary {text}: expected KEY=V1,V2,..., e.g. wrong_id_rate=0,0.05")
        values = _split_values(rest)
        if not rest.strip() or any(not value for value in values):
            raise ScenarioError(
                f"--vary {text}: expected values separated by commas, got an empty one"
            )
        if key in vary:
            raise ScenarioError(f"--vary {text}: {key} is already varied; give its values once")
        if key == "seed":
            raise ScenarioError(f"--vary {text}: vary the seed with --seeds N")
        vary[key] = values
    return vary


def _point_run(base: RunSpec, overrides: Sequence[str], seed: int | None = None) -> RunSpec:
    """A point's run: the base run with the point's ``--vary`` overrides (and its seed)."""
    return base.evolve(overrides, seed=seed, option="--vary")


def plan_sweep(base: Scenario | RunSpec, vary: Mapping[str, Sequence[str]]) -> list[SweepPoint]:
    """Every point of the sweep, each one's scenario built (so checked) before any run.

    ``base`` is the scenario with its ``--set`` overrides applied, or its :class:`RunSpec`.
    Points are the cartesian product of the values, the first knob varying slowest.
    Raises :class:`ScenarioError` naming the first bad ``--vary`` value.
    """
    return [
        point for point, _ in _plan(base if isinstance(base, RunSpec) else RunSpec.of(base), vary)
    ]


def _plan(run: RunSpec, vary: Mapping[str, Sequence[str]]) -> list[tuple[SweepPoint, RunSpec]]:
    """:func:`plan_sweep`'s points, each with its run (the base run evolved by the point)."""
    for key, values in vary.items():
        if not values:
            raise ScenarioError(f"--vary {key}=: no values")
        if key == "seed":
            raise ScenarioError(f"--vary {key}=...: vary the seed with --seeds N")
    points = []
    keys = list(vary)
    for index, combination in enumerate(itertools.product(*vary.values())):
        overrides = tuple(f"{key}={value}" for key, value in zip(keys, combination, strict=True))
        point_run = _point_run(run, overrides)
        points.append((SweepPoint(index, overrides, point_run.scenario), point_run))
    return points


# ------------------------------------------------------------------ running


@attrs.frozen
class SweepResult:
    """A finished sweep: its points, its rows (by point, then seed) and its files."""

    out_dir: Path
    points: tuple[SweepPoint, ...]
    rows: tuple[SweepRow, ...]
    seeds: tuple[int, ...]
    files: tuple[Path, ...]  # results.csv, summary.csv, latencies.csv, sweep.json
    wall_time: float

    def idle_faults(self) -> list[str]:
        """A line per configured fault that injected nothing in any seed of a point (in
        some seeds only is chance, e.g. a low loss rate over few messages)."""
        lines: list[str] = []
        for point in self.points:
            rows = [row for row in self.rows if row.point == point.index]
            idle = [f for f in rows[0].idle_faults if all(f in r.idle_faults for r in rows)]
            where = f"point {point.label}" if point.label else "every point"
            lines += [f"{where}: {f} injected nothing in any of its {len(rows)} runs" for f in idle]
        return lines

    def broken_promises(self) -> list[str]:
        """A line per point where some run broke a promise: how many of its runs did, and
        each invariant broken with its violations over them, the most first."""
        lines: list[str] = []
        for point in self.points:
            rows = [row for row in self.rows if row.point == point.index]
            broke = [row for row in rows if row.violations]
            if not broke:
                continue
            counts: dict[str, int] = {}
            for row in broke:
                for name, count in row.broken:
                    counts[name] = counts.get(name, 0) + count
            order = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties in order
            what = ", ".join(f"{name} {count}" for name, count in order)
            label = f" ({point.label})" if point.label else ""
            lines.append(
                f"point {point.index}{label}: {len(broke)} of {len(rows)} runs broke "
                f"promises: {what}"
            )
        return lines


def _ignore_interrupts() -> None:  # pragma: no cover - runs in the pool's workers
    """Ctrl-C goes to the sweep's own process, which stops the pool; workers just end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _process_pool(jobs: int) -> concurrent.futures.ProcessPoolExecutor:
    # forkserver where there is one (POSIX): workers start from a clean process, not a
    # fork of one that may have threads; its workers import scenarios once each.
    methods = multiprocessing.get_all_start_methods()
    method = "forkserver" if "forkserver" in methods else "spawn"
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(method),
        initializer=_ignore_interrupts,
    )


def _collect(
    tasks: Sequence[SweepTask],
    executor: concurrent.futures.Executor | None,
    progress: SweepProgress | None,
) -> list[SweepRow]:
    rows: list[SweepRow | None] = [None] * len(tasks)
    left: dict[int, int] = {}
    for task in tasks:
        left[task.point] = left.get(task.point, 0) + 1

    def done(index: int, row: SweepRow) -> None:
        rows[index] = row
        left[row.point] -= 1
        if progress is not None:
            progress.run_done(row.point, point_done=left[row.point] == 0)

    if executor is None:
        for index, task in enumerate(tasks):
            done(index, run_point(task))
    else:
        futures = {executor.submit(run_point, task): index for index, task in enumerate(tasks)}
        try:
            for future in concurrent.futures.as_completed(futures):
                done(futures[future], future.result())
        finally:
            for future in futures:
                future.cancel()
    return [row for row in rows if row is not None]


def run_sweep(
    base: Scenario | RunSpec,
    vary: Mapping[str, Sequence[str]],
    seeds: int,
    jobs: int,
    out_dir: Path | str,
    *,
    progress: SweepProgress | None = None,
    executor: concurrent.futures.Executor | None = None,
    source: str | None = None,
    sets: Sequence[str] = (),
    cloud: str | None = None,
) -> SweepResult:
    """Run ``base`` at every point of ``vary`` for ``seeds`` seeds; write the sweep's files.

    ``base`` is the scenario as loaded and ``sets`` its ``--set`` overrides, or a
    :class:`RunSpec` holding both (then give neither ``sets`` nor ``source``); the seeds
    are ``seed + 0 .. seeds - 1`` of the run's seed (the scenario's own unless the
    :class:`RunSpec` was given one). ``jobs`` worker processes run the
    units (``1``: in this process, no pool) unless ``executor`` is given, which is then
    used (and not shut down): any :class:`concurrent.futures.Executor`, e.g. a Dask
    ``Client.get_executor()``. ``source`` is the scenario's name or path as given (default:
    its name), recorded so each row can be re-run. ``cloud`` names a variant cloud
    (``MODULE:FACTORY``, as ``assocsim run --cloud``) for every run, loaded here first and
    by each worker once. Every point is built, and the cloud loaded, before anything runs:
    a bad value raises :class:`ScenarioError` and runs nothing. Every run is judged by the
    invariants' checker (:attr:`SweepRow.broken`, :meth:`SweepResult.broken_promises`).
    """
    if seeds < 1:
        raise ScenarioError(f"--seeds must be at least 1, got {seeds}")
    if jobs < 1:
        raise ScenarioError(f"--jobs must be at least 1, got {jobs}")
    runs = math.prod(len(values) for values in vary.values()) * seeds
    if runs > MAX_RUNS:
        raise ScenarioError(
            f"a sweep of {runs:,} runs (points x --seeds) is more than {MAX_RUNS:,}: "
            "give fewer --seeds or --vary values, or split it into several sweeps"
        )
    if isinstance(base, RunSpec):
        if sets or source is not None:
            raise ScenarioError("run_sweep: a RunSpec holds its overrides and source already")
        run = base
    else:
        run = RunSpec.of(base, sets, source=source)  # once: a bad --set is told first
    effective = run.scenario
    planned = _plan(run, vary)
    for assignment in (a for _, point_run in planned for a in point_run.overrides):
        if ";" in assignment:  # results.csv joins a row's overrides with ';'
            raise ScenarioError(
                f"{assignment}: a sweep's overrides cannot hold ';' (results.csv joins them "
                "with it, and its rows could not be re-run): choose another character"
            )
    points = [point for point, _ in planned]
    if cloud is not None:
        cloud_factory(cloud)  # a bad one in one line before anything runs
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"cannot write into {out_dir}: {exc.strerror or exc}") from None
    settings = scenario_to_dict(effective)
    seed_values = tuple(run.seed + n for n in range(seeds))
    tasks = [
        SweepTask(point.index, seed, settings, point.overrides, cloud)
        for point in points
        for seed in seed_values
    ]
    started = time.perf_counter()
    if progress is not None:
        progress.start([point.label for point in points], len(tasks))
    try:
        if executor is not None or jobs == 1:
            rows = _collect(tasks, executor, progress)
        else:
            pool = _process_pool(min(jobs, len(tasks)))
            try:
                rows = _collect(tasks, pool, progress)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
    finally:
        if progress is not None:
            progress.close()
    wall_time = time.perf_counter() - started
    files = _write_files(
        out_dir,
        points=points,
        rows=rows,
        header={
            "format": SWEEP_FORMAT,
            "scenario": run.source,
            "vary": {key: list(values) for key, values in vary.items()},
            "seeds": seeds,
            "seed_values": list(seed_values),
            "jobs": jobs,
            "set": list(run.overrides),
            "cloud": cloud,
            "invariants": list(INVARIANTS),
            "base": settings,
        },
        reruns=[point_run for _, point_run in planned],
        cloud=cloud,
    )
    return SweepResult(out_dir, tuple(points), tuple(rows), seed_values, files, wall_time)


# ------------------------------------------------------------------ files

# Two-sided 95 % critical values of Student's t for 1..30 degrees of freedom.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_critical_95(df: int) -> float:
    """The two-sided 95 % critical value of Student's t (1.96 beyond 30 degrees)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    return _T95[df - 1] if df <= len(_T95) else 1.96


def _interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95 % interval of the mean; one value: the value itself."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean, mean
    half = t_critical_95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_files(
    out_dir: Path,
    *,
    points: Sequence[SweepPoint],
    rows: Sequence[SweepRow],
    header: dict[str, Any],
    reruns: Sequence[RunSpec],
    cloud: str | None,
) -> tuple[Path, ...]:
    knob_keys = [key for key, _ in points[0].knobs] if points else []
    results = out_dir / "results.csv"
    summary = out_dir / "summary.csv"
    latencies = out_dir / "latencies.csv"
    sweep = out_dir / "sweep.json"
    try:
        _write_csv(
            results,
            [
                "point",
                *knob_keys,
                "seed",
                *FIGURES,
                "violations",
                "broken",
                "scenario",
                "overrides",
                "cloud",
            ],
            (
                [
                    row.point,
                    *(value for _, value in row.knobs),
                    row.seed,
                    *(getattr(row.report, figure) for figure in FIGURES),
                    row.violations,
                    " ".join(f"{name}={count}" for name, count in row.broken),
                    reruns[row.point].source,  # with the overrides, seed, cloud: re-runs it
                    ";".join(reruns[row.point].overrides),
                    cloud or "",
                ]
                for row in rows
            ),
        )
        by_point: dict[int, list[SweepRow]] = {point.index: [] for point in points}
        for row in rows:
            by_point[row.point].append(row)
        summary_rows = []
        for point in points:
            runs = by_point[point.index]
            cells: list[Any] = [point.index, *(value for _, value in point.knobs)]
            cells.append(len(runs))
            for figure in FIGURES:
                # A latency is None in a run without deliveries: no figure, not a 0.
                values = [getattr(run.report, figure) for run in runs]
                given = [float(v) for v in values if v is not None]
                cells.extend(_interval(given) if given else ("", "", ""))
            cells.extend(_interval([float(run.violations) for run in runs]))
            summary_rows.append(cells)
        _write_csv(
            summary,
            [
                "point",
                *knob_keys,
                "runs",
                *(
                    f"{f}_{part}"
                    for f in (*FIGURES, "violations")
                    for part in ("mean", "ci95_low", "ci95_high")
                ),
            ],
            summary_rows,
        )
        _write_csv(
            latencies,
            ["point", "seed", "latency_s"],
            ([row.point, row.seed, latency] for row in rows for latency in row.latencies),
        )
        document = {
            **header,
            "points": [
                {
                    "point": point.index,
                    "overrides": list(point.overrides),
                    "values": dict(point.knobs),
                    "knobs": point.effective(),
                    "settings": scenario_to_dict(point.scenario),
                }
                for point in points
            ],
            "files": {
                "results": results.name,
                "summary": summary.name,
                "latencies": latencies.name,
            },
        }
        sweep.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot write into {out_dir}: {exc.strerror or exc}") from None
    return (results, summary, latencies, sweep)
