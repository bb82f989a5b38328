"""The search: breadth- or depth-first over a model's states, with fingerprints.

Independent of the protocol: a :class:`Model` gives initial states, each state's
successors (a label and the next state), a canonical fingerprint of a state (symmetry
reduction belongs there), what a state violates and which *sometimes* properties it
reaches. :func:`search` visits every reachable state once (by fingerprint), explores it from
the model's representative of it, keeps for each the parent it was first reached from (so a
path can be rebuilt: its labels are those taken from the representatives), and stops at the first
violation, after ``max_states`` distinct states, or on Ctrl-C, saying which.

Breadth-first, the first violation found lies on a shortest path to a violating state;
depth-first uses less memory for the frontier and finds long paths first.

A model that judges runs only where they settle (``settles``: the explorer judges a path
when nothing is in flight and no timer is armed) would pass a world whose runs never
settle: a cloud that re-arms a timer at the same instant forever is never judged at all.
Given ``settles``, an exhausted search (which kept its transitions to states reached
before) finds the states from which no settled state can be reached; if there are any, a
state on the loop they lead into is a violation, :data:`NEVER_SETTLES`, with its path.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar

import attrs

__all__ = [
    "NEVER_SETTLES",
    "NEVER_SETTLES_TEXT",
    "Model",
    "Outcome",
    "SearchProgress",
    "SearchResult",
    "Strategy",
    "few_collections",
    "search",
]

S = TypeVar("S")

# A search makes millions of long-lived objects (states, visited entries) and almost no
# reference cycles: at the collector's default thresholds its full collections re-scan
# them all, about a fifth of the search's time. During a search the youngest generation
# is collected every this many allocations instead of 700 (cycles are still collected).
# Each such collection walks every young object, alive or not: over one explore() call
# of bench/explore.py's target world (the collection after the search included) 3 of
# them at 100,000 with symmetry (0.13-0.16 s of CPU, about 4 % of the call), 14 without
# (1.2-1.6 s, about 10 %); at a million 1 (0.01 s) and 1 (0.43-0.47 s), the peak memory
# the same (114-117 / 283-284 MB). An explore() call of the reference cloud's largest
# bench search leaves 21,000-26,000 objects in cycles in all (most of them its freed
# model's), so the bound matters only to a variant that makes many (a million young
# objects at most before a collection).
GC_THRESHOLD = 1_000_000

NEVER_SETTLES = "never-settles"
"""The violation of a state from which no run reaches a settled state (a livelock):
whatever its runs do is never judged at their end."""
NEVER_SETTLES_TEXT = (
    f"{NEVER_SETTLES}: no run from this state ever settles (a message stays in flight or a "
    "timer stays armed for ever: a livelock), so no run through it is judged at its end"
)


class Strategy(enum.StrEnum):
    BFS = "bfs"
    DFS = "dfs"


class Outcome(enum.StrEnum):
    EXHAUSTED = "exhausted"  # every reachable state visited
    VIOLATION = "violation"  # stopped at the first state violating a property
    MAX_STATES = "max-states"  # stopped after --max-states distinct states: partial
    INTERRUPTED = "interrupted"  # Ctrl-C: partial


class Model(Protocol[S]):
    """What :func:`search` explores."""

    def initial_states(self) -> Iterable[S]: ...

    def successors(self, state: S) -> Iterable[tuple[Hashable, S | None]]:
        """Every transition enabled in ``state``: a label (what happened) and the next
        state, or None when the model knows that state's fingerprint is an earlier
        transition's of ``state`` (it is counted, not computed). None at all: ``state``
        is terminal."""
        ...

    def fingerprint(self, state: S) -> Hashable:
        """Equal for states the search may treat as one (symmetric ones included)."""
        ...

    def representative(self, state: S) -> S:
        """The state to explore for ``state``, asked once, when its fingerprint is new: a
        state with the same fingerprint whose successors stand for ``state``'s (``state``
        itself, or, say, a canonical form of it)."""
        ...

    def violations(self, state: S, terminal: bool) -> Sequence[str]:
        """The properties ``state`` violates (always-properties on every state;
        eventually-properties when ``terminal``)."""
        ...

    def reached(self, state: S) -> Iterable[str]:
        """The sometimes-properties ``state`` reaches."""
        ...


@attrs.frozen
class SearchProgress:
    """How far a search got: states/s, depth and frontier, for a progress line."""

    states: int
    transitions: int
    depth: int
    frontier: int
    seconds: float

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0


@attrs.frozen
class SearchResult(Generic[S]):
    """What a search found. ``path``: the labels from an initial state to ``state`` (the
    violating one, when ``outcome`` is VIOLATION)."""

    outcome: Outcome
    progress: SearchProgress
    terminal_states: int
    reached: frozenset[str]
    violations: tuple[str, ...] = ()
    path: tuple[Hashable, ...] = ()
    state: S | None = None


def search(
    model: Model[S],
    *,
    strategy: Strategy = Strategy.BFS,
    max_states: int | None = None,
    progress: Callable[[SearchProgress], None] | None = None,
    every: float = 1.0,
    settles: Callable[[S], bool] | None = None,
) -> SearchResult[S]:
    """Visit the reachable states of ``model`` (see the module doc). ``progress`` is
    called about every ``every`` seconds of wall time; ``settles``: where the model judges
    a run's end (see the module doc). The collector's thresholds are raised for the
    search and put back after it (:data:`GC_THRESHOLD`)."""
    with few_collections():
        return _search(model, strategy, max_states, progress, every, settles=settles)


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """The youngest generation collected every :data:`GC_THRESHOLD` allocations inside,
    the thresholds put back after. A caller that frees its search's objects (the model,
    its caches) before leaving spares the collection that would otherwise follow at once
    and walk them all, alive and young (about 9 % of a small world's explore() call)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _search(  # noqa: PLR0915 - one loop, kept in one place for speed
    model: Model[S],
    strategy: Strategy,
    max_states: int | None,
    progress: Callable[[SearchProgress], None] | None,
    every: float,
    *,
    settles: Callable[[S], bool] | None,
) -> SearchResult[S]:
    started = time.perf_counter()
    parents: dict[
        Hashable, tuple[Hashable | None, Hashable, int]
    ] = {}  # fp -> parent, label, depth
    frontier: deque[tuple[S, Hashable, int]] = deque()
    reached: set[str] = set()
    # With ``settles``, for the livelock check once exhausted: the settled states, and the
    # transitions to states reached before ("into": target -> sources); the others are
    # in ``parents`` (a mirrored transition, None, leads where an earlier one of the same
    # state did: it adds no edge).
    into: dict[Hashable, list[Hashable]] | None = {} if settles is not None else None
    settled: list[Hashable] = []
    transitions = 0
    terminal = 0
    deepest = 0
    next_report = started + every

    def snapshot() -> SearchProgress:
        return SearchProgress(
            len(parents), transitions, deepest, len(frontier), time.perf_counter() - started
        )

    def path_to(fp: Hashable) -> tuple[Hashable, ...]:
        labels: list[Hashable] = []
        at: Hashable | None = fp
        while at is not None:
            parent, label, _ = parents[at]
            if parent is not None:
                labels.append(label)
            at = parent
        return tuple(reversed(labels))

    def found(fp: Hashable, state: S, broken: Sequence[str]) -> SearchResult[S]:
        return SearchResult(
            Outcome.VIOLATION,
            snapshot(),
            terminal,
            frozenset(reached),
            tuple(broken),
            path_to(fp),
            state,
        )

    pop = frontier.popleft if strategy is Strategy.BFS else frontier.pop
    try:
        for initial in model.initial_states():
            fp = model.fingerprint(initial)
            if fp in parents:
                continue
            parents[fp] = (None, "", 0)
            state = model.representative(initial)
            if settles is not None and settles(state):
                settled.append(fp)
            reached.update(model.reached(state))
            broken = model.violations(state, False)
            if broken:
                return found(fp, state, broken)
            frontier.append((state, fp, 0))
        while frontier:
            if max_states is not None and len(parents) >= max_states:
                return SearchResult(Outcome.MAX_STATES, snapshot(), terminal, frozenset(reached))
            state, fp, depth = pop()
            any_successor = False
            for label, successor in model.successors(state):
                any_successor = True
                transitions += 1
                if successor is None:  # a mirror of an earlier transition's: visited
                    continue
                child_fp = model.fingerprint(successor)
                if child_fp in parents:
                    if into is not None:
                        sources = into.get(child_fp)
                        if sources is None:
                            into[child_fp] = [fp]
                        else:
                            sources.append(fp)
                    continue
                parents[child_fp] = (fp, label, depth + 1)
                deepest = max(deepest, depth + 1)
                child = model.representative(successor)
                if settles is not None and settles(child):
                    settled.append(child_fp)
                reached.update(model.reached(child))
                broken = model.violations(child, False)
                if broken:
                    return found(child_fp, child, broken)
                frontier.append((child, child_fp, depth + 1))
            if not any_successor:
                terminal += 1
                broken = model.violations(state, True)
                if broken:
                    return found(fp, state, broken)
            if progress is not None:
                now = time.perf_counter()
                if now >= next_report:
                    next_report = now + every
                    progress(snapshot())
        if into is not None:
            stuck = _never_settling(model, into, settled, parents)
            if stuck is not None:  # its state as the search reached it: the path's events
                return found(stuck, _state_at(model, parents, stuck), [NEVER_SETTLES_TEXT])
    except KeyboardInterrupt:
        return SearchResult(Outcome.INTERRUPTED, snapshot(), terminal, frozenset(reached))
    return SearchResult(Outcome.EXHAUSTED, snapshot(), terminal, frozenset(reached))


