"""Symmetry: each state is explored from its canonical representative, the world's state
and ``assocsim check``'s checker renamed together (``docs/explore.md``, "Speed").

What must hold for that to be sound and worth it: a renamed checker is the checker of the
renamed trace; a state and each of its renamings have one fingerprint and one
representative; a renamed checker state moves as its checker fed the events; and a
counterexample found through representatives is a real run, named as from the initial
state. Each is shown to catch its planted bug (``tests/planted/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from actors import TraceEvent
from scenarios._explore._api import explore, replay_counterexample
from scenarios._explore._model import ProtocolModel, WorldState, _Renamed, _renamings, _Trail
from scenarios._explore._rename import Renaming, text_renaming
from scenarios._explore._search import Outcome, search
from scenarios._explore._world import (
    ALICE,
    BOB,
    WORLDS,
    Budgets,
    ExploreWorld,
    PhoneRole,
    PurchaseRole,
    world_named,
)
from scenarios._trace._checks import TraceChecker, body_text, check_trace_file, text_digest
from scenarios._trace._reader import parse_event
from tests.planted.buggy_cloud import buggy_cloud
from tests.planted.checkerless_renaming import CheckerlessRenamingModel
from tests.planted.lazy_monitor_renaming import OriginVerdictModel, UnpermutedTextsModel
from tests.planted.namesake_symmetry import buyers_only_groups
from tests.planted.substring_renaming import substring_renaming
from tests.planted.uncanonical_representative import AsReachedModel, UnrenamedEventsModel

_WORLD = world_named("two-purchases")
_SWAP = {"r-1": "r-2", "r-2": "r-1", ALICE: BOB, BOB: ALICE, "shop-1": "shop-2", "shop-2": "shop-1"}


def _fed(events: list[TraceEvent], digests: dict[bytes, str]) -> TraceChecker:
    """A checker fed ``events``, each body's text kept by its digest in ``digests``."""
    checker = TraceChecker(_WORLD.settings())
    for event in events:
        record = parse_event(event.to_json(), 0)
        if record.msg:
            text = body_text(record.msg)
            digests.setdefault(text_digest(text), text)
        checker.feed_event(record)
    return checker


def _renamed_checker_is_the_renamed_traces(forget_digests: bool) -> bool:
    found = explore("two-purchases", cloud=buggy_cloud, symmetry=False)
    events = list(found.events)
    digests: dict[bytes, str] = {}
    checker = _fed(events, digests)
    rename = Renaming(_SWAP, {} if forget_digests else digests)
    expected = _fed([rename(event) for event in events], digests)
    assert checker.monitor_state() != expected.monitor_state()  # the swap changes it
    lines = [rename.text(v.format_line()) for v in checker.fork().result().violations]
    assert lines == [v.format_line() for v in expected.fork().result().violations]
    assert lines  # the counterexample breaks a promise
    made = checker.renamed(rename).monitor_state()
    frozen = rename(checker.monitor_state())  # what the explorer renames: the frozen cells
    return made == expected.monitor_state() and frozen == expected.monitor_state()


def test_a_renamed_checker_is_the_checker_of_the_renamed_trace() -> None:
    assert _renamed_checker_is_the_renamed_traces(forget_digests=False)


def test_a_renaming_that_forgets_the_digests_is_caught() -> None:
    assert not _renamed_checker_is_the_renamed_traces(forget_digests=True)


def _representatives(model: ProtocolModel) -> list[WorldState]:
    """Every state the search explores (one per fingerprint)."""
    explored: list[WorldState] = []
    chosen = model.representative

    def representative(state: WorldState) -> WorldState:
        explored.append(chosen(state))
        return explored[-1]

    with pytest.MonkeyPatch.context() as patch:  # the model's own again afterwards
        patch.setattr(model, "representative", representative)
        assert search(model).outcome is Outcome.EXHAUSTED
    return explored


def _canonical(model: ProtocolModel) -> bool:
    """Each explored state's renamings have its fingerprint, and their representative
    is it (its canonical form: the text of its parts and of the checker's cells)."""
    renamings = range(1, len(model._names))
    for state in _representatives(model):
        fingerprint = model.fingerprint(state)
        form = (model._renamed(state.key)[0], model._monitor_texts[state.monitor][0])
        for n in renamings:
            other = model._renamed_state(state, n)
            assert model.fingerprint(other) == fingerprint
            again = model.representative(other)
            if (model._renamed(again.key)[0], model._monitor_texts[again.monitor][0]) != form:
                return False
    return True


def test_every_state_is_explored_from_its_canonical_representative() -> None:
    assert _canonical(ProtocolModel(_WORLD, Budgets(loss=1)))


def test_a_representative_that_is_not_canonical_is_caught() -> None:
    assert not _canonical(AsReachedModel(_WORLD, Budgets(loss=1)))


