"""The property-testing toolkit: strategies, scenario files, cloud factories, the checked
runner and its failure message, the ``run --cloud/--check`` flags and the pytest plugin
(including the README's example, run by a real pytest through the entry point).
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors import Crash, Link, NetworkConfig, Partition
from protocol import (
    DEPARTMENTS,
    MAX_ITEMS_PER_PURCHASE,
    CloudConfig,
    CloudMachine,
    CloudStore,
    Machine,
    MismatchPolicy,
    Recommender,
    builtin_catalog,
)
from scenarios import (
    Scenario,
    ScenarioError,
    generate_workload,
    load_scenario,
    run_scenario,
    scenario_to_dict,
)
from scenarios._cli._main import main
from scenarios.testing import (
    AssocsimRunner,
    CloudFactoryError,
    ProtocolViolationError,
    cloud_factory_spec,
    load_cloud_factory,
    run_checked,
    scenario_to_toml,
    write_scenario,
)
from scenarios.testing import strategies as S
from tests.planted.buggy_cloud import buggy_cloud

ROOT = Path(__file__).resolve().parents[2]
BUGGY = "tests.planted.buggy_cloud:buggy_cloud"
HERE = "tests.scenarios.test_testing_toolkit"
ASKS_IN_TIME = Scenario(name="asks-in-time", seed=3, phones=2, purchases=3, ask_delay=(10, 20))
"""Every buyer asks before the push is due: the planted bug pushes anyway."""


def _script() -> Path:
    script = Path(sys.executable).parent / "assocsim"
    assert script.exists(), "install the project first: pip install '.[test]'"
    return script


# ------------------------------------------------------------------ strategies


@given(S.scenarios())
def test_scenarios_are_small_and_valid(scenario: Scenario) -> None:
    assert 1 <= scenario.shops <= 3 and 2 <= scenario.phones <= 8
    assert 1 <= scenario.purchases <= 20 and 60.0 <= scenario.duration <= 3600.0
    assert not scenario.has_faults and not scenario.crash


@given(S.scenarios(mismatch_policy=MismatchPolicy.REJECT, phones=st.just(1), purchases=4))
def test_scenario_knobs_take_values_or_strategies(scenario: Scenario) -> None:
    assert scenario.cloud.mismatch_policy is MismatchPolicy.REJECT
    assert scenario.phones == 1 and scenario.purchases == 4
    assert scenario.wrong_id_rate == 0.0  # one phone cannot be keyed in wrongly


@given(S.faulty_scenarios())
def test_faulty_scenarios_heal_before_the_purchases_end(scenario: Scenario) -> None:
    assert scenario.faults_until == scenario.duration
    assert scenario.healed_at <= scenario.duration
    for partition in scenario.partition:
        assert 0 <= partition.start < partition.end <= scenario.duration
    windows = sorted((c.at, c.restart) for c in scenario.crash)
    for (_, restart), (at, _) in itertools.pairwise(windows):
        assert restart <= at  # crash windows never overlap
    addresses = _addresses(scenario)
    for crash in scenario.crash:  # every crash hits some actor of every scenario
        assert any(fnmatch.fnmatchcase(a, crash.actor) for a in addresses)


def _addresses(scenario: Scenario) -> list[str]:
    workload = generate_workload(scenario, scenario.seed)
    return (
        ["cloud"]
        + [f"pos:{s.merchant_id}:{p}" for s in workload.shops for p in s.pos_ids]
        + [f"phone:{p.phone_id}" for p in workload.phones]
    )


@given(
    S.faulty_scenarios(
        S.scenarios(duration=1800.0),
        network=S.network_configs(loss=0.2, duplicate=0.2, link=()),
        max_crashes=0,
        max_window=60.0,
    )
)
def test_fault_schedule_knobs_are_kept(scenario: Scenario) -> None:
    assert scenario.network.loss == scenario.network.duplicate == 0.2
    assert scenario.network.link == () and scenario.crash == ()
    assert all(p.end - p.start <= 60.0 + 1e-9 for p in scenario.partition)


@given(st.data())
def test_small_fault_spans_draw_no_windows(data: st.DataObject) -> None:
    assert data.draw(S.crash_schedules(before=0.5)) == ()
    assert data.draw(S.partition_schedules(before=0.5)) == ()


@given(st.data())
def test_a_partition_needs_a_second(data: st.DataObject) -> None:
    with pytest.raises(ValueError, match="needs at least 1 s"):
        data.draw(S.partitions(before=0.5))


@given(S.catalogs())
def test_catalogs_are_subsets_with_every_department(catalog: Any) -> None:
    full = builtin_catalog()
    assert all(full.by_sku(p.sku) == p for p in catalog.products)
    categories = {p.category for p in catalog.products}
    for department_categories in DEPARTMENTS.values():
        assert categories & set(department_categories)
    order = [full.products.index(p) for p in catalog.products]
    assert order == sorted(order)


@given(st.data())
def test_workloads_and_baskets_draw_from_a_generated_catalog(data: st.DataObject) -> None:
    catalog = data.draw(S.catalogs(max_per_department=3))
    workload = generate_workload(Scenario(purchases=10), 1, catalog)
    assert all(catalog.by_sku(i.sku) for p in workload.purchases for i in p.items)
    basket = data.draw(S.baskets(catalog, max_size=MAX_ITEMS_PER_PURCHASE))
    assert len({i.sku for i in basket}) == len(basket) >= 1
    departments = {d for i in basket for d, cs in DEPARTMENTS.items() if i.category in cs}
    assert len(departments) == 1
    item = data.draw(S.catalog_items(catalog, max_quantity=2))
    product = catalog.by_sku(item.sku)
    assert product is not None and item == catalog.to_item(product, item.quantity)


@given(S.catalogs(departments=["food"]))
def test_catalogs_of_one_department(catalog: Any) -> None:
    assert {p.category for p in catalog.products} <= set(DEPARTMENTS["food"])


def test_catalogs_refuse_unknown_departments() -> None:
    with pytest.raises(ValueError, match="toys"):
        S.catalogs(departments=["toys"])


# ------------------------------------------------------------------ scenario files


names = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(scenario=S.faulty_scenarios(), name=names, description=names)
def test_a_written_scenario_loads_back_equal(
    scenario: Scenario, name: str, description: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scenario = attrs.evolve(scenario, name=name or "x", description=description)
    path = write_scenario(scenario, tmp_path_factory.mktemp("toml") / "s.toml", comment="a\nb")
    assert load_scenario(str(path)) == scenario
    assert tomllib.loads(path.read_text(encoding="utf-8")) == _without_none(
        scenario_to_dict(scenario)
    )


def _without_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_none(v) for k, v in data.items() if v is not None}
    if isinstance(data, list | tuple):
        return [_without_none(v) for v in data]
    return data


def test_none_values_are_left_out_and_tables_follow_the_knobs() -> None:
    link = Link(between=("cloud", "phone:*"), loss=0.5)
    scenario = Scenario(
        network=NetworkConfig(loss=0.1, link=(link,)),
        partition=(Partition(side=("cloud",), start=1.0, end=2.0),),
        crash=(Crash("cloud", at=3.0, restart=4.0),),
    )
    text = scenario_to_toml(scenario)
    assert "None" not in text and "faults_until" not in text and "latency = " in text
    assert text.index("[network]") < text.index("[[network.link]]") < text.index("[[crash]]")
    assert '[[network.link]]\nbetween = ["cloud", "phone:*"]\nloss = 0.5\n' in text


def test_a_name_that_toml_cannot_hold_is_a_typed_error() -> None:
    with pytest.raises(ScenarioError, match="lone surrogate"):
        scenario_to_toml(Scenario(name="bad\udc80"))


# ------------------------------------------------------------------ cloud factories


def raising_factory(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    raise RuntimeError("no cloud today\nsecond line")


def not_a_machine(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    return "a string"  # type: ignore[return-value]  # the factory under test is wrong


NOT_CALLABLE = 42


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("nocolon", "expected MODULE:FACTORY"),
        ("a b:c", "expected MODULE:FACTORY"),
        ("mod:", "expected MODULE:FACTORY"),
        ("no_such_module_xyz:make", "no module named 'no_such_module_xyz'"),
        ("tests.planted.nothing_here:make", "no module named 'tests.planted.nothing_here'"),
        (f"{HERE}:missing", "has no 'missing'"),
        (f"{HERE}:NOT_CALLABLE", "is a int, not callable"),
        ("protocol:CloudMachine", "must accept (store, recommender, config)"),
        (f"{HERE}:raising_factory", "building a cloud with it failed: RuntimeError: no cloud"),
        (f"{HERE}:not_a_machine", "returned a str, not a machine"),
    ],
)
def test_bad_cloud_factories_are_one_line_errors(spec: str, expected: str) -> None:
    with pytest.raises(CloudFactoryError) as caught:
        load_cloud_factory(spec)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert message.startswith(f"cloud factory {spec!r}: ")


def test_a_factory_is_named_only_when_importable_by_name() -> None:
    assert load_cloud_factory(BUGGY) is buggy_cloud
    assert cloud_factory_spec(buggy_cloud) == BUGGY

    def local(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
        return CloudMachine(store=store, recommender=recommender, config=config)

    assert cloud_factory_spec(local) is None
    assert cloud_factory_spec(lambda s, r, c: CloudMachine(store=s, recommender=r)) is None


# ------------------------------------------------------------------ the checked runner


def test_run_checked_keeps_the_events_and_agrees_with_run_scenario(tmp_path: Path) -> None:
    scenario = attrs.evolve(ASKS_IN_TIME, network=NetworkConfig(latency=0.1, loss=0.2))
    outcome = run_checked(scenario, 5, failures_dir=tmp_path)
    assert outcome.ok and outcome.violations == ()
    outcome.assert_ok()
    assert outcome.seed == 5 and outcome.check.events == len(outcome.events) > 0
    assert outcome.report == run_scenario(scenario, 5).report
    assert outcome.report.dropped_by_loss > 0
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_failure_writes_the_scenario_and_ends_with_the_replay_command(tmp_path: Path) -> None:
    outcome = run_checked(ASKS_IN_TIME, 9, cloud=BUGGY, scheduling="tasks", failures_dir=tmp_path)
    with pytest.raises(ProtocolViolationError) as caught:
        outcome.assert_ok()
    error = caught.value
    lines = str(error).splitlines()
    assert lines[0] == (
        f"the protocol was broken: scenario 'asks-in-time', seed 9, {BUGGY}, tasks "
        "scheduling: 3 violations"
    )
    # receipts by merchant and id: "receipt shop-02/R0000003"
    pushed_early = re.compile(r"  timeout-push \(safety\): receipt shop-\d+/R000000")
    assert sum(pushed_early.match(line) is not None for line in lines) == 3
    assert error.scenario_file is not None and error.scenario_file.parent == tmp_path
    assert (
        lines[-1]
        == error.command
        == shlex.join(
            [
                "assocsim",
                "run",
                str(error.scenario_file),
                "--seed",
                "9",
                "--cloud",
                BUGGY,
                "--scheduling",
                "tasks",
                "--check",
            ]
        )
    )
    assert load_scenario(str(error.scenario_file)) == ASKS_IN_TIME
    assert f"# replay: {error.command}\n" in error.scenario_file.read_text(encoding="utf-8")


def test_an_unnamed_factory_is_run_and_the_message_says_it_cannot_be_replayed(
    tmp_path: Path,
) -> None:
    def unnamed(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
        return buggy_cloud(store, recommender, config)

    outcome = run_checked(ASKS_IN_TIME, cloud=unnamed, failures_dir=tmp_path)
    assert outcome.cloud is None and outcome.cloud_label is not None
    with pytest.raises(ProtocolViolationError, match="cannot be named on the command line"):
        outcome.assert_ok()


def test_many_violations_are_counted_not_all_listed(tmp_path: Path) -> None:
    scenario = attrs.evolve(ASKS_IN_TIME, phones=5, purchases=30, ask_probability=1.0)
    outcome = run_checked(scenario, cloud=buggy_cloud, failures_dir=tmp_path)
    assert len(outcome.violations) == 30
    assert "  ... and 10 more" in outcome.describe().splitlines()


# ------------------------------------------------------------------ assocsim run flags


def test_run_check_passes_a_correct_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "wrong-ids", "--seed", "2", "--check"]) == 0
    out = capsys.readouterr().out
    assert "check: scenario wrong-ids, seed 2" in out and "no violations" in out


def test_run_cloud_and_check_list_the_violations_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_scenario(ASKS_IN_TIME, tmp_path / "asks.toml")
    assert main(["run", str(path), "--cloud", BUGGY, "--check", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1  # stdout is the one JSON report
    assert len(re.findall(r"timeout-push \(safety\): receipt shop-\d+/R000000", captured.err)) == 3
    assert main(["run", str(path), "--cloud", BUGGY]) == 0  # without --check: just the run


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--cloud", "nocolon"], "assocsim: error: cloud factory 'nocolon': expected MODULE:"),
        (["--cloud", "nowhere_xyz:f"], "assocsim: error: cloud factory 'nowhere_xyz:f': no mod"),
    ],
)
def test_run_bad_cloud_is_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "quickstart", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and expected in captured.err


def test_run_cloud_imports_from_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "my_variant.py").write_text(
        "from tests.planted.buggy_cloud import buggy_cloud as make_cloud\n", encoding="utf-8"
    )
    path = write_scenario(ASKS_IN_TIME, tmp_path / "asks.toml")
    command = [str(_script()), "run", str(path), "--cloud", "my_variant:make_cloud", "--check"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=env, check=False
    )
    assert done.returncode == 1 and done.stderr == ""
    assert "3 violations:" in done.stdout
    bad = subprocess.run(
        [*command[:4], "--cloud", "x:y"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1


# ------------------------------------------------------------------ the pytest plugin


def test_the_fixtures_come_from_the_plugin(
    assocsim_run: AssocsimRunner, assocsim_failures_dir: Path, pytestconfig: pytest.Config
) -> None:
    assert assocsim_failures_dir == pytestconfig.rootpath / ".assocsim" / "failures"
    assert assocsim_run.failures_dir == assocsim_failures_dir
    outcome = assocsim_run(ASKS_IN_TIME)
    assert outcome.ok and outcome.report.responses == 3
    assert pytestconfig.pluginmanager.has_plugin("assocsim")


def test_the_plugin_imports_without_hypothesis() -> None:
    code = (
        "import sys, scenarios.testing.pytest_plugin, scenarios.testing\n"
        "assert 'hypothesis' not in sys.modules, 'the plugin imported hypothesis'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


INNER_CONFTEST = """
from hypothesis import Phase, settings

