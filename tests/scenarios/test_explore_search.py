"""The explorer's search on a toy model whose reachable state count is published.

Lamport's two-phase commit, ``TwoPhase.tla`` (the TLA+ video course, lecture 6), as TLC
checks it in the tlaplus/Examples repository: with ``RM = {r1, r2, r3}``
(``specifications/transaction_commit/TwoPhase.cfg``) its ``manifest.json`` records
``"distinctStates": 288`` and ``"stateDepth": 11`` (TLC counts the initial state as depth
1); the module's closing comment says six RMs make "50816 reachable states". The model
below transcribes the spec's actions one for one; the search must find those numbers.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from scenarios._explore import _api
from scenarios._explore._model import ProtocolModel
from scenarios._explore._search import GC_THRESHOLD, Outcome, Strategy, few_collections, search
from scenarios._explore._world import Budgets, world_named

# state: (rmState per RM, tmState, tmPrepared, msgs)
TwoPhaseState = tuple[tuple[str, ...], str, frozenset[int], frozenset[object]]


class TwoPhase:
    def __init__(self, rms: int, *, consistent: bool = True) -> None:
        self.rms = range(rms)
        self.consistent = consistent  # False: a planted bug (commit without every prepare)

    def initial_states(self) -> Iterable[TwoPhaseState]:
        yield (("working",) * len(self.rms), "init", frozenset(), frozenset())

    def fingerprint(self, state: TwoPhaseState) -> TwoPhaseState:
        return state

    def representative(self, state: TwoPhaseState) -> TwoPhaseState:
        return state  # no symmetry: every state is explored as reached

    def successors(self, state: TwoPhaseState) -> Iterable[tuple[str, TwoPhaseState]]:
        rm_state, tm, prepared, msgs = state
        if tm == "init" and (prepared == frozenset(self.rms) or not self.consistent):
            yield "TMCommit", (rm_state, "committed", prepared, msgs | {"Commit"})
        if tm == "init":
            yield "TMAbort", (rm_state, "aborted", prepared, msgs | {"Abort"})
        for rm in self.rms:
            if tm == "init" and ("Prepared", rm) in msgs:
                yield f"TMRcvPrepared({rm})", (rm_state, tm, prepared | {rm}, msgs)
            if rm_state[rm] == "working":
                prepared_rm = _set(rm_state, rm, "prepared")
                yield f"RMPrepare({rm})", (prepared_rm, tm, prepared, msgs | {("Prepared", rm)})
                yield f"RMChooseToAbort({rm})", (_set(rm_state, rm, "aborted"), tm, prepared, msgs)
            if "Commit" in msgs:
                yield f"RMRcvCommitMsg({rm})", (_set(rm_state, rm, "committed"), tm, prepared, msgs)
            if "Abort" in msgs:
                yield f"RMRcvAbortMsg({rm})", (_set(rm_state, rm, "aborted"), tm, prepared, msgs)

    def violations(self, state: TwoPhaseState, terminal: bool) -> Sequence[str]:
        rm_state = state[0]
        if "committed" in rm_state and "aborted" in rm_state:
            return ("TCConsistent",)
        return ()

    def reached(self, state: TwoPhaseState) -> Iterable[str]:
        if "committed" in state[0]:
            yield "some RM committed"


def _set(states: tuple[str, ...], rm: int, value: str) -> tuple[str, ...]:
    return (*states[:rm], value, *states[rm + 1 :])


def test_two_phase_commit_with_three_rms_has_tlcs_288_states() -> None:
    result = search(TwoPhase(3))
    assert result.outcome is Outcome.EXHAUSTED
    assert result.progress.states == 288
    assert result.progress.depth + 1 == 11  # TLC's stateDepth counts the initial state
    assert result.reached == {"some RM committed"}


def test_two_phase_commit_with_six_rms_has_50816_states_depth_first_too() -> None:
    result = search(TwoPhase(6), strategy=Strategy.DFS)
    assert result.outcome is Outcome.EXHAUSTED
    assert result.progress.states == 50816


def test_a_planted_inconsistency_is_found_on_a_shortest_path() -> None:
    # Committing without every RM prepared: an RM aborts, the TM commits, an RM commits.
    result = search(TwoPhase(3, consistent=False))
    assert result.outcome is Outcome.VIOLATION
    assert result.violations == ("TCConsistent",)
    assert len(result.path) == 3
    assert result.path[0] in {f"RMChooseToAbort({rm})" for rm in range(3)} | {"TMCommit"}


def test_max_states_stops_with_a_partial_result() -> None:
    result = search(TwoPhase(3), max_states=50)
    assert result.outcome is Outcome.MAX_STATES
    assert 50 <= result.progress.states < 288


@pytest.mark.parametrize("strategy", list(Strategy))
def test_ctrl_c_gives_a_partial_result(strategy: Strategy) -> None:
    calls = 0

    def interrupt(progress: object) -> None:
        nonlocal calls
        calls += 1
        raise KeyboardInterrupt

    result = search(TwoPhase(3), strategy=strategy, progress=interrupt, every=0.0)
    assert result.outcome is Outcome.INTERRUPTED
    assert calls == 1
    assert 0 < result.progress.states < 288


class _Watched(TwoPhase):
    """Records the collector's thresholds while the search runs; raises if told to."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__(3)
        self.seen: set[tuple[int, int, int]] = set()
        self.fail = fail

    def successors(self, state: TwoPhaseState) -> Iterable[tuple[str, TwoPhaseState]]:
        self.seen.add(gc.get_threshold())
        if self.fail:
            raise RuntimeError("planted")
        return super().successors(state)


def test_the_collector_is_eased_during_a_search_and_put_back_after() -> None:
    before = gc.get_threshold()
    watched = _Watched()
    assert search(watched).progress.states == 288
    assert watched.seen == {(max(before[0], GC_THRESHOLD), *before[1:])}
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError, match="planted"):
        search(_Watched(fail=True))
    assert gc.get_threshold() == before


def _alive_when_put_back(
    run: Callable[[type[ProtocolModel]], object], monkeypatch: pytest.MonkeyPatch
) -> list[bool]:
    """Per time the collector's thresholds are put back as they were before ``run``:
    whether a protocol model it made (of the class it is given, which explore uses too)
    was still alive (its objects then walked by the collection that follows)."""
    models: list[weakref.ref[ProtocolModel]] = []

    class Recorded(ProtocolModel):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            models.append(weakref.ref(self))

    before, put_back = gc.get_threshold(), gc.set_threshold
    alive: list[bool] = []

    def watched(*thresholds: int) -> None:
        if thresholds == before:
            alive.append(any(model() is not None for model in models))
        put_back(*thresholds)

    monkeypatch.setattr(_api, "ProtocolModel", Recorded)
    monkeypatch.setattr(gc, "set_threshold", watched)
    run(Recorded)
    assert gc.get_threshold() == before and models
    return alive


def test_explore_frees_its_model_before_the_collector_is_put_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _alive_when_put_back(lambda _: _api.explore("pull").assert_ok(), monkeypatch) == [False]


def test_a_model_kept_alive_past_the_collectors_reset_is_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def kept_alive(model_class: type[ProtocolModel]) -> object:
        # explore as it was before it freed its model inside few_collections
        with few_collections():
            model = model_class(world_named("pull"), Budgets())
            search(model)
        return model

    assert _alive_when_put_back(kept_alive, monkeypatch) == [True]