def _never_settling(
    model: Model[S],
    into: dict[Hashable, list[Hashable]],
    settled: list[Hashable],
    parents: dict[Hashable, tuple[Hashable | None, Hashable, int]],
) -> Hashable | None:
    """A state on a cycle no run leaves for a settled state (a livelock), or None. The
    states that can reach a settled one are found backwards from the settled ones (each
    state's first transition into it is its entry in ``parents``, the others ``into``);
    the rest is closed under successors, so a walk from its shallowest state comes back
    to a state it passed, which is on such a cycle (its path shows the loop's way in)."""
    good = set(settled)
    todo = list(good)
    while todo:
        at = todo.pop()
        parent = parents[at][0]
        if parent is not None and parent not in good:
            good.add(parent)
            todo.append(parent)
        for source in into.get(at, ()):
            if source not in good:
                good.add(source)
                todo.append(source)
    if len(good) == len(parents):
        return None
    shallowest = min((fp for fp in parents if fp not in good), key=lambda fp: parents[fp][2])
    state = _state_at(model, parents, shallowest)
    passed: set[Hashable] = set()
    while True:  # every successor of a state not good is not good: walk until a repeat
        fp = model.fingerprint(state)
        if fp in passed:
            return fp
        passed.add(fp)
        state = next(model.representative(c) for _, c in model.successors(state) if c is not None)


def _state_at(
    model: Model[S],
    parents: dict[Hashable, tuple[Hashable | None, Hashable, int]],
    fp: Hashable,
) -> S:
    """The state the search explored for ``fp``, made again by walking its path from the
    initial state (the search keeps fingerprints, not states): at each step the successor
    of the fingerprint the path names, as the search first reached it."""
    chain: list[Hashable] = []
    at: Hashable | None = fp
    while at is not None:
        chain.append(at)
        at = parents[at][0]
    chain.reverse()
    state = next(
        model.representative(s) for s in model.initial_states() if model.fingerprint(s) == chain[0]
    )
    for want in chain[1:]:
        state = next(
            model.representative(child)
            for _, child in model.successors(state)
            if child is not None and model.fingerprint(child) == want
        )
    return state