def _moves_agree(model: ProtocolModel) -> bool:
    """Every transition of a renamed checker state (computed from the state it was
    renamed from) is the state its checker reaches fed the events, and the reference
    cloud is found to keep every promise."""
    moves: list[tuple[int, tuple[TraceEvent, ...], int]] = []
    monitored = model._monitored

    def watched(monitor: int, events: tuple[TraceEvent, ...]) -> int:
        found = monitored(monitor, events)
        moves.append((monitor, events, found))
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "_monitored", watched)
        outcome = search(model).outcome  # the reference cloud keeps every promise
    renamed = [move for move in moves if model._monitor_origin[move[0]][1]]
    assert len(renamed) > 100
    for monitor, events, found in renamed:
        checker = model._checker(monitor)
        assert checker.monitor_state() == model.monitor_state_of(monitor)
        checker = checker.fork()
        for event in events:
            checker.feed_event(parse_event(event.to_json(), 0))
        if checker.monitor_state() != model.monitor_state_of(found):
            return False
    return outcome is Outcome.EXHAUSTED


def test_a_renamed_checker_state_moves_as_its_checker_fed_the_events() -> None:
    assert _moves_agree(ProtocolModel(_WORLD, Budgets()))


def test_events_not_renamed_back_are_caught() -> None:
    assert not _moves_agree(UnrenamedEventsModel(_WORLD, Budgets()))


def test_renaming_the_world_without_the_checker_is_caught() -> None:
    assert search(ProtocolModel(_WORLD, Budgets())).outcome is Outcome.EXHAUSTED
    assert search(CheckerlessRenamingModel(_WORLD, Budgets())).outcome is Outcome.VIOLATION


class _NamesKept(ProtocolModel):
    """The product's states up to the order of dicts only: each state's canonical text
    in its own names (no renaming merges two states)."""

    def fingerprint(self, state: WorldState) -> Any:
        return hash((self._renamed(state.key)[0], self._monitor_texts[state.monitor][0]))

    def representative(self, state: WorldState) -> WorldState:
        return state


@pytest.mark.parametrize(
    ("budgets", "states", "kept"),
    [(Budgets(), 225, 423), (Budgets(loss=1), 1_626, 3_207)],
    ids=["no-faults", "loss"],
)
def test_symmetry_merges_each_state_with_its_mirror_and_no_more(
    budgets: Budgets, states: int, kept: int
) -> None:
    # The two purchases swap: a class of states has at most 2, so symmetry leaves at
    # least half of the states counted in their own names (and, exact, about half).
    merged = search(ProtocolModel(_WORLD, budgets))
    own = search(_NamesKept(_WORLD, budgets))
    assert (merged.progress.states, own.progress.states) == (states, kept)
    assert kept / 2 <= states < kept
    assert merged.reached == own.reached and merged.outcome is own.outcome


def _renamed_on_the_way(state: Any) -> bool:
    trail = state.trail
    while trail is not None:
        if isinstance(trail, _Renamed) and not trail.renaming.identity:
            return True
        assert isinstance(trail, _Renamed | _Trail)
        trail = trail.parent
    return False


def test_a_counterexample_through_representatives_is_a_real_run(tmp_path: Any) -> None:
    found = search(ProtocolModel(_WORLD, Budgets(), cloud=buggy_cloud))
    assert found.outcome is Outcome.VIOLATION and _renamed_on_the_way(found.state)
    result = explore("two-purchases", cloud=buggy_cloud)
    full = explore("two-purchases", cloud=buggy_cloud, symmetry=False)
    assert len(result.path) == len(full.path)
    trace = result.write_counterexample(tmp_path / "cx.jsonl")
    checked = check_trace_file(trace)  # assocsim check rejects it, with the same words
    assert [v.format_line() for v in checked.violations][:1] == list(result.violations[:1])
    identical, replayed = replay_counterexample(trace, cloud=buggy_cloud)
    assert identical  # the printed command re-executes it, step for step
    assert replayed.violations[:1] == result.violations[:1]


_CAROL = "+8613800000003"
_NAMESAKE = ExploreWorld(
    "namesake",
    "two symmetric-looking purchases, and a third whose POS names the first one's phone",
    (PhoneRole(ALICE), PhoneRole(BOB), PhoneRole(_CAROL)),
    (
        PurchaseRole("r-1", ALICE, ALICE, ask=600.0),
        PurchaseRole("r-2", BOB, BOB, ask=600.0),
        PurchaseRole("r-3", ALICE, _CAROL, ask=0.0, at=1.0),
    ),
)


