"""Seeded replay: re-run a trace's scenario and seed, and compare the traces line by line.

A trace's header records everything a run depends on: the effective scenario
(``settings``, every knob after ``--set`` overrides), the ``seed`` and the ``scheduling``.
:func:`replay_trace` rebuilds the scenario from it, runs it again (under
:func:`~scenarios.run_scenario`, which also makes trio's scheduling deterministic for the
seed) and compares the new trace with the file; :func:`check_determinism` runs a scenario
twice in this process and compares the two traces. Both name the first event that differs
through one function, :func:`first_difference`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

import attrs

from actors import TRACE_FORMAT, JsonlTraceWriter, Observer, Scheduling
from scenarios._model._errors import ScenarioError
from scenarios._model._scenario import Scenario, scenario_from_dict
from scenarios._sim._cloud_factory import load_cloud_factory
from scenarios._sim._runner import CloudFactory, RunResult, run_scenario

from ._reader import TraceError, TraceReader

__all__ = [
    "DeterminismResult",
    "Difference",
    "ReplayResult",
    "check_determinism",
    "first_difference",
    "replay_trace",
    "scenario_from_header",
]

_SPOOL_BYTES = 64 * 1024 * 1024  # traces up to this stay in memory; longer ones spill to disk


@attrs.frozen
class Difference:
    """The first line at which two traces differ; ``None`` for a trace that ended first."""

    line: int  # 1-based, counted as in the trace file (line 1 is the header)
    first: str | None
    second: str | None

    def describe(self, first_name: str, second_name: str) -> str:
        """Several lines: where they differ, then both lines in full."""
        if self.first is None:
            where = f"{first_name} ends before line {self.line}; {second_name} goes on"
        elif self.second is None:
            where = f"{second_name} ends before line {self.line}; {first_name} goes on"
        else:
            where = f"the first difference is at line {self.line} (event {self.line - 1})"
        width = max(len(first_name), len(second_name)) + 1
        first = self.first if self.first is not None else "(end)"
        second = self.second if self.second is not None else "(end)"
        return "\n".join(
            [
                f"{where}:",
                f"  {first_name + ':':<{width}} {first}",
                f"  {second_name + ':':<{width}} {second}",
            ]
        )


def first_difference(
    first: Iterable[str], second: Iterable[str], *, first_line: int = 1
) -> Difference | None:
    """The first position at which the two sequences of lines differ, or ``None``.

    Line endings are ignored; ``first_line`` is the number of the first line given (2 when
    the header was skipped). Lazy: two traces of any length are compared in O(1) memory.
    """
    for number, (a, b) in enumerate(itertools.zip_longest(first, second), start=first_line):
        a_text = None if a is None else a.rstrip("\r\n")
        b_text = None if b is None else b.rstrip("\r\n")
        if a_text != b_text:
            return Difference(number, a_text, b_text)
    return None


# ------------------------------------------------------------------ replay


@attrs.frozen
class ReplayResult:
    """Whether re-running a trace's scenario and seed gave the same events."""

    scenario: str
    seed: int
    scheduling: Scheduling
    events: int  # events in the file
    sha256: str  # of the trace file
    difference: Difference | None

    @property
    def reproduced(self) -> bool:
        return self.difference is None

    def format_text(self, path: str | Path) -> str:
        run = f"replayed {path}: scenario {self.scenario}, seed {self.seed}, {self.scheduling}"
        if self.difference is None:
            return f"{run}\nreproduced: {self.events} events identical (sha256 {self.sha256})"
        return f"{run}\nNOT reproduced: " + self.difference.describe("trace", "replay")


def _cloud_of(header: Mapping[str, Any], where: str) -> CloudFactory | None:
    """The variant of the cloud the trace was made with (``run --cloud``), if any."""
    spec = header.get("cloud")
    if spec is None:
        return None
    if not isinstance(spec, str):
        raise TraceError(f"{where}: the header's 'cloud' must be MODULE:FACTORY, got {spec!r}")
    return load_cloud_factory(spec)


def scenario_from_header(
    header: Mapping[str, Any], where: str = "trace"
) -> tuple[Scenario, int, Scheduling]:
    """The scenario, seed and scheduling a trace header records; :class:`TraceError`."""
    settings = header.get("settings")
    if not isinstance(settings, dict):
        raise TraceError(f"{where}: the header has no scenario 'settings' to replay")
    seed = header.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TraceError(f"{where}: the header's 'seed' must be a whole number, got {seed!r}")
    scheduling = header.get("scheduling", "inline")
    if scheduling not in ("inline", "tasks"):
        raise TraceError(f"{where}: unknown scheduling {scheduling!r} (inline or tasks)")
    try:
        scenario = scenario_from_dict(settings, where=f"{where}: header settings")
    except ScenarioError as exc:
        raise TraceError(str(exc)) from None
    return scenario, seed, cast(Scheduling, scheduling)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _spool() -> IO[str]:
    return cast(
        IO[str],
        tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+", encoding="utf-8"),
    )


def _event_lines(stream: IO[str]) -> Iterable[str]:
    """The event lines of a trace written to ``stream`` (rewound, header skipped)."""
    stream.seek(0)
    lines = iter(stream)
    next(lines, None)
    return lines


