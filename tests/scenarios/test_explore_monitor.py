"""The explorer searches the product of the world and ``assocsim check``'s monitor
(issue 15): two paths merge only when the machines and the checker's memory agree, so a
violation whose evidence no party keeps is still found (``docs/explore.md``, "Limit")."""

from __future__ import annotations

from actors import EventKind, TraceEvent
from protocol import AssociationPush, PushReason
from scenarios import TraceChecker, explore
from scenarios._explore._model import ProtocolModel
from scenarios._explore._search import Outcome, search
from scenarios._explore._world import Budgets, world_named
from tests.planted.forgetful_leak import STRANGER, forgetful_leak_cloud

_SETTINGS = {"cloud": {"push_timeout": 600.0, "mismatch_policy": "dual-send"}}


def test_a_leak_only_a_merged_path_shows_is_found() -> None:
    result = explore("pull", crashes=1, cloud=forgetful_leak_cloud)
    assert result.outcome is Outcome.VIOLATION
    assert any(STRANGER in v for v in result.violations)
    assert "crash cloud" in result.path  # the crash that made the cloud forget the POS


def test_the_world_states_alone_merge_the_leak_away() -> None:
    # The planted leak is exactly the case of issue 15: a search that fingerprints the
    # world's states alone (the explorer before the product) reports an all-clear.
    model = ProtocolModel(
        world_named("pull"), Budgets(crashes=1), cloud=forgetful_leak_cloud, monitor=False
    )
    found = search(model)
    assert found.outcome is Outcome.EXHAUSTED and not found.violations


def test_the_leak_lies_on_a_path_of_the_world() -> None:
    # Every path of the small world judged on its own (no merging at all): some leak.
    model = ProtocolModel(
        world_named("pull"), Budgets(crashes=1), cloud=forgetful_leak_cloud, symmetry=False
    )
    stack, quiet, leaking = [model.initial_states().__next__()], 0, 0
    while stack:
        state = stack.pop()
        _, _, timers, network, _ = state.key
        if not timers and not network:
            quiet += 1
            leaking += not model.check(state.events()).ok
        stack.extend(child for _, child in model.successors(state))
    assert quiet > 0 and 0 < leaking < quiet


def _push(t: float) -> list[TraceEvent]:
    push = AssociationPush("r-1", "shop-1", "+8613800000001", PushReason.TIMEOUT, ())
    return [TraceEvent(t, EventKind.SEND, "cloud", "phone:+8613800000001", push)]


def test_the_monitor_state_keeps_what_decides_a_verdict() -> None:
    quiet, pushed = TraceChecker(_SETTINGS), TraceChecker(_SETTINGS)
    for event in _push(600.0):
        pushed(event)
    assert quiet.monitor_state() != pushed.monitor_state()
    again = TraceChecker(_SETTINGS)
    for event in _push(600.0):
        again(event)
    assert again.monitor_state() == pushed.monitor_state()
    hash(pushed.monitor_state())


def test_the_product_counts_of_the_bench_worlds() -> None:
    # The world's own counts are pinned in test_explore_speed.py (371 and 2,248 states);
    # the product with the monitor adds the states two histories used to share.
    counts = []
    for symmetry in (True, False):
        model = ProtocolModel(world_named("two-purchases"), Budgets(), symmetry=symmetry)
        found = search(model)
        assert not found.violations
        counts.append((found.progress.states, found.terminal_states))
    assert counts == [(423, 9), (2_512, 72)]
