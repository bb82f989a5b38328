"""A scenario acted out by real processes over TCP: ``assocsim run NAME --transport tcp``.

The processes are the field-trial ones (``assocsim serve cloud``, ``assocsim pos``,
``assocsim phone``) on 127.0.0.1: one cloud with its SQLite store, one process per shop
(its tills), and the phones spread over ``--phone-processes`` processes, each phone on
its own authenticated connection. The scenario's day runs compressed: every process maps
virtual time to its clock with the same epoch and ``--speed`` (see ``_field.Timebase``),
so the machines see the same virtual times as in a simulation while the sockets, the
store and the transport's timeouts run in real time.

When every shop has uploaded and no process has work left (no timer armed anywhere, no
count moving), the run stops the cloud and the phones with SIGINT, merges the processes'
traces by time, and reports the same figures a simulation reports, computed the same way
(:class:`ReportBuilder`), next to the in-memory run of the same scenario and seed. Their
counts agree when the compressed day leaves the real-time jitter (a few ms times the
speed) far from the gaps between dependent events; a lower ``--speed`` tightens it.

The processes talk over the machine's own loopback network: nothing simulates latency,
loss, duplication, reordering, partitions or crashes. A scenario that configures any of
them (``[network]`` latency/jitter/loss/duplicate/reorder, ``[[network.link]]``,
``[[partition]]``, ``[[crash]]``) is refused before a process starts, in one line naming
those tables (:func:`refuse_faults_on_tcp`), rather than run without them and compared
with an in-memory run that has them.

The traces also merge for ``assocsim check a.jsonl b.jsonl ...`` (:func:`~scenarios.merge_traces`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from actors import TcpLimits
from protocol.lowlevel import (
    MerchantKeys,
    generate_key,
)
from scenarios._model._errors import ScenarioError
from scenarios._model._runspec import RunSpec
from scenarios._model._scenario import Scenario
from scenarios._model._workload import generate_workload
from scenarios._sim._report import Report, ReportBuilder
from scenarios._sim._runner import run_scenario
from scenarios._trace._checks import NOTHING_JUDGED, CheckResult, TraceChecker, check_status
from scenarios._trace._reader import events_from_records, merge_traces

from ._common import stderr_line, write_private

__all__ = [
    "COUNTS",
    "TARGET_WALL_SECONDS",
    "TcpRunOptions",
    "TcpRunResult",
    "faults_tcp_cannot_apply",
    "format_tcp_result",
    "refuse_faults_on_tcp",
    "report_from_records",
    "run_tcp",
    "tcp_result_json",
    "warn_faults_not_applied",
]

COUNTS: Final = (
    "purchases",
    "uploads_acknowledged",
    "requests",
    "responses",
    "refusals",
    "pushes",
    "dual_sends",
    "delivered",
    "lost",
    "duplicates",
)
"""The report figures a TCP run must share with the in-memory run (not latencies)."""

TARGET_WALL_SECONDS: Final = 60.0
"""``--speed auto`` compresses the scenario's day into about this much wall time."""

MIN_RETRY_WALL: Final = 0.25
"""A re-send waits at least this much wall time: spurious re-sends only load the run."""


# ------------------------------------------------------------------ the report of the traces


def report_from_records(
    records: Iterable[Mapping[str, Any]], *, scenario: Scenario, seed: int
) -> Report:
    """The report of a run from its (merged) trace records, as a simulation computes it
    (its promises judged with ``scenario``'s push deadline, as the checker judges them)."""
    builder = ReportBuilder(scenario, atomic_steps=False)  # serve cloud takes batches
    for event in events_from_records(records):
        builder(event)
    return builder.report(scenario=scenario.name, seed=seed)


# ------------------------------------------------------------------ the run


@attrs.frozen
class TcpRunOptions:
    speed: float | None = None  # None: auto
    phone_processes: int = 2
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    trace: Path | None = None
    keep: Path | None = None  # keep the run's directory (traces, logs, store) here
    timeout: float | None = None  # wall seconds; None: from the scenario's length