def replay_trace(path: str | Path, *, observers: Sequence[Observer] = ()) -> ReplayResult:
    """Re-run the scenario and seed of the trace at ``path`` and compare, event by event."""
    path = Path(path)
    with TraceReader(path) as reader:
        header = reader.header
        if header["format"] != TRACE_FORMAT:
            raise TraceError(
                f"{path}: a trace of format {header['format']!r}, written by an older "
                f"assocsim; this one writes {TRACE_FORMAT!r}: run the scenario again to "
                "record a trace it can replay"
            )
        scenario, seed, scheduling = scenario_from_header(header, str(path))
        cloud = _cloud_of(header, str(path))
        with _spool() as replayed:
            writer = JsonlTraceWriter(replayed, {k: v for k, v in header.items() if k != "format"})
            run_scenario(
                scenario, seed, observers=[writer, *observers], scheduling=scheduling, cloud=cloud
            )
            counted = _Counted(text for _, text in reader.lines())
            difference = first_difference(counted, _event_lines(replayed), first_line=2)
    return ReplayResult(
        scenario=scenario.name,
        seed=seed,
        scheduling=scheduling,
        events=counted.count,
        sha256=_file_sha256(path),
        difference=difference,
    )


class _Counted:
    """An iterator of lines that counts what it yields."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.count = 0

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        return line


# ------------------------------------------------------------------ determinism


@attrs.frozen
class DeterminismResult:
    """Two runs of one scenario and seed: identical traces or not. ``hash_seed``: the
    second ran in a child process with this ``PYTHONHASHSEED`` (None: in this process,
    so with this process's order of sets and dicts of strings)."""

    events: int
    sha256: str  # of the first run's trace
    difference: Difference | None
    hash_seed: str | None = None

    @property
    def deterministic(self) -> bool:
        return self.difference is None

    def format_text(self) -> str:
        where = (
            "in this process, the order of sets of strings not varied"
            if self.hash_seed is None
            else f"the second in a child process with PYTHONHASHSEED={self.hash_seed}"
        )
        if self.difference is None:
            return (
                f"deterministic: 2 runs, {where}, {self.events} events identical "
                f"(sha256 {self.sha256})"
            )
        return f"NOT deterministic ({where}): " + self.difference.describe("run 1", "run 2")


def other_hash_seed() -> str:
    """A ``PYTHONHASHSEED`` other than this process's: a set of strings iterates in
    another order there (a cloud whose output follows that order passed a second run in
    the same process: reviewer Q's F2)."""
    mine = os.environ.get("PYTHONHASHSEED", "")
    return str(int(mine) + 1) if mine.isdigit() else "1"


def _second_process(argv: Sequence[str], trace: Path, hash_seed: str) -> None:
    """Run ``argv`` (an ``assocsim run`` of the same scenario and seed) with ``--trace
    TRACE`` in a child process under ``hash_seed``; ScenarioError if it fails."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [*argv, "--trace", str(trace)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not trace.exists():
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ScenarioError(
            f"--check-determinism: the second run (a child process) failed "
            f"(exit {done.returncode}): {last}"
        )


def check_determinism(
    scenario: Scenario,
    seed: int,
    *,
    scheduling: Scheduling = "inline",
    header: Mapping[str, Any] | None = None,
    observers: Sequence[Observer] = (),
    cloud: CloudFactory | None = None,
    second_process: Sequence[str] | None = None,
) -> tuple[RunResult, DeterminismResult]:
    """Run ``scenario`` twice with ``seed`` and compare the traces (madsim's run-twice check).

    ``observers`` (a trace file writer, a progress display) see the first run only; the
    first run's result is returned with the comparison. ``second_process``: the command
    of the same run (``assocsim run ...`` to which ``--trace FILE`` is added), run as the
    second in a child process under another ``PYTHONHASHSEED`` (:func:`other_hash_seed`);
    without it the second runs in this process, where sets of strings keep their order.
    """
    fields = dict(header) if header is not None else {"scenario": scenario.name, "seed": seed}
    fields.pop("format", None)
    with _spool() as first, _spool() as second:
        first_writer = JsonlTraceWriter(first, fields)
        result = run_scenario(
            scenario,
            seed,
            observers=[*observers, first_writer],
            scheduling=scheduling,
            cloud=cloud,
        )
        hash_seed: str | None = None
        if second_process is None:
            run_scenario(
                scenario,
                seed,
                observers=[JsonlTraceWriter(second, fields)],
                scheduling=scheduling,
                cloud=cloud,
            )
        else:
            hash_seed = other_hash_seed()
            with tempfile.TemporaryDirectory(prefix="assocsim-determinism-") as directory:
                trace = Path(directory) / "second.jsonl"
                _second_process(second_process, trace, hash_seed)
                second.write(trace.read_text(encoding="utf-8"))
        first.seek(0)
        digest = hashlib.sha256()
        for line in first:
            digest.update(line.encode("utf-8"))
        counted = _Counted(_event_lines(first))
        difference = first_difference(counted, _event_lines(second), first_line=2)
    return result, DeterminismResult(counted.count, digest.hexdigest(), difference, hash_seed)