# Deterministic, and no explain phase: the same quick search on every run of this test.
settings.register_profile(
    "inner", derandomize=True, database=None, phases=[Phase.generate, Phase.shrink]
)
settings.load_profile("inner")
"""


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing your own variant", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README: no example under 'Testing your own variant'"
    return match.group(1)


def test_the_readme_example_finds_a_bug_through_the_installed_plugin(tmp_path: Path) -> None:
    example = _readme_example()
    assert len(example.strip().splitlines()) <= 11
    (tmp_path / "test_my_variant.py").write_text(example, encoding="utf-8")
    (tmp_path / "my_variant.py").write_text(
        "from tests.planted.buggy_cloud import buggy_cloud as make_cloud\n", encoding="utf-8"
    )
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nassocsim_failures_dir = found\naddopts = -p no:cacheprovider\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "test_my_variant.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the protocol was broken" in done.stdout
    assert "timeout-push (safety)" in done.stdout
    written = list((tmp_path / "found").iterdir())
    assert len(written) == 1  # only the shrunk example
    commands = [line for line in done.stdout.splitlines() if "assocsim run " in line]
    assert commands, done.stdout
    words = shlex.split(commands[-1][commands[-1].index("assocsim run ") :])
    assert words[2] == str(written[0])
    assert words[-3:] == ["--cloud", "my_variant:make_cloud", "--check"]
    replay = subprocess.run(
        [str(_script()), *words[1:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert replay.returncode == 1 and "timeout-push (safety)" in replay.stdout