@attrs.frozen
class TcpRunResult:
    report: Report
    memory: Report
    speed: float
    processes: int
    wall_time: float
    check: CheckResult  # the invariants over the merged traces

    @property
    def check_ok(self) -> bool:
        """All clear: nothing broken, the traces whole, and something judged (a run of no
        purchase shows no promise kept)."""
        return check_status(self.check) == 0

    @property
    def check_status(self) -> int:
        """As ``assocsim check`` exits: 0 all clear, 1 broken or cut, 2 nothing judged."""
        return check_status(self.check)

    @property
    def violations(self) -> tuple[str, ...]:
        return tuple(v.format_line() for v in self.check.violations)

    @property
    def differences(self) -> dict[str, tuple[Any, Any]]:
        tcp, memory = self.report.as_dict(), self.memory.as_dict()
        return {k: (tcp[k], memory[k]) for k in COUNTS if tcp[k] != memory[k]}


NETWORK_KNOBS: Final = ("latency", "jitter", "loss", "duplicate", "reorder")
"""The ``[network]`` (and ``[[network.link]]``) knobs that change how messages travel."""


def faults_tcp_cannot_apply(scenario: Scenario) -> list[tuple[str, list[str]]]:
    """What of ``scenario`` a TCP run cannot apply: ``(table, --set assignments that
    remove it)`` pairs, e.g. ``("[network] loss/duplicate", ["network.loss=0", ...])``.

    Empty for a perfect network without partitions and crashes. A knob left at zero (or a
    link entry that sets nothing) configures nothing and is not named.
    """
    found: list[tuple[str, list[str]]] = []
    network = scenario.network
    knobs = [knob for knob in NETWORK_KNOBS if getattr(network, knob)]
    if knobs:
        found.append(("[network] " + "/".join(knobs), [f"network.{k}=0" for k in knobs]))
    if any(getattr(link, knob) for link in network.link for knob in NETWORK_KNOBS):
        found.append(("[[network.link]]", ["network.link=[]"]))
    if scenario.partition:
        found.append(("[[partition]]", ["partition=[]"]))
    if scenario.crash:
        found.append(("[[crash]]", ["crash=[]"]))
    return found


def refuse_faults_on_tcp(scenario: Scenario) -> None:
    """Raise :class:`ScenarioError` (one line) if ``scenario`` configures a fault, latency
    or crash that a run over real processes would silently leave out."""
    found = faults_tcp_cannot_apply(scenario)
    if found:
        tables = ", ".join(table for table, _ in found)
        removals = " ".join(f"--set {a}" for _, assignments in found for a in assignments)
        raise ScenarioError(
            f"--transport tcp cannot apply {tables} of this scenario (its processes talk "
            "over the real loopback network: nothing simulates latency, loss, partitions "
            f"or crashes there): run it with --transport memory, or remove them ({removals})"
        )


def warn_faults_not_applied(scenario: Scenario, process: str) -> None:
    """One warning line if a field process's ``--scenario`` configures faults it leaves
    out (it runs over the real network, as it is)."""
    found = faults_tcp_cannot_apply(scenario)
    if found:
        tables = ", ".join(table for table, _ in found)
        stderr_line(
            f"warning: {process} does not apply the {tables} of scenario {scenario.name}: "
            "a field process uses the real network and processes as they are"
        )


def auto_speed(scenario: Scenario) -> float:
    return max(1.0, scenario.horizon / TARGET_WALL_SECONDS)


