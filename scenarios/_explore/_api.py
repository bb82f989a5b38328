"""Explore a world: :func:`explore` runs the search over the protocol's model and gives an
:class:`ExploreResult`: what was covered, which sometimes-properties were reached, and the
shortest counterexample found, as an ordinary trace file (``docs/trace-format.md``).

A pytest of a user's cloud variant::

    from scenarios import explore

    def test_my_cloud_keeps_every_promise():
        explore("wrong-id", loss=1, cloud=my_cloud_factory).assert_ok()
"""

from __future__ import annotations

import io
import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import attrs

from actors import TRACE_FORMAT, JsonlTraceWriter, TraceEvent
from protocol import AssocsimError
from scenarios._sim._cloud_factory import cloud_factory_spec, load_cloud_factory
from scenarios._sim._runner import CloudFactory

from ._model import STEP_RAISED, ProtocolModel, Step, WorldState, reference_cloud
from ._search import (
    NEVER_SETTLES_TEXT,
    Outcome,
    SearchProgress,
    Strategy,
    few_collections,
    search,
)
from ._world import (
    Budgets,
    CrashPoints,
    ExploreError,
    ExploreWorld,
    with_settings,
    world_named,
)

__all__ = [
    "ExplorationFailed",
    "ExploreResult",
    "FaultBudgets",
    "explore",
    "replay_counterexample",
]


class FaultBudgets(TypedDict, total=False):
    """:func:`explore`'s fault budgets as one typed value: ``explore(world, **budgets)``
    (a parametrized test's or a sweep's faults, checked by mypy like the keywords)."""

    loss: int
    duplication: int
    crashes: int
    crash_points: str | CrashPoints


class ExplorationFailed(AssocsimError, AssertionError):
    """:meth:`ExploreResult.assert_ok` found a violation, an unreached sometimes-property
    or a partial search (an ``AssertionError`` too, so that a test framework reports it as
    a failed assertion)."""


@attrs.frozen
class ExploreResult:
    """What :func:`explore` found (``ok``: exhausted, no violation, every sometimes-property
    reached)."""

    world: ExploreWorld
    budgets: Budgets
    strategy: Strategy
    symmetry: bool
    cloud: str | None  # MODULE:FACTORY of a variant, None for the reference
    outcome: Outcome
    progress: SearchProgress
    terminal_states: int
    judged: int  # quiet states (nothing in flight, no timer) whose path was judged
    expected: tuple[str, ...]
    reached: frozenset[str]
    violations: tuple[str, ...]
    path: tuple[str, ...]  # the counterexample's steps, in words
    events: tuple[TraceEvent, ...]  # the counterexample's trace
    overrides: tuple[tuple[str, str], ...] = ()  # --set KEY=VALUE, in order

    @property
    def not_reached(self) -> tuple[str, ...]:
        return tuple(p for p in self.expected if p not in self.reached)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.EXHAUSTED and not self.violations and not self.not_reached

    def header(self) -> dict[str, Any]:
        """The counterexample trace's header: the world's settings and how to replay it."""
        b = self.budgets
        return {
            "scenario": f"explore:{self.world.name}",
            "settings": self.world.settings(),
            "explore": {
                "world": self.world.name,
                "loss": b.loss,
                "duplication": b.duplication,
                "crashes": b.crashes,
                "crash_points": str(b.crash_points),
                "cloud": self.cloud,
                "set": dict(self.overrides),
                "path": list(self.path),
            },
        }

    def write_counterexample(self, path: str | Path) -> Path:
        """Write the counterexample as a trace file (``assocsim check`` rejects it)."""
        if not self.violations:
            raise ExploreError("no counterexample: the search found no violation")
        target = Path(path)
        with target.open("w", encoding="utf-8") as stream:
            writer = JsonlTraceWriter(stream, self.header())
            for event in self.events:
                writer(event)
        return target

    def replay_command(self, trace: str | Path) -> str:
        return shlex.join([*_command_words(self), "--replay", str(trace)])

    def format_text(self) -> str:
        p, b = self.progress, self.budgets
        lines = [
            f"world {self.world.name}: {self.world.description}",
            f"faults: loss <= {b.loss}, duplication <= {b.duplication}, crashes <= {b.crashes}"
            f" ({b.crash_points}); {self.strategy}, symmetry {'on' if self.symmetry else 'off'}"
            + (f"; cloud {self.cloud}{self._symmetry_note()}" if self.cloud else ""),
            f"{_OUTCOME_WORDS[self.outcome]}: {p.states} distinct states, {p.transitions} "
            f"transitions, {self.terminal_states} terminal, {self.judged} paths judged, "
            f"depth {p.depth}, {p.frontier} states left unexplored, {p.seconds:.1f} s "
            f"({p.states_per_second:,.0f} states/s)",
        ]
        unreached = "NEVER REACHED" if self.outcome is Outcome.EXHAUSTED else "not reached yet"
        for prop in self.expected:
            lines.append(f"  sometimes: {prop}: {'reached' if prop in self.reached else unreached}")
        if self.violations:
            lines.append(f"violation, shortest counterexample found: {len(self.path)} steps")
            lines += [f"  {v}" for v in self.violations]
            lines += [f"  {n:>2}. {text}" for n, text in enumerate(self.path, 1)]
        elif self.outcome is Outcome.EXHAUSTED:
            lines.append(
                "no violations"
                if not self.not_reached
                else "no violations, but a "
                "sometimes-property was never reached: the search proved nothing about it"
            )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        p = self.progress
        return {
            "ok": self.ok,
            "world": self.world.name,
            "outcome": str(self.outcome),
            "states": p.states,
            "transitions": p.transitions,
            "terminal_states": self.terminal_states,
            "judged": self.judged,
            "depth": p.depth,
            "frontier": p.frontier,
            "seconds": round(p.seconds, 3),
            "states_per_second": round(p.states_per_second),
            "sometimes": {prop: prop in self.reached for prop in self.expected},
            "violations": list(self.violations),
            "counterexample": list(self.path),
            **{k: v for k, v in self.header()["explore"].items() if k not in ("world", "path")},
            "push_timeout": self.world.push_timeout,
            "mismatch_policy": str(self.world.mismatch_policy),
            "strategy": str(self.strategy),
            "symmetry": self.symmetry,
        }

    def _symmetry_note(self) -> str:
        """What symmetry assumes of a cloud variant, said beside its name."""
        if not self.world.symmetric_groups():
            return ""
        if self.symmetry:
            return " (symmetry assumed: it treats phones of one role alike; --no-symmetry checks)"
        return " (symmetry off for a variant: --symmetry assumes it treats phones alike)"

    def assert_ok(self) -> None:
        """Fail (:class:`ExplorationFailed`) unless :attr:`ok`; the message has the text."""
        if not self.ok:
            raise ExplorationFailed(self.format_text())


