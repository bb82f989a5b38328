"""Loading scenarios: built-in by name, files by path, and one clear error per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol import MismatchPolicy
from scenarios import (
    Scenario,
    ScenarioError,
    builtin_scenarios,
    generate_workload,
    load_scenario,
    parse_duration,
    scenario_from_dict,
    scenario_to_dict,
)


def test_the_builtin_scenarios_are_listed_with_descriptions() -> None:
    found = builtin_scenarios()
    assert {"quickstart", "wrong-ids", "silent-phones"} <= set(found)
    assert all(description for description in found.values())


def test_quickstart_has_the_documented_shape() -> None:
    scenario = load_scenario("quickstart")
    assert (scenario.name, scenario.shops, scenario.phones, scenario.purchases) == (
        "quickstart",
        3,
        50,
        500,
    )
    assert scenario.wrong_id_rate > 0 and scenario.ask_probability < 1
    assert scenario.cloud.push_timeout == 600.0
    assert scenario.cloud.mismatch_policy is MismatchPolicy.DUAL_SEND


def test_a_file_loads_by_path_and_takes_its_name_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('phones = 4\nask_delay = ["1s", "2m"]\n[cloud]\npush_timeout = "90s"\n')
    scenario = load_scenario(str(path))
    assert scenario.name == "mine"
    assert scenario.ask_delay == (1.0, 120.0)
    assert scenario.cloud.push_timeout == 90.0


def test_scenario_dict_round_trips() -> None:
    scenario = load_scenario("silent-phones")
    assert scenario_from_dict(scenario_to_dict(scenario)) == scenario


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shops = 0", "shops: must be at least 1"),
        ('shops = "three"', "shops: expected a whole number"),
        ("shops = 2.5", "shops: expected a whole number"),
        ("wrong_id_rate = 1.5", "wrong_id_rate: must be a fraction from 0 to 1"),
        ("colour = 1", "unknown key colour"),
        ('[cloud]\npush_timeout = "10 parsecs"', "cloud.push_timeout: expected a duration"),
        ("[cloud]\npush_timeout = 0", "push_timeout: must be longer than 0"),
        ('[cloud]\nmismatch_policy = "shrug"', "cloud.mismatch_policy: expected one of"),
        ('[cloud]\npromotions = "yes"', "cloud.promotions: expected true or false"),
        ("items_per_purchase = [3, 1]", "items_per_purchase: expected [low, high]"),
        ("items_per_purchase = 3", "items_per_purchase: expected a range"),
        ('ask_delay = ["5m", "1m"]', "ask_delay: expected [low, high] with low <= high"),
        ("phones = 1\nwrong_id_rate = 0.5", "needs at least 2 phones"),
        ("shops = ", "not valid TOML"),
    ],
)
def test_bad_scenario_files_are_refused_naming_the_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    message = str(caught.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_unknown_names_and_missing_files_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"no built-in scenario 'nope'.*quickstart"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="cannot read scenario file"):
        load_scenario("/no/such/dir/x.toml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(30, 30.0), (2.5, 2.5), ("90s", 90.0), ("10m", 600.0), ("1.5h", 5400.0), ("250ms", 0.25)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_workloads_are_a_function_of_scenario_and_seed() -> None:
    scenario = Scenario(phones=10, purchases=40, wrong_id_rate=0.5, unsubscribed_rate=0.2)
    first = generate_workload(scenario, 1)
    assert first == generate_workload(scenario, 1)
    assert first != generate_workload(scenario, 2)
    assert sum(not p.subscribes for p in first.phones) == 2
    assert [p.at for p in first.purchases] == sorted(p.at for p in first.purchases)
    assert any(p.wrong_id for p in first.purchases)
    assert all(p.keyed_phone_id != p.buyer_phone_id for p in first.purchases if p.wrong_id)
