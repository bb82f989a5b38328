"""Run a scenario, judge its trace, and fail with the one command that replays it.

:func:`run_checked` runs a scenario in virtual time (like :func:`~scenarios.run_scenario`)
while keeping every :class:`~actors.TraceEvent`, then runs the trace checkers over them.
The :class:`RunOutcome` it returns holds the report, the events and the checkers' result
(the report's ``lost`` and ``duplicates`` are counted from the checkers' verdicts);
:meth:`RunOutcome.assert_ok` raises :class:`ProtocolViolationError` on any violation,
after writing the scenario to a TOML file, with a message that lists the violations and
ends with ``assocsim run FILE --seed N [--cloud MODULE:FACTORY] --check``.

A run that judged nothing (no purchase: every invariant checked 0 times) proves nothing
kept: it is not ``ok``, and :meth:`RunOutcome.assert_ok` raises :class:`NothingCheckedError`.
A configured fault that injected nothing (a crash inside a step whose step never came, a
loss rate no message met) is in :attr:`RunOutcome.idle_faults` and in its description, as
``assocsim run`` warns of it.

Under hypothesis, only the final (shrunk) example writes its file: the examples tried
while shrinking fail with the violations alone, so a shrink leaves one file behind. Each
run also tells hypothesis what it exercised (``hypothesis.event``: each promise judged or
never judged, a dual-send or timeout push sent, a crash, an idle fault), so ``pytest
--hypothesis-show-statistics`` shows how often a property met each promise.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from actors import CrashTally, EventKind, IdleFault, Observer, Scheduling, TraceEvent, idle_faults
from protocol import CLOUD, AssociationPush, AssocsimError, PushReason
from scenarios._model._scenario import Scenario
from scenarios._sim._cloud_factory import cloud_factory_spec, load_cloud_factory
from scenarios._sim._report import Report, ReportBuilder
from scenarios._sim._runner import CloudFactory, RunResult, run_scenario
from scenarios._trace._checks import CheckResult, Violation, check_events

from ._paths import DEFAULT_FAILURES_DIR
from ._toml import scenario_file_name, write_scenario

__all__ = [
    "DEFAULT_FAILURES_DIR",
    "AssocsimRunner",
    "NothingCheckedError",
    "ProtocolViolationError",
    "RunOutcome",
    "assert_protocol_holds",
    "run_checked",
]

MAX_LISTED = 20
"""Violations listed in a failure message; the rest are counted."""


class ProtocolViolationError(AssocsimError, AssertionError):
    """A run broke a promise of the protocol.

    ``outcome`` is the run; ``scenario_file`` and ``command`` replay it (both None for an
    example hypothesis tries while shrinking: only the final one is written). An
    ``AssertionError`` too, so that a test framework reports it as a failed assertion.
    """

    def __init__(
        self,
        message: str,
        outcome: RunOutcome,
        scenario_file: Path | None,
        command: str | None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.scenario_file = scenario_file
        self.command = command


class NothingCheckedError(AssocsimError, AssertionError):
    """A run judged no promise (no receipt: every invariant checked nothing), so it cannot
    pass :meth:`RunOutcome.assert_ok`: an all-clear from it would be vacuous."""

    def __init__(self, message: str, outcome: RunOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def _hypothesis_test_running() -> bool:
    """Is a hypothesis test running (without importing hypothesis if nobody did)?"""
    control = sys.modules.get("hypothesis.control")
    if control is None:
        return False
    try:
        return bool(control.currently_in_test_context())
    except Exception:  # another hypothesis version: tell it nothing
        return False


def _shrinking() -> bool:
    """Is this an example hypothesis tries before the final, reported one?"""
    control = sys.modules.get("hypothesis.control")
    if control is None:  # hypothesis never imported: not inside a hypothesis test
        return False
    try:
        if not control.currently_in_test_context():
            return False
        return not bool(getattr(control.current_build_context(), "is_final", True))
    except Exception:  # another hypothesis version: write the file every time
        return False


@attrs.frozen
class RunOutcome:
    """One checked run: the scenario and how it was run, its result, its trace events and
    the checkers' verdict.

    ``cloud`` is the ``MODULE:FACTORY`` of the cloud variant run (None: the reference
    :class:`~protocol.CloudMachine`, or a variant that cannot be named, described by
    ``cloud_label``). ``failures_dir`` is where :meth:`assert_ok` writes a failing
    scenario.
    """

    scenario: Scenario
    seed: int
    scheduling: Scheduling
    result: RunResult
    events: tuple[TraceEvent, ...]
    check: CheckResult
    cloud: str | None = None
    cloud_label: str | None = None
    failures_dir: Path = DEFAULT_FAILURES_DIR
    idle_faults: tuple[IdleFault, ...] = ()
    """The configured faults that injected nothing (:func:`actors.idle_faults`, what
    ``assocsim run`` warns of): a property over them tested less than it says."""

    @property
    def report(self) -> Report:
        return self.result.report

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.check.violations

    @property
    def checked(self) -> int:
        """How many times the invariants judged something (their ``checked`` summed)."""
        return sum(invariant.checked for invariant in self.check.invariants)

    @property
    def ok(self) -> bool:
        """Something was judged and no invariant was violated (a run that judged nothing is
        not ok: it would pass whatever the cloud does)."""
        return self.check.ok and self.checked > 0

    def replay_command(self, scenario_file: Path) -> str:
        """``assocsim run FILE --seed N [--cloud MODULE:FACTORY] [--scheduling tasks]
        --check``: the command that runs this scenario again and checks it."""
        words = ["assocsim", "run", str(scenario_file), "--seed", str(self.seed)]
        if self.cloud is not None:
            words += ["--cloud", self.cloud]
        if self.scheduling != "inline":
            words += ["--scheduling", self.scheduling]
        words.append("--check")
        return shlex.join(words)

    def write_scenario(self, directory: Path | None = None) -> Path:
        """Write the scenario to ``directory`` (default ``failures_dir``) as a TOML file
        named after it, the seed and its content; return the file's absolute path."""
        target = (self.failures_dir if directory is None else directory).resolve()
        path = target / scenario_file_name(self.scenario, self.seed)
        summary = self.check.violations[0].format_line() if self.violations else "no violations"
        comment = (
            f"written by assocsim's testing toolkit: {len(self.violations)} violation(s),"
            f" the first:\n{summary}\nreplay: {self.replay_command(path)}"
        )
        return write_scenario(self.scenario, path, comment=comment)

    def describe(self) -> str:
        """What was run, the verdict and the violations found, one per line; then the
        report, which invariants judged something, and the faults that injected nothing."""
        cloud = self.cloud or self.cloud_label or "the reference cloud"
        run = (
            f"scenario {self.scenario.name!r}, seed {self.seed}, {cloud}, "
            f"{self.scheduling} scheduling"
        )
        count = len(self.violations)
        if count:
            lines = [f"the protocol was broken: {run}: {_count(count, 'violation')}"]
        elif self.checked == 0:
            lines = [
                f"nothing was checked: {_count(self.check.receipts, 'receipt')} in {run}: no "
                "invariant judged anything, so this run passes whatever the cloud does "
                "(give it purchases)"
            ]
        else:
            lines = [f"the protocol held: {run}: no violations"]
        lines += [f"  {v.format_line()}" for v in self.violations[:MAX_LISTED]]
        if count > MAX_LISTED:
            lines.append(f"  ... and {count - MAX_LISTED} more")
        report = self.report
        lines.append(
            f"report: {_count(report.purchases, 'purchase')}, {report.delivered} delivered, "
            f"lost {report.lost}, duplicates {report.duplicates}, faults {report.faults}"
        )
        judged = [f"{i.name} {i.checked}" for i in self.check.invariants if i.checked]
        never = [i.name for i in self.check.invariants if not i.checked]
        lines.append(
            f"judged: {', '.join(judged) or 'nothing'}"
            + (f"; never exercised: {', '.join(never)}" if never else "")
        )
        lines += [f"idle fault: {fault}" for fault in self.idle_faults]
        return "\n".join(lines)

    def assert_ok(self) -> None:
        """Raise :class:`ProtocolViolationError` if any invariant was violated, and
        :class:`NothingCheckedError` if none judged anything (no receipt).

        The message lists the violations and ends with the command replaying the run; the
        scenario is written to ``failures_dir`` first (except for the examples hypothesis
        tries while shrinking: the final, shrunk example is written). The report's
        ``lost`` and ``duplicates`` count violations of this same check, so a run that
        passes here has both at 0: no second assertion is needed.
        """
        __tracebackhide__ = True  # pytest: show the failure at the caller's line
        if not self.check.ok:
            raise self._failure()
        if self.checked == 0:
            raise NothingCheckedError(self.describe(), self)

    def _failure(self) -> ProtocolViolationError:
        """The one error a failing run raises (built here, raised from one line, so that
        hypothesis sees one bug however the examples differ)."""
        lines = [self.describe()]
        if _shrinking():
            lines.append("(an example hypothesis tried while shrinking: not written)")
            return ProtocolViolationError("\n".join(lines), self, None, None)
        path = self.write_scenario()
        if self.cloud is None and self.cloud_label is not None:
            lines.append(
                f"note: the cloud factory {self.cloud_label} cannot be named on the command "
                "line (define it at module level of an importable module); the command "
                "below runs the reference cloud"
            )
        command = self.replay_command(path)
        lines += [f"scenario written to {path}; replay it with:", command]
        return ProtocolViolationError("\n".join(lines), self, path, command)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _fault_kind(what: str) -> str:
    """An idle fault's kind, without its numbers (``[network] loss``, ``[[crash]]``): one
    hypothesis event label per kind, however the drawn values differ."""
    return re.sub(r"[\s,]*(#\d+|\([^)]*\)|= \S+)", "", what)


