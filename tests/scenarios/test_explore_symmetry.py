"""Symmetry: a state merges with its mirrors and no more, its fingerprint renaming the
world's state and ``assocsim check``'s checker state together (``docs/explore.md``,
*Fingerprints and symmetry*); each state is explored as first reached.

What must hold for that to be sound: a checker's cells renamed, in the canonical texts the
fingerprint hashes (``_canon_renamed``), are the cells of the checker of the renamed
trace, with its verdict renamed; two states share a fingerprint if and only if one is the
other renamed; every renaming maps the world onto itself; and a counterexample under
symmetry is a real run. Each is shown to catch its planted bug (``tests/planted/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from actors import TraceEvent
from scenarios._explore import _rename
from scenarios._explore._api import explore, replay_counterexample
from scenarios._explore._model import (
    ProtocolModel,
    WorldState,
    _canon_renamed,
    _canon_value,
    _renamings,
)
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
from tests.planted.key_keyed_members import KeyKeyedMembersModel
from tests.planted.name_keyed_forms import NameKeyedFormsModel
from tests.planted.namesake_symmetry import buyers_only_groups
from tests.planted.shared_rename_cache import SharedCacheRenaming
from tests.planted.sorted_first_cells import sorted_first_canon
from tests.planted.stale_monitor_rows import StaleMonitorRowsModel
from tests.planted.substring_renaming import substring_renaming
from tests.planted.unbounded_rename_texts import UnboundedTextsRenaming

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


_Canon = Callable[[Any, Callable[[str], str], dict[bytes, str]], str]


def _renamed_checker_is_the_renamed_traces(
    canon: _Canon = _canon_renamed, *, forget_digests: bool = False
) -> bool:
    """The checker of a counterexample, its cells' canonical texts under the swap (as the
    fingerprint makes them: ``canon``), against the cells of the checker fed the swapped
    trace in its own names."""
    found = explore("two-purchases", cloud=buggy_cloud, symmetry=False)
    events = list(found.events)
    digests: dict[bytes, str] = {}
    checker = _fed(events, digests)
    rename = Renaming(_SWAP, digests)
    expected = _fed([rename(event) for event in events], digests)
    assert checker.monitor_state() != expected.monitor_state()  # the swap changes it
    lines = [rename.text(v.format_line()) for v in checker.fork().result().violations]
    assert lines == [v.format_line() for v in expected.fork().result().violations]
    assert lines  # the counterexample breaks a promise
    known = {} if forget_digests else digests
    renamed = [canon(cell, rename.text, known) for cell in checker.monitor_state()]
    own = [_canon_renamed(cell, str, digests) for cell in expected.monitor_state()]
    return renamed == own


def test_a_renamed_checker_is_the_checker_of_the_renamed_trace() -> None:
    assert _renamed_checker_is_the_renamed_traces()


def test_a_renaming_that_forgets_the_digests_is_caught() -> None:
    assert not _renamed_checker_is_the_renamed_traces(forget_digests=True)


def test_cells_sorted_before_they_are_renamed_are_caught() -> None:
    assert not _renamed_checker_is_the_renamed_traces(sorted_first_canon)


class _NamesKept(ProtocolModel):
    """The product's states up to the order of dicts only: each state's canonical text
    in its own names (no renaming merges two states)."""

    def fingerprint(self, state: WorldState) -> Any:
        return hash((self._renamed(state.key)[0], self._monitor_texts[state.monitor][0]))


def _mirrors_merge_alone(model: ProtocolModel) -> bool:
    """Every state of the product in its own names (a search that merges none), grouped
    by ``model``'s symmetric fingerprint: two states share one if and only if one is the
    other renamed (its canonical form under the swap is the other's in its own names)."""
    states: list[WorldState] = []
    symmetric = model.fingerprint

    def own_names(state: WorldState) -> Any:
        states.append(state)
        return hash((model._renamed(state.key)[0], model._monitor_texts[state.monitor][0]))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "fingerprint", own_names)
        assert search(model).outcome is Outcome.EXHAUSTED
    classes: dict[Any, set[frozenset[int]]] = {}  # fingerprint -> its states' forms
    fingerprints: dict[frozenset[int], set[Any]] = {}  # forms -> their states' fingerprints
    for state in states:
        texts = model._monitor_texts[state.monitor]
        # the true forms, own and swapped: a state and its mirror have the same two
        forms = frozenset(ProtocolModel._renamed(model, state.key, texts))
        fingerprint = symmetric(state)
        classes.setdefault(fingerprint, set()).add(forms)
        fingerprints.setdefault(forms, set()).add(fingerprint)
    assert len(_renamings(model.world)) == 2 and len(classes) < len(states)
    merged_alone = all(len(forms) == 1 for forms in classes.values())
    return merged_alone and all(len(found) == 1 for found in fingerprints.values())


def test_a_state_merges_with_its_mirrors_and_no_more() -> None:
    assert _mirrors_merge_alone(ProtocolModel(_WORLD, Budgets()))


def test_a_fingerprint_renaming_the_world_without_the_checker_is_caught() -> None:
    assert not _mirrors_merge_alone(CheckerlessRenamingModel(_WORLD, Budgets()))


def _monitor_forms_made_whole(model: ProtocolModel) -> bool:
    """Each checker state's canonical hashes, made from its origin's (only the cells its
    events changed renamed), are those made from all its cells, and the search counts
    the states it counts with them."""
    found = search(model)
    assert found.outcome is Outcome.EXHAUSTED and len(model._monitors) > 100
    for number, state in enumerate(model._monitor_states):
        rows = [model._cell_renamed(cell) for cell in state]
        if model._monitor_texts[number] != tuple([hash(c) for c in zip(*rows, strict=True)]):
            return False
    return found.progress.states == 1_680  # 1,626 before the PushAck fact (s31)


