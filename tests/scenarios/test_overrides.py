"""Overrides: ``KEY=VALUE`` changes a scenario's knobs, by the rules of scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protocol import MismatchPolicy
from scenarios import (
    Scenario,
    ScenarioError,
    apply_overrides,
    load_scenario,
    override_keys,
    parse_value,
)
from scenarios._cli._main import main


def test_dotted_keys_toml_values_and_plain_text() -> None:
    scenario = apply_overrides(
        load_scenario("quickstart"),
        [
            "cloud.push_timeout=5m",
            "wrong_id_rate=0.02",
            "items_per_purchase=[1,3]",
            "cloud.mismatch_policy=reject",
            "cloud.promotions=false",
            'ask_delay=["1s", 90]',
            "phones = 7",
        ],
    )
    assert scenario.cloud.push_timeout == 300.0
    assert scenario.wrong_id_rate == 0.02
    assert scenario.items_per_purchase == (1, 3)
    assert scenario.cloud.mismatch_policy is MismatchPolicy.REJECT
    assert scenario.cloud.promotions is False
    assert scenario.ask_delay == (1.0, 90.0)
    assert scenario.phones == 7
    assert scenario.name == "quickstart" and scenario.purchases == 500  # the rest unchanged


def test_later_assignments_win_and_none_change_nothing() -> None:
    base = Scenario()
    assert apply_overrides(base, []) is base
    assert apply_overrides(base, ["shops=2", "shops=4"]).shops == 4


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.5", 0.5),
        ("3", 3),
        ("true", True),
        ("[1, 2]", [1, 2]),
        ('"10m"', "10m"),
        ("10m", "10m"),  # not TOML: plain text
        ("dual-send", "dual-send"),
        ("", ""),
        ("1\nx = 2", "1\nx = 2"),  # more than one value: plain text
    ],
)
def test_values_are_toml_or_else_text(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_every_knob_has_a_dotted_key() -> None:
    keys = override_keys()
    assert {"seed", "phones", "ask_delay", "cloud.push_timeout", "cloud.max_products"} <= set(keys)
    assert "cloud" not in keys


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        (
            "cloud.push_timeot=10m",
            "unknown key cloud.push_timeot (did you mean cloud.push_timeout?)",
        ),
        ("colour=blue", "unknown key colour"),
        ("cloud.push_timeout.x=1", "unknown key cloud.push_timeout.x"),
        ("phones.x=1", "unknown key phones.x"),
        ("cloud=1", "cloud is a table"),
        ("shops=two", "shops: expected a whole number, got 'two'"),
        ("shops=2.5", "shops: expected a whole number"),
        ("shops=0", "shops: must be at least 1, got 0"),
        ("cloud.push_timeout=10 parsecs", "cloud.push_timeout: expected a duration"),
        # A negative duration is a duration, refused as one (issue 17, item 6):
        ("cloud.push_timeout=-5m", "cloud.push_timeout: must be longer than 0, got '-5m'"),
        ("cloud.push_timeout=-1h30m", "cloud.push_timeout: must be longer than 0, got"),
        ("cloud.push_timeout=-5", "cloud.push_timeout: must be longer than 0, got -5"),
        ("cloud.push_timeout=0s", "cloud.push_timeout: must be longer than 0, got '0s'"),
        ("duration=-8h", "duration: must be longer than 0, got '-8h'"),
        ("network.latency=-5ms", "network.latency: must not be negative, got '-5ms'"),
        ("cloud.push_timeout=inf", "cloud.push_timeout: must be a finite duration, got inf"),
        ("cloud.mismatch_policy=shrug", "cloud.mismatch_policy: expected one of"),
        ("cloud.promotions=yes", "cloud.promotions: expected true or false"),
        ("wrong_id_rate=1.5", "wrong_id_rate: must be a fraction from 0 to 1"),
        ("items_per_purchase=3", "items_per_purchase: expected a range"),
        ("ask_delay=[10s,20m]", "ask_delay: expected a range"),  # unquoted: not TOML
        ("phones", "expected KEY=VALUE"),
        ("=3", "expected KEY=VALUE"),
    ],
)
def test_unknown_keys_and_ill_typed_values_are_refused_in_one_line(
    assignment: str, expected: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(load_scenario("quickstart"), ["seed=3", assignment])
    message = str(caught.value)
    assert message.startswith(f"--set {assignment}: ")
    assert expected in message
    assert "\n" not in message


def test_a_signed_duration_that_is_not_negative_is_read() -> None:
    scenario = apply_overrides(
        load_scenario("quickstart"), ["cloud.push_timeout=+5m", "network.latency=-0ms"]
    )
    assert scenario.cloud.push_timeout == 300.0
    assert scenario.network.latency == 0.0


def test_a_rule_between_knobs_names_the_assignments_together() -> None:
    base = Scenario(phones=50, wrong_id_rate=0.0)
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(base, ["phones=1", "wrong_id_rate=0.5"])
    assert str(caught.value) == (
        "--set phones=1 --set wrong_id_rate=0.5: wrong_id_rate: "
        "needs at least 2 phones to key in a wrong one"
    )


def test_run_set_changes_the_run_and_the_trace_header_holds_the_effective_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "t.jsonl"
    argv = ["run", "wrong-ids", "--json", "--trace", str(trace)]
    assert main([*argv, "--set", "wrong_id_rate=0", "--set", "cloud.push_timeout=2m"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mismatches"] == 0 and report["dual_sends"] == 0
    header = json.loads(trace.read_text().splitlines()[0])
    assert header["overrides"] == ["wrong_id_rate=0", "cloud.push_timeout=2m"]
    assert header["settings"]["wrong_id_rate"] == 0.0
    assert header["settings"]["cloud"]["push_timeout"] == 120.0
    assert header["settings"]["phones"] == 40  # the rest as in the built-in file


def test_run_with_a_bad_set_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "quickstart", "--set", "cloud.push_timeot=10m"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("assocsim: error: --set cloud.push_timeot=10m: unknown key")
    assert err.count("\n") == 1 and "Traceback" not in err