def _tell_hypothesis(outcome: RunOutcome) -> None:
    """Tell a running hypothesis test what this run exercised (``hypothesis.event``)."""
    if not _hypothesis_test_running():
        return
    import hypothesis  # noqa: PLC0415 - imported already: a hypothesis test is running

    for invariant in outcome.check.invariants:
        judged = "judged" if invariant.checked else "never judged"
        hypothesis.event(f"assocsim: {invariant.name} {judged}")
    if outcome.checked == 0:
        hypothesis.event("assocsim: nothing was checked")
    reasons = {
        e.message.reason
        for e in outcome.events
        if e.kind is EventKind.SEND and e.sender == CLOUD and isinstance(e.message, AssociationPush)
    }
    if PushReason.DUAL_SEND in reasons:
        hypothesis.event("assocsim: a dual-send push sent")
    if PushReason.TIMEOUT in reasons:
        hypothesis.event("assocsim: a timeout push sent")
    if any(e.kind is EventKind.CRASH for e in outcome.events):
        hypothesis.event("assocsim: an actor crashed")
    for fault in outcome.idle_faults:
        hypothesis.event(f"assocsim: a fault injected nothing: {_fault_kind(fault.what)}")


def assert_protocol_holds(outcome: RunOutcome) -> None:
    """``outcome.assert_ok()``: fail with the violations and the replay command."""
    __tracebackhide__ = True
    outcome.assert_ok()