_OUTCOME_WORDS = {
    Outcome.EXHAUSTED: "exhausted",
    Outcome.VIOLATION: "stopped at a violation",
    Outcome.MAX_STATES: "PARTIAL (--max-states reached)",
    Outcome.INTERRUPTED: "PARTIAL (interrupted)",
}


def explore(
    world: str | ExploreWorld,
    *,
    loss: int = 0,
    duplication: int = 0,
    crashes: int = 0,
    crash_points: str | CrashPoints = CrashPoints.BETWEEN,
    strategy: str | Strategy = Strategy.BFS,
    max_states: int | None = None,
    symmetry: bool | None = None,
    cloud: CloudFactory | str | None = None,
    settings: Mapping[str, str] | None = None,
    progress: Callable[[SearchProgress], None] | None = None,
    progress_every: float = 1.0,
    reuse_moves: bool = True,
) -> ExploreResult:
    """Visit every state of ``world`` (a built-in name or an :class:`ExploreWorld`)
    under the fault budgets, with the reference cloud or ``cloud`` (a factory or its
    ``MODULE:FACTORY``); ``progress`` is called about every ``progress_every`` seconds;
    ``reuse_moves=False`` steps a machine for every transition (slower; for a cloud
    variant whose steps depend on more than its attributes); see ``docs/explore.md``.

    ``symmetry`` (merging states that differ only by swapping phones and shops of one
    role) defaults to on for the reference cloud and off for a variant: a variant may
    treat the second phone unlike the first, and merged states would hide that (a cloud
    pushing early only for the receipt uploaded second passed with it on). ``True``
    assumes a variant treats them alike."""
    if isinstance(world, str):
        world = world_named(world)
    given = dict(settings or {})
    world = with_settings(world, given)
    try:
        budgets = Budgets(loss, duplication, crashes, CrashPoints(crash_points))
        strategy = Strategy(strategy)
    except ValueError as exc:
        raise ExploreError(f"explore: {exc}") from None
    if max_states is not None and max_states < 1:
        raise ExploreError("explore: --max-states must be at least 1")
    spec: str | None = None
    if isinstance(cloud, str):
        spec, factory = cloud, load_cloud_factory(cloud)
    elif cloud is not None:
        spec, factory = cloud_factory_spec(cloud) or getattr(cloud, "__qualname__", "?"), cloud
    else:
        factory = reference_cloud
    # the model and the search's states freed before the collector's thresholds are put
    # back: the collection that follows then has almost nothing to walk (few_collections)
    if symmetry is None:
        symmetry = cloud is None
    with few_collections():
        model = ProtocolModel(world, budgets, cloud=factory, symmetry=symmetry, memoize=reuse_moves)
        found = search(
            model,
            strategy=strategy,
            max_states=max_states,
            progress=progress,
            every=progress_every,
            settles=model.settled,
        )
        path: tuple[str, ...] = ()
        events: tuple[TraceEvent, ...] = ()
        violations = found.violations
        if found.outcome is Outcome.VIOLATION and found.state is not None:
            steps = [step for step in found.path if isinstance(step, Step)]
            assert len(steps) == len(found.path), "the protocol model labels its edges with Steps"
            path, events = _shortest_prefix(model, found.state, [model.describe(s) for s in steps])
            if NEVER_SETTLES_TEXT in violations:  # and what its path broke on the way
                broken = model.check(found.state.events()).violations
                violations += tuple(v.format_line() for v in broken if v.kind == "safety")
        result = ExploreResult(
            world=world,
            budgets=budgets,
            strategy=strategy,
            symmetry=symmetry and bool(world.symmetric_groups()),
            cloud=spec,
            outcome=found.outcome,
            progress=found.progress,
            terminal_states=found.terminal_states,
            judged=model.judged,
            expected=model.expected(),
            reached=found.reached,
            violations=violations,
            path=path,
            events=events,
            overrides=tuple(given.items()),
        )
        del model, found
    return result


