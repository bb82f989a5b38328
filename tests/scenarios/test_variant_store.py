"""A cloud variant must keep its state in the store its factory is handed (reviewer Q's
F4): one keeping a store of its own kept it across the simulation's crashes, which a kill
-9 wipes, and ``run faults --cloud ... --check`` said all clear where the reference cloud
on the same memory store loses promises. The runner now refuses such a cloud when it
builds it, in one line; wrappers that reach the given store by ``inner`` (a crash point's,
``tests/planted/per_write_store.py``'s) are accepted. Planted: ``own_store_cloud``."""

from __future__ import annotations

import pytest

from scenarios import ScenarioError, apply_overrides, load_scenario
from scenarios._sim import _runner
from scenarios.testing import run_checked
from tests.planted.own_store_cloud import own_store_cloud
from tests.planted.per_write_store import per_write_cloud
from tests.scenarios.cli_runs import run_main

FAULTS = apply_overrides(load_scenario("faults"), ["purchases=50", "cloud.store=memory"])


def test_a_cloud_on_a_store_of_its_own_is_refused() -> None:
    with pytest.raises(ScenarioError, match="other than the one its factory was handed"):
        run_checked(FAULTS, cloud=own_store_cloud)
    code, _, err = run_main(
        ["run", "faults", "--cloud", "tests.planted.own_store_cloud:own_store_cloud"]
    )
    assert code == 2 and err.count("\n") == 1 and "a kill -9" in err


def test_planted_unrefused_it_passes_what_the_reference_cloud_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_checked(FAULTS).report.lost > 0  # the memory store forgets across the crash
    monkeypatch.setattr(_runner, "built_on", lambda machine, store: None)
    assert run_checked(FAULTS, cloud=own_store_cloud).report.lost == 0  # the bug


def test_a_wrapper_of_the_store_given_is_accepted() -> None:
    scenario = apply_overrides(load_scenario("quickstart"), ["purchases=5"])
    assert run_checked(scenario, cloud=per_write_cloud).report.purchases == 5