def test_a_checker_states_canonical_hashes_are_made_from_its_origins() -> None:
    assert _monitor_forms_made_whole(ProtocolModel(_WORLD, Budgets(loss=1)))


def test_a_checker_state_given_its_origins_canonical_hashes_is_caught() -> None:
    assert not _monitor_forms_made_whole(StaleMonitorRowsModel(_WORLD, Budgets(loss=1)))


def _party_forms(model: ProtocolModel, party: int, value: Any) -> tuple[int, ...]:
    """A party snapshot's canonical hashes, one per renaming, made whole from its value."""
    groups = value if party == 0 else (value,)  # the cloud's: its store, its memory
    return tuple(
        hash(
            (
                model.addresses[moved_to[party]],
                *[
                    tuple(hash(_canon_value(item, model._names[n])) for item in items)
                    for items in groups
                ],
            )
        )
        for n, moved_to in enumerate(model._moved_to)
    )


def _set_cell_forms(model: ProtocolModel, cell: frozenset[Any]) -> tuple[int, ...]:
    """A set cell's canonical hashes, one per renaming, made whole from its members."""
    renamings = model._atom_renamings
    members = [
        [hash(_canon_renamed(m, rename, model._digest_texts)) for m in cell] for rename in renamings
    ]
    return tuple(hash(tuple(sorted(column))) for column in members)


def _cached_forms_made_whole(model: ProtocolModel) -> bool:
    """Each party snapshot's canonical hashes, made from its attributes' forms cached by
    value, and each set cell's, made from its members' forms cached by value, are those
    made whole; and the search counts the states it counts with them."""
    found = search(model)
    assert found.outcome is Outcome.EXHAUSTED
    for party, forms in enumerate(model._snap_texts):
        for snap, cached in forms.items():
            if cached != _party_forms(model, party, model._snapshots[snap].value):
                return False
    cells = {id(cell): cell for state in model._monitor_states for cell in state}
    sets = [cell for cell in cells.values() if type(cell) is frozenset]
    assert len(sets) > 50 and any(len(cell) > 1 for cell in sets)
    if any(model._cell_renamed(cell) != _set_cell_forms(model, cell) for cell in sets):
        return False
    return found.progress.states == 1_680  # 1,626 before the PushAck fact (s31)


def test_forms_cached_by_attribute_and_by_member_are_those_made_whole() -> None:
    assert _cached_forms_made_whole(ProtocolModel(_WORLD, Budgets(loss=1)))


def test_attribute_forms_cached_by_name_are_caught() -> None:
    assert not _cached_forms_made_whole(NameKeyedFormsModel(_WORLD, Budgets(loss=1)))


def test_member_forms_cached_by_key_are_caught() -> None:
    assert not _cached_forms_made_whole(KeyKeyedMembersModel(_WORLD, Budgets(loss=1)))


@pytest.mark.parametrize(
    ("budgets", "states", "kept"),
    # before s31's PushAck fact: 225, 423; 1,626, 3,207 (303, 582; 2,386, 4,733 while it
    # stayed in doubt past its transition)
    [(Budgets(), 225, 423), (Budgets(loss=1), 1_680, 3_315)],
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


def test_a_counterexample_under_symmetry_is_a_real_run(tmp_path: Any) -> None:
    found = search(ProtocolModel(_WORLD, Budgets(), cloud=buggy_cloud))
    assert found.outcome is Outcome.VIOLATION
    result = explore("two-purchases", cloud=buggy_cloud, symmetry=True)
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


def _renamed_values_as_fresh(kind: type[Renaming]) -> bool:
    """Each renaming, one instance of ``kind`` per renaming as the model keeps them,
    renames every party snapshot of a search (the frozen values the snapshots share
    taken from its cache) as a new :class:`Renaming` renames it alone."""
    model = ProtocolModel(_WORLD, Budgets(loss=1))
    assert search(model).outcome is Outcome.EXHAUSTED
    digests: dict[bytes, str] = {}
    renamings = [kind(mapping, digests) for mapping in _renamings(_WORLD)]
    assert len(renamings) == 2
    for renaming in renamings:
        for snapshot in model._snapshots:
            if renaming(snapshot.value) != Renaming(renaming.mapping, digests)(snapshot.value):
                return False
    return True


def test_a_renaming_caches_the_values_it_renamed_for_itself() -> None:
    assert _renamed_values_as_fresh(Renaming)


def test_one_cache_for_every_renaming_is_caught() -> None:
    assert not _renamed_values_as_fresh(SharedCacheRenaming)  # planted: shared_rename_cache.py


def _texts_cache_stays_bounded(
    kind: Callable[[dict[str, str], dict[bytes, str]], Renaming],
) -> bool:
    """With the cache of renamed texts bounded at 16, a renaming asked 200 distinct texts
    (each twice, the second from the cache) keeps at most 16 and renames each right."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_rename, "_TEXTS_KEPT", 16)
        renaming = kind(_SWAP, {})
        for n in range(200):
            text = f"{ALICE} bought shop-1/r-1 #{n}"
            expected = f"{BOB} bought shop-2/r-2 #{n}"
            if renaming(text) != expected or renaming(text) != expected:
                return False
        return len(renaming._texts) <= 16


def test_a_renamings_cache_of_texts_is_bounded() -> None:
    assert _texts_cache_stays_bounded(Renaming)


def test_a_renaming_keeping_every_text_is_caught() -> None:
    assert not _texts_cache_stays_bounded(UnboundedTextsRenaming)  # planted
