"""``run --check-determinism`` varies the hash seed (reviewer Q's F2): its second run is a
child process under another ``PYTHONHASHSEED``, so a cloud whose answers follow a set of
strings' order is NOT deterministic; the same check with the second run in this process
(as it was) passes it: ``tests/planted/hash_ordered_cloud.py``."""

from __future__ import annotations

from scenarios import apply_overrides, load_scenario
from scenarios._trace._replay import check_determinism, other_hash_seed
from tests.planted.hash_ordered_cloud import hash_ordered_cloud
from tests.scenarios.cli_runs import run_main

CLOUD = "tests.planted.hash_ordered_cloud:hash_ordered_cloud"


def test_a_cloud_following_the_hash_seed_is_not_deterministic() -> None:
    argv = ["run", "quickstart", "--set", "purchases=20", "--cloud", CLOUD, "--check-determinism"]
    code, out, _ = run_main(argv)
    assert code == 1
    where = f"the second in a child process with PYTHONHASHSEED={other_hash_seed()}"
    assert f"NOT deterministic ({where})" in out


def test_the_reference_cloud_is_deterministic_across_hash_seeds() -> None:
    code, out, _ = run_main(["run", "quickstart", "--set", "purchases=20", "--check-determinism"])
    assert code == 0 and "deterministic: 2 runs, the second in a child process" in out


def test_planted_a_second_run_in_the_same_process_passes_it() -> None:
    scenario = apply_overrides(load_scenario("quickstart"), ["purchases=20"])
    _, same = check_determinism(scenario, 7, cloud=hash_ordered_cloud)
    assert same.deterministic and same.hash_seed is None  # the bug: hash order not varied
    assert "in this process, the order of sets of strings not varied" in same.format_text()