def run_checked(
    scenario: Scenario,
    seed: int | None = None,
    *,
    cloud: CloudFactory | str | None = None,
    scheduling: Scheduling = "inline",
    failures_dir: Path | None = None,
    observers: Sequence[Observer] = (),
) -> RunOutcome:
    """Run ``scenario`` in virtual time with ``seed`` (default: the scenario's) and judge
    its trace with every invariant of :mod:`scenarios._trace._checks`.

    ``cloud`` is a variant of the cloud: a :data:`~scenarios.CloudFactory` or its
    ``"MODULE:FACTORY"`` name (loaded with :func:`load_cloud_factory`). ``observers`` see
    every event too. Deterministic: the same arguments give the same outcome.
    """
    run_seed = scenario.seed if seed is None else seed
    spec: str | None = None
    label: str | None = None
    factory: CloudFactory | None = None
    if isinstance(cloud, str):
        spec, factory = cloud, load_cloud_factory(cloud)
    elif cloud is not None:
        factory = cloud
        spec = cloud_factory_spec(cloud)
        label = None if spec is not None else repr(cloud)
    events: list[TraceEvent] = []
    builder = ReportBuilder(scenario)  # judged with the scenario's deadline, as the check
    tally = CrashTally()
    result = run_scenario(
        scenario,
        run_seed,
        observers=[events.append, builder, tally, *observers],
        scheduling=scheduling,
        cloud=factory,
    )
    result = attrs.evolve(result, report=builder.report(scenario=scenario.name, seed=run_seed))
    outcome = RunOutcome(
        scenario=scenario,
        seed=run_seed,
        scheduling=scheduling,
        result=result,
        events=tuple(events),
        check=check_events(events, settings=scenario),
        cloud=spec,
        cloud_label=label,
        failures_dir=DEFAULT_FAILURES_DIR if failures_dir is None else failures_dir,
        idle_faults=tuple(idle_faults(result.world, scenario.crash, tally)),
    )
    _tell_hypothesis(outcome)
    return outcome


class AssocsimRunner:
    """What the ``assocsim_run`` fixture gives a test: :func:`run_checked` writing
    failing scenarios to ``failures_dir``.

    ``runner(scenario, seed=None, *, cloud=None, scheduling="inline") -> RunOutcome``.
    """

    def __init__(self, failures_dir: Path = DEFAULT_FAILURES_DIR) -> None:
        self.failures_dir = failures_dir

    def __call__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        *,
        cloud: CloudFactory | str | None = None,
        scheduling: Scheduling = "inline",
    ) -> RunOutcome:
        return run_checked(
            scenario, seed, cloud=cloud, scheduling=scheduling, failures_dir=self.failures_dir
        )

    def __repr__(self) -> str:
        return f"AssocsimRunner(failures_dir={str(self.failures_dir)!r})"