class _Child:
    """One process of the run, its log files and its status file."""

    def __init__(self, name: str, argv: list[str], directory: Path) -> None:
        self.name = name
        self.status_path = directory / f"{name}.status"
        self.stderr_path = directory / f"{name}.stderr"
        self._stdout = (directory / f"{name}.stdout").open("w")
        self._stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [*argv, "--status-file", str(self.status_path), "--wait-for-go"],
            stdin=subprocess.PIPE,
            stdout=self._stdout,
            stderr=self._stderr,
            text=True,
        )

    def status(self) -> dict[str, Any]:
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def go(self, epoch: float) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.write(f"go {epoch!r}\n")
            self.process.stdin.flush()

    def last_error(self) -> str:
        with contextlib.suppress(OSError):
            lines = [ln for ln in self.stderr_path.read_text().splitlines() if ln.strip()]
            errors = [ln for ln in lines if "error" in ln] or lines
            if errors:
                return errors[-1]
        return "(nothing on stderr)"

    def interrupt(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.send_signal(signal.SIGINT)

    def kill(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self._stdout.close()
        self._stderr.close()


def _command() -> list[str]:
    return [sys.executable, "-m", "scenarios"]


def run_tcp(spec: RunSpec, options: TcpRunOptions) -> TcpRunResult:
    """Act ``spec``'s scenario out over TCP with its seed; the children load it as its
    source (a name, or a file path made absolute) with its overrides. Raises ScenarioError
    if a process fails, or before any starts if the scenario has faults a TCP run cannot
    apply."""
    scenario, seed = spec.scenario, spec.seed
    refuse_faults_on_tcp(scenario)
    _check_keep(options.keep)
    run = _TcpRun(spec, options)
    started = time.perf_counter()
    previous = _interrupt_on_sigterm()
    try:
        run.start_cloud()
        run.start_clients()
        run.go_and_wait()
        wall = time.perf_counter() - started
        header, records = merge_traces(sorted(run.directory.glob("*.jsonl")))
        if options.trace is not None:
            _write_merged(options.trace, header, records)
        report = report_from_records(records, scenario=scenario, seed=seed)
        checker = TraceChecker(scenario, atomic_steps=False)  # serve cloud takes batches
        for line, record in enumerate(records, 2):
            checker.feed(record, line)
        checked = checker.result()
        memory = run_scenario(scenario, seed).report
        return TcpRunResult(
            report,
            memory,
            run.speed,
            len(run.children),
            wall,
            checked,
        )
    finally:
        try:
            run.close()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _check_keep(keep: Path | None) -> None:
    """Refuse a ``--keep`` the run's files cannot be copied into, before the run: found
    only after it, the report would be lost."""
    if keep is None:
        return
    if keep.exists() and not keep.is_dir():
        raise ScenarioError(f"--keep {keep}: not a directory (it keeps the run's files)")
    parent = next((p for p in keep.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ScenarioError(f"--keep {keep}: cannot make it (no writable directory above it)")
    if keep.is_dir() and not os.access(keep, os.W_OK | os.X_OK):
        raise ScenarioError(f"--keep {keep}: not writable")


def _interrupt_on_sigterm() -> signal.Handlers | Callable[..., Any] | int | None:
    """SIGTERM interrupts the run as Ctrl-C does (its processes stopped, its temporary
    directory removed, in ``run_tcp``'s ``finally``), not leaving them behind. Returns the
    handler it replaced (None: none replaced, outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, interrupt)
    return previous if previous is not None else signal.SIG_DFL


class _TcpRun:
    """The processes of one run, in a directory of their files (keys, traces, logs)."""

    def __init__(self, spec: RunSpec, options: TcpRunOptions):
        scenario = spec.scenario
        self.options = options
        self.speed = options.speed if options.speed is not None else auto_speed(scenario)
        self.workload = generate_workload(scenario, spec.seed)
        # The day runs `speed` times faster: a re-send after 2 virtual seconds would come
        # after 2 ms, long before any answer can. Only the timing of re-sends changes.
        first = max(scenario.retry.first_delay, MIN_RETRY_WALL * self.speed)
        self.children_run = spec.evolve(  # what every child is told to run
            [
                f"retry.first_delay={first!r}",
                f"retry.max_delay={max(scenario.retry.max_delay, first)!r}",
            ]
        )
        timeout = options.timeout
        if timeout is None:
            timeout = 2.0 * scenario.horizon / self.speed + 90.0
        self.deadline = time.monotonic() + timeout
        self.directory = Path(tempfile.mkdtemp(prefix="assocsim-tcp-"))
        self.children: list[_Child] = []
        self.port: int | None = None

    def _scenario_args(self, *, seed: bool = True) -> list[str]:
        run = self.children_run
        source = Path(run.source)  # a file: the children run in another directory
        words = ["--scenario", str(source.resolve()) if source.exists() else run.source]
        if seed:
            words += ["--seed", str(run.seed)]
        return words + [word for assignment in run.overrides for word in ("--set", assignment)]

    def _child(self, name: str, words: list[str]) -> None:
        trace = ["--trace", str(self.directory / f"{name}.jsonl")]
        argv = [*_command(), *words, *trace, "--speed", repr(self.speed)]
        self.children.append(_Child(name, argv, self.directory))

    def start_cloud(self) -> None:
        directory = self.directory
        keys = MerchantKeys()
        for shop in self.workload.shops:
            key = generate_key()
            keys.add(shop.merchant_id, key)
            write_private(directory / f"{shop.merchant_id}.key", key + "\n")
        write_private(directory / "keys.json", keys.to_json())  # 0600: no warning line
        words = ["serve", "cloud", "--listen", "127.0.0.1:0", "--db", str(directory / "cloud.db")]
        words += ["--merchant-keys", str(directory / "keys.json"), *self._scenario_args(seed=False)]
        options = self.options
        if options.tls_cert is not None and options.tls_key is not None:
            words += ["--tls-cert", str(options.tls_cert), "--tls-key", str(options.tls_key)]
        # Every party of the run connects from 127.0.0.1: room for each, twice over (an
        # older connection lingers while its party reconnects).
        parties = len(self.workload.shops) + len(self.workload.phones)
        per_peer = max(TcpLimits().max_connections_per_peer, 2 * parties)
        words += ["--max-connections-per-peer", str(per_peer)]
        self._child("cloud", words)
        self.port = _wait_ready(self.children, self.deadline)["cloud"].get("port")

    def start_clients(self) -> None:
        options = self.options
        target = ["--cloud", f"127.0.0.1:{self.port}"]
        if options.tls_cert is not None:
            target += ["--tls-ca", str(options.tls_ca)] if options.tls_ca else ["--tls"]
        for shop in self.workload.shops:
            key_file = str(self.directory / f"{shop.merchant_id}.key")
            words = ["pos", *target, "--merchant", shop.merchant_id, "--key-file", key_file]
            self._child(
                f"pos-{shop.merchant_id}", [*words, *self._scenario_args(), "--notice-wait", "1e9"]
            )
        phone_ids = [plan.phone_id for plan in self.workload.phones]
        groups = max(1, min(options.phone_processes, len(phone_ids)))
        for group in range(groups):
            ids = [word for phone_id in phone_ids[group::groups] for word in ("--id", phone_id)]
            self._child(f"phones-{group + 1}", ["phone", *target, *ids, *self._scenario_args()])

    def go_and_wait(self) -> None:
        children = self.children
        _wait_ready(children, self.deadline)
        epoch = time.time() + 0.5  # every process's virtual 0, a moment from now
        for child in children:
            child.go(epoch)
        _wait_quiet(children, self.deadline)
        # The phones first (their last acknowledgements reach the cloud), then the cloud.
        phones = [child for child in children if child.name != "cloud"]
        for batch in (phones, [child for child in children if child.name == "cloud"]):
            for child in batch:
                child.interrupt()
            self._wait_stopped(batch)

    def _wait_stopped(self, children: list[_Child]) -> None:
        for child in children:
            try:
                child.process.wait(max(1.0, min(20.0, self.deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                raise ScenarioError(f"the {child.name} process did not stop after SIGINT") from None
            code = child.process.returncode
            if code not in (0, 130):
                raise ScenarioError(
                    f"the {child.name} process exited with {code}: {child.last_error()}"
                )

    def close(self) -> None:
        """Stop every process, copy the run's files to ``--keep``, remove the temporary
        directory whatever happened (it holds the store and the merchants' keys)."""
        try:
            for child in self.children:
                child.kill()
            keep = self.options.keep
            if keep is not None:
                try:
                    shutil.copytree(self.directory, keep, dirs_exist_ok=True)
                except OSError as exc:  # shutil.Error too
                    raise ScenarioError(
                        f"--keep {keep}: cannot copy the run's files: {_why(exc)}"
                    ) from None
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _why(exc: OSError) -> str:
    """An OSError of a copy in a few words: copytree's ``shutil.Error`` holds a list of
    ``(source, target, reason)``, the first of which is told."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        failures = exc.args[0]
        if failures:
            _, target, reason = failures[0]
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            return f"{target}: {reason}{more}"
    if exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)


def _failed(children: Sequence[_Child]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None and code != 0:
            raise ScenarioError(
                f"the {child.name} process exited with {code}: {child.last_error()}"
            )


def _wait_ready(children: Sequence[_Child], deadline: float) -> dict[str, dict[str, Any]]:
    while True:
        _failed(children)
        statuses = {child.name: child.status() for child in children}
        if all(status.get("ready") for status in statuses.values()):
            return statuses
        if time.monotonic() > deadline:
            late = ", ".join(name for name, s in statuses.items() if not s.get("ready"))
            raise ScenarioError(f"the tcp run timed out: {late} never became ready")
        time.sleep(0.05)


QUIET_ROUNDS: Final = 4
QUIET_POLL: Final = 0.1


def _wait_quiet(children: Sequence[_Child], deadline: float) -> None:
    """Until every POS has exited and nothing moves: no timer armed in the cloud or any
    phone, no backlog, and the same step and event counts over several polls."""
    previous: object = None
    quiet = 0
    shops = [child for child in children if child.name.startswith("pos-")]
    others = [child for child in children if not child.name.startswith("pos-")]
    while True:
        _failed(children)
        if time.monotonic() > deadline:
            raise ScenarioError("the tcp run timed out before every process was done")
        if any(child.process.poll() is None for child in shops):
            time.sleep(QUIET_POLL)
            continue
        statuses = [child.status() for child in others]
        idle = all(
            s.get("timers", 1) == 0 and s.get("backlog", 0) == 0 and s.get("unanswered", 0) == 0
            for s in statuses
        )
        counts = [(s.get("steps"), s.get("events")) for s in statuses]
        quiet = quiet + 1 if idle and counts == previous else 0
        if quiet >= QUIET_ROUNDS:
            return
        previous = counts
        time.sleep(QUIET_POLL)


def _write_merged(path: Path, header: dict[str, Any], records: list[dict[str, Any]]) -> None:
    try:
        with path.open("w", encoding="utf-8") as file:
            file.write(json.dumps(header, separators=(",", ":")) + "\n")
            for record in records:
                file.write(json.dumps(record, separators=(",", ":")) + "\n")
    except OSError as exc:
        raise ScenarioError(f"cannot write trace {path}: {exc.strerror}") from None


def format_tcp_result(result: TcpRunResult) -> str:
    lines = [result.report.format_table()]
    lines.append(
        f"(transport tcp: {result.processes} processes on 127.0.0.1, speed {result.speed:g}x, "
        f"{result.wall_time:.1f} s of wall time)"
    )
    differences = result.differences
    if differences:
        lines.append("counts differ from the in-memory run of the same scenario and seed:")
        lines += [
            f"  {k}: tcp {tcp}, in memory {memory}" for k, (tcp, memory) in differences.items()
        ]
        lines.append(
            "  (a tcp run refuses scenarios with faults, so the cause is timing: events "
            "closer than the real-time jitter times the speed; try a lower --speed)"
        )
    else:
        lines.append(
            "counts identical to the in-memory run: " + ", ".join(COUNTS).replace("_", " ")
        )
    lines += _check_lines(result)
    return "\n".join(lines)


def _check_lines(result: TcpRunResult) -> list[str]:
    """The invariants' verdict over the merged traces, as ``assocsim check`` words it: a
    run that judged nothing (no purchase) or whose traces were cut is no all-clear."""
    checked = result.check
    head = "invariants over the merged traces: "
    lines = [f"(not checked: {reason})" for reason in checked.skipped]
    if checked.violations:
        count = len(checked.violations)
        before = " before the gap" if checked.incomplete is not None else ""
        lines.append(f"{head}{count} violation{'s' if count != 1 else ''}{before}")
        lines += [f"  {line}" for line in result.violations[:10]]
    elif checked.incomplete is None and not checked.judged:
        lines.append(head + NOTHING_JUDGED)
    else:
        lines.append(head + "no violations")
    if checked.incomplete is not None:
        lines.append(f"incomplete: {checked.incomplete}")
    return lines


def tcp_result_json(result: TcpRunResult) -> dict[str, Any]:
    return {
        **result.report.as_dict(),
        "transport": "tcp",
        "speed": result.speed,
        "processes": result.processes,
        "wall_time": result.wall_time,
        "in_memory": {k: result.memory.as_dict()[k] for k in COUNTS},
        "counts_match": not result.differences,
        "invariants_ok": result.check_ok,  # false when nothing was judged
        "invariants_judged": result.check.judged,
        "invariants_incomplete": result.check.incomplete,
    }
