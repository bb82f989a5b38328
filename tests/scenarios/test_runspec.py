"""RunSpec: which scenario, which seed, which overrides, as one value every command takes.

The value itself (loading, overrides in order, the seed's default, its one-line errors),
then its consumers: the trace headers of ``run``, ``pos``, ``phone`` and ``serve cloud``
agree for the same inputs, a TCP run's children rebuild it from their arguments, a sweep's
rows re-run from what they record, and no module but the value loads a scenario or
applies overrides itself.
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from scenarios import (
    RunSpec,
    Scenario,
    ScenarioError,
    apply_overrides,
    load_scenario,
    run_scenario,
    run_sweep,
    scenario_to_dict,
)
from scenarios._cli import _field
from scenarios._cli._main import _parser, main
from scenarios._field import _clients, _serve
from scenarios._field._tcprun import TcpRunOptions, _TcpRun
from scenarios._model._overrides import split_assignment
from scenarios._model._runspec import FIELD_TRIAL, rerun_header

ROOT = Path(__file__).resolve().parents[2]
SETS = ("shops=2", "purchases=40", "shops=3")  # shops set twice: the later one wins
SCENARIO_WORDS = ["--scenario", "quickstart", *(w for s in SETS for w in ("--set", s))]


# ------------------------------------------------------------------ the value


def test_load_applies_the_overrides_in_order_and_keeps_them_as_given() -> None:
    run = RunSpec.load("quickstart", SETS)
    assert run.source == "quickstart"
    assert run.overrides == SETS
    assert run.scenario == apply_overrides(load_scenario("quickstart"), SETS)
    assert run.scenario.shops == 3 and run.scenario.purchases == 40


def test_the_seed_is_the_scenarios_own_unless_one_is_given() -> None:
    own = RunSpec.load("quickstart")
    assert own.seed == load_scenario("quickstart").seed and not own.seed_given
    assert RunSpec.load("quickstart", ["seed=9"]).seed == 9  # own, after the overrides
    given = RunSpec.load("quickstart", ["seed=9"], 4)
    assert (given.seed, given.seed_given, given.scenario.seed) == (4, True, 9)


def test_of_takes_a_loaded_scenario_and_names_it_by_default() -> None:
    run = RunSpec.of(Scenario(), ["name=mine", "phones=7"])
    assert run.source == "mine" and run.scenario.phones == 7
    assert RunSpec.of(Scenario(), source="here.toml").source == "here.toml"


def test_evolve_adds_overrides_after_its_own_and_keeps_a_given_seed() -> None:
    base = RunSpec.load("quickstart", ["purchases=40"])
    point = base.evolve(["wrong_id_rate=0.5"], option="--vary")
    assert point.overrides == ("purchases=40", "wrong_id_rate=0.5")
    assert point.scenario == apply_overrides(base.scenario, ["wrong_id_rate=0.5"])
    assert point.source == base.source and point.seed == base.seed
    assert base.evolve(["seed=11"]).seed == 11  # not given: it follows the scenario
    assert RunSpec.load("quickstart", seed=4).evolve(["seed=11"]).seed == 4  # given: kept
    run = point.evolve(seed=21)
    assert (run.seed, run.seed_given, run.overrides) == (21, True, point.overrides)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: RunSpec.load("nope"), "no built-in scenario 'nope' and no such file"),
        (lambda: RunSpec.load("quickstart", ["shop=2"]), "--set shop=2: unknown key shop"),
        (lambda: RunSpec.load("quickstart", ["shops"]), "--set shops: expected KEY=VALUE"),
        (
            lambda: RunSpec.load("quickstart", ["shops=true"]),  # a bool is not a number
            "--set shops=true: shops: expected a whole number, got True",
        ),
        (
            lambda: RunSpec.load("quickstart", seed=True),  # nor a seed
            "RunSpec.seed: expected a whole number, got True",
        ),
        (
            lambda: RunSpec.load("quickstart", "shops=2"),  # one text, not a list of them
            "overrides: expected a list of KEY=VALUE texts, got 'shops=2'",
        ),
        (
            lambda: RunSpec.load("quickstart").evolve(["shops=0"], option="--vary"),
            "--vary shops=0: shops: must be at least 1, got 0",
        ),
        (
            lambda: RunSpec("quickstart", (), load_scenario("quickstart"), 99),
            "RunSpec: seed 99 is not the scenario's own",
        ),
        (lambda: RunSpec("", (), Scenario(), 0), "RunSpec.source: expected a name or path"),
        # ill-typed on purpose (a list, a dict), as an untyped caller could pass them
        (
            lambda: RunSpec("x", cast(Any, ["a=1"]), Scenario(), 0),
            "RunSpec.overrides: expected KEY=VALUE",
        ),
        (lambda: RunSpec("x", (), cast(Any, {}), 0), "RunSpec.scenario: expected a Scenario"),
    ],
)
def test_every_refusal_is_one_typed_line(build: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        build()
    text = str(refused.value)
    assert text.startswith(message) and "\n" not in text


def test_the_command_line_says_a_bad_set_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "quickstart", "--set", "shops=true"]) == 2
    err = capsys.readouterr().err
    assert err == "assocsim: error: --set shops=true: shops: expected a whole number, got True\n"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["run", "quickstart", "--set", "=3"], "--set =3: expected KEY=VALUE, e.g. wrong_id_rate"),
        (["explore", "pull", "--set", "=3"], "--set =3: expected KEY=VALUE, e.g. mismatch_policy"),
        (["explore", "pull", "--set", "push_timeout"], "--set push_timeout: expected KEY=VALUE"),
    ],
)
def test_a_sets_form_is_checked_by_one_function_for_scenarios_and_worlds(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"assocsim: error: {line}")
    assert split_assignment(" a.b = [1, 2] ") == ("a.b", "[1, 2]")


# ------------------------------------------------------------------ every consumer takes it


def _run_header(tmp_path: Path) -> dict[str, Any]:
    trace = tmp_path / "run.jsonl"
    words = [w for s in SETS for w in ("--set", s)]
    assert main(["run", "quickstart", "--seed", "4", *words, "--trace", str(trace)]) == 0
    header: dict[str, Any] = json.loads(trace.read_text(encoding="utf-8").splitlines()[0])
    return header


def _client_header(command: str, *identity: str) -> dict[str, Any]:
    argv = [command, "--cloud", "127.0.0.1:9", *identity, *SCENARIO_WORDS, "--seed", "4"]
    return _clients._header(_field._client_options(_parser().parse_args(argv)), command)


def _cloud_header(tmp_path: Path, *extra: str) -> dict[str, Any]:
    argv = ["serve", "cloud", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "c.db")]
    return _serve._header(_field._cloud_options(_parser().parse_args([*argv, *extra])), 7000)


def test_the_trace_headers_of_run_pos_phone_and_serve_cloud_agree(tmp_path: Path) -> None:
    expected = RunSpec.load("quickstart", SETS, 4)
    headers = {
        "run": _run_header(tmp_path),
        "pos": _client_header("pos", "--merchant", "shop-01", "--key", "k"),
        "phone": _client_header("phone", "--id", "+8613800000001"),
        "serve cloud": _cloud_header(tmp_path, *SCENARIO_WORDS),
    }
    settings = scenario_to_dict(expected.scenario)
    for name, header in headers.items():
        assert header["scenario"] == "quickstart", name
        assert header["overrides"] == list(SETS), name
        assert header["settings"] == settings, name
        keys = [key for key in header if key != "format"]  # the writer puts format first
        assert keys[:2] == ["scenario", "seed"], name  # the order traces had
        assert keys[-2:] == ["overrides", "settings"], name
    assert [h["seed"] for h in headers.values()] == [4, 4, 4, None]  # the cloud takes none


def test_without_a_scenario_the_field_headers_say_field_trial(tmp_path: Path) -> None:
    argv = ["phone", "--cloud", "127.0.0.1:9", "--id", "+8613800000001"]
    phone = _clients._header(_field._client_options(_parser().parse_args(argv)), "phone")
    for header in (phone, _cloud_header(tmp_path)):
        assert (header["scenario"], header["seed"], header["overrides"]) == (FIELD_TRIAL, None, [])
    assert rerun_header(None, {"x": 1}) == {
        "scenario": FIELD_TRIAL,
        "seed": None,
        "x": 1,
        "overrides": [],
        "settings": {},
    }


def test_a_tcp_runs_children_rebuild_its_run_from_their_arguments() -> None:
    spec = RunSpec.load("quickstart", SETS, 4)
    tcp = _TcpRun(spec, TcpRunOptions(speed=1000.0))
    try:
        child = tcp.children_run
        argv = ["pos", "--cloud", "127.0.0.1:9", "--merchant", "shop-01", *tcp._scenario_args()]
        rebuilt = _field._client_options(_parser().parse_args(argv)).run
    finally:
        tcp.close()
    assert child.overrides[: len(SETS)] == SETS
    assert [o.split("=")[0] for o in child.overrides[len(SETS) :]] == [
        "retry.first_delay",
        "retry.max_delay",
    ]
    assert rebuilt is not None
    assert (rebuilt.source, rebuilt.overrides, rebuilt.scenario, rebuilt.seed) == (
        child.source,
        child.overrides,
        child.scenario,
        4,
    )


def _rows(directory: Path) -> list[dict[str, str]]:
    with (directory / "results.csv").open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_a_sweep_takes_the_value_and_each_row_re_runs_from_what_it_records(
    tmp_path: Path,
) -> None:
    vary = {"wrong_id_rate": ["0", "0.5"]}
    spec = RunSpec.load("quickstart", ["purchases=30", "phones=8"])
    run_sweep(spec, vary, 2, 1, tmp_path / "spec")
    legacy = load_scenario("quickstart")
    run_sweep(legacy, vary, 2, 1, tmp_path / "legacy", source="quickstart", sets=spec.overrides)
    assert (tmp_path / "spec" / "results.csv").read_bytes() == (
        tmp_path / "legacy" / "results.csv"
    ).read_bytes()
    document = json.loads((tmp_path / "spec" / "sweep.json").read_text(encoding="utf-8"))
    assert (document["scenario"], document["set"]) == ("quickstart", list(spec.overrides))
    rows = _rows(tmp_path / "spec")
    assert [int(row["seed"]) for row in rows] == [spec.seed, spec.seed + 1] * 2
    for row in (rows[0], rows[-1]):
        again = RunSpec.load(row["scenario"], row["overrides"].split(";"), int(row["seed"]))
        assert run_scenario(again.scenario, again.seed).report.delivered == int(row["delivered"])
    with pytest.raises(ScenarioError, match="holds its overrides and source already"):
        run_sweep(spec, vary, 1, 1, tmp_path / "both", sets=["shops=2"])


# ------------------------------------------------------------------ one loader


_ONE_LOADER = {"apply_overrides", "load_scenario"}


def _second_loaders(paths: list[Path]) -> list[str]:
    """``path:line`` of every call of ``apply_overrides`` or ``load_scenario``."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in _ONE_LOADER:
                    found.append(f"{path.name}:{node.lineno}")
    return found


def test_only_the_model_loads_a_scenario_or_applies_overrides() -> None:
    """Every command goes through RunSpec: the --scenario/--set checks are in one place."""
    outside = [
        path
        for path in sorted((ROOT / "scenarios").rglob("*.py"))
        if not path.is_relative_to(ROOT / "scenarios" / "_model")
    ]
    assert len(outside) > 30
    assert _second_loaders(outside) == []


def test_the_loader_check_finds_a_planted_second_loader() -> None:
    planted = ROOT / "tests" / "planted" / "second_loader.py"
    assert _second_loaders([planted]) == ["second_loader.py:15", "second_loader.py:15"]


def test_a_run_spec_is_a_frozen_value() -> None:
    run = RunSpec.load("quickstart")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cast(Any, run).seed = 3  # assigned untyped on purpose: a frozen value refuses it
    assert run == RunSpec.load("quickstart") and hash(run) == hash(RunSpec.load("quickstart"))