def _world_as_renamed(world: ExploreWorld, rename: Renaming) -> tuple[frozenset[Any], ...]:
    """The world's phones and purchases (each with its shop) with their names renamed."""
    phones = frozenset((rename.text(p.phone_id), p.subscribes) for p in world.phones)
    purchases = frozenset(
        (*map(rename.text, (p.receipt_id, p.named, p.buyer, f"shop-{i + 1}")), p.ask, p.at, p.sku)
        for i, p in enumerate(world.purchases)
    )
    return phones, purchases


def _every_renaming_maps_the_world_onto_itself(world: ExploreWorld) -> bool:
    itself = _world_as_renamed(world, Renaming({}, {}))
    mappings = _renamings(world)
    return all(_world_as_renamed(world, Renaming(m, {})) == itself for m in mappings)


@pytest.mark.parametrize("world", [*WORLDS.values(), _NAMESAKE], ids=lambda w: w.name)
def test_every_renaming_is_a_symmetry_of_the_world(world: ExploreWorld) -> None:
    assert _every_renaming_maps_the_world_onto_itself(world)
    if world.name == "two-purchases":
        assert len(_renamings(world)) == 2  # the check sees a swap, not the identity alone


def test_phones_a_wrong_id_names_are_caught_swapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ExploreWorld, "symmetric_groups", buyers_only_groups)
    assert len(_renamings(_NAMESAKE)) == 2
    assert not _every_renaming_maps_the_world_onto_itself(_NAMESAKE)


def _renames_whole_names_only(rename: Callable[[str], str]) -> bool:
    swapped = "r-2 shop-01/r-2 +8613800000002 pos:m-1:p-1 r-10 +86138000000010 'r-12'"
    text = "r-1 shop-01/r-1 +8613800000001 pos:m-1:p-1 r-10 +86138000000010 'r-12'"
    return rename(text) == swapped


def test_a_renaming_replaces_whole_names_only() -> None:
    mapping = {"r-1": "r-2", "r-2": "r-1", "+8613800000001": "+8613800000002"}
    mapping["+8613800000002"] = "+8613800000001"
    assert _renames_whole_names_only(text_renaming(mapping))
    assert not _renames_whole_names_only(substring_renaming(mapping))  # the planted bug


# ------------------------------------------------------------------ renamed checker states


def _renamed_forms_are_their_checkers(model: ProtocolModel) -> bool:
    """Each renamed checker state's canonical forms (its origin's, permuted) are those of
    its checker's state, renamed cell by cell: the fingerprints are unchanged."""
    assert search(model).outcome is Outcome.EXHAUSTED
    renamed = [m for m, (_, k) in enumerate(model._monitor_origin) if k]
    assert len(renamed) > 100
    for monitor in renamed:
        rows = [model._cell_renamed(cell) for cell in model.monitor_state_of(monitor)]
        if model._monitor_texts[monitor] != tuple(hash(c) for c in zip(*rows, strict=True)):
            return False
    return True


def test_a_renamed_checker_states_forms_are_its_checkers() -> None:
    assert _renamed_forms_are_their_checkers(ProtocolModel(_WORLD, Budgets(loss=1)))


def test_renamed_forms_not_permuted_are_caught() -> None:
    assert not _renamed_forms_are_their_checkers(UnpermutedTextsModel(_WORLD, Budgets(loss=1)))


class _JudgedAll(ProtocolModel):
    """Every quiet state's verdict kept, none stopping the search (the planted cloud breaks
    promises on many paths)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verdicts: dict[int, tuple[str, ...]] = {}  # monitor -> verdict, in its names

    def violations(self, state: WorldState, terminal: bool) -> tuple[str, ...]:
        _, _, timers, network, _ = state.key
        if not (terminal or timers or network or state.error):  # quiet: judged
            self.verdicts[state.monitor] = self._verdict(state.monitor)
        return ()


class _JudgedAllByOrigin(_JudgedAll, OriginVerdictModel):
    pass


def _verdicts_are_their_checkers(model: _JudgedAll) -> bool:
    """A quiet state's verdict (a renamed one's made from its origin's) is the lines its
    own checker gives, in its names; some renamed state breaks a promise (not vacuous)."""
    search(model)
    renamed_broken = 0
    assert model.verdicts
    for monitor, lines in model.verdicts.items():
        result = model._checker(monitor).fork().result()
        if lines != tuple(v.format_line() for v in result.violations):
            return False
        renamed_broken += bool(model._monitor_origin[monitor][1] and lines)
    assert renamed_broken
    return True


def test_a_renamed_states_verdict_is_its_checkers() -> None:
    assert _verdicts_are_their_checkers(_JudgedAll(_WORLD, Budgets(), cloud=buggy_cloud))


def test_a_verdict_in_the_origins_names_is_caught() -> None:
    assert not _verdicts_are_their_checkers(
        _JudgedAllByOrigin(_WORLD, Budgets(), cloud=buggy_cloud)
    )