def _shortest_prefix(
    model: ProtocolModel, state: WorldState, path: Sequence[str]
) -> tuple[tuple[str, ...], tuple[TraceEvent, ...]]:
    """The path cut after the first step whose trace already breaks a safety invariant
    the whole path breaks (a liveness violation needs the whole path)."""
    chunks = state.chunks()  # the start, then one chunk per step
    full = model.check(ev for chunk in chunks for ev in chunk)
    safety = {(v.invariant, v.receipt) for v in full.violations if v.kind == "safety"}
    if safety:
        for n in range(1, len(path) + 1):
            events = [ev for chunk in chunks[: n + 1] for ev in chunk]
            if any((v.invariant, v.receipt) in safety for v in model.check(events).violations):
                return tuple(path[:n]), tuple(events)
    return tuple(path), tuple(ev for chunk in chunks for ev in chunk)


def replay_counterexample(
    trace: str | Path, *, cloud: CloudFactory | None = None
) -> tuple[bool, ExploreResult]:
    """Re-execute the steps a counterexample trace's header records and compare the
    events with the file's: ``(identical, result)`` (the result holds the new trace and
    its violations as ``assocsim check`` judges them)."""
    target = Path(trace)
    try:
        lines = target.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0])
    except (OSError, ValueError, IndexError) as exc:
        raise ExploreError(f"replay: cannot read {target}: {exc}") from None
    spec = header.get("explore") if isinstance(header, dict) else None
    if header.get("format") != TRACE_FORMAT or not isinstance(spec, dict):
        raise ExploreError(f"replay: {target} is not a trace written by assocsim explore")
    overrides = spec.get("set") or {}
    if not isinstance(overrides, dict):
        raise ExploreError(f"replay: {target}: the header's explore.set is not a table")
    overrides = {str(k): str(v) for k, v in overrides.items()}
    world = with_settings(world_named(str(spec.get("world"))), overrides)
    budgets = Budgets(
        int(spec["loss"]),
        int(spec["duplication"]),
        int(spec["crashes"]),
        CrashPoints(spec["crash_points"]),
    )
    spec_cloud = spec.get("cloud")
    factory = cloud or (load_cloud_factory(spec_cloud) if spec_cloud else reference_cloud)
    model = ProtocolModel(world, budgets, cloud=factory, symmetry=False)
    path = tuple(str(step) for step in spec["path"])
    final = model.follow(path)
    events = tuple(final.events())
    stream = io.StringIO()
    writer = JsonlTraceWriter(stream, header)
    for event in events:
        writer(event)
    writer_lines = stream.getvalue().splitlines()
    identical = writer_lines[1:] == lines[1:]
    result = model.check(events)
    # A step that raised is the violation itself: its trace may break nothing.
    raised = () if final.error is None else (f"{STEP_RAISED}: {final.error}",)
    replayed = ExploreResult(
        world=world,
        budgets=budgets,
        strategy=Strategy.BFS,
        symmetry=False,
        cloud=spec_cloud,
        outcome=Outcome.VIOLATION if raised or not result.ok else Outcome.EXHAUSTED,
        progress=SearchProgress(len(path) + 1, len(path), len(path), 0, 0.0),
        terminal_states=0,
        judged=1,
        expected=(),
        reached=frozenset(),
        violations=(*raised, *(v.format_line() for v in result.violations)),
        path=path,
        events=events,
        overrides=tuple(overrides.items()),
    )
    return identical, replayed


def _command_words(result: ExploreResult) -> list[str]:
    b = result.budgets
    words = ["assocsim", "explore", result.world.name]
    for key, value in result.overrides:
        words += ["--set", f"{key}={value}"]
    if b.loss:
        words += ["--max-loss", str(b.loss)]
    if b.duplication:
        words += ["--max-dup", str(b.duplication)]
    if b.crashes:
        words += ["--max-crashes", str(b.crashes), "--crash-points", str(b.crash_points)]
    if result.cloud:
        words += ["--cloud", result.cloud]
    return words
