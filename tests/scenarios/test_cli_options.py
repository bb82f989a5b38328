"""The command line reads arguments, the library takes typed options.

Every argparse parser and every function that reads an ``argparse.Namespace`` is in
``scenarios/_cli/``; the field processes' ``--scenario``/``--set`` checks are one function
there, and ``serve cloud``'s defaults are the ``CloudConfig`` ones.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import attrs
import pytest

from protocol import CloudConfig, MismatchPolicy
from scenarios import load_scenario
from scenarios._cli import _field
from scenarios._cli._main import _parser, main
from scenarios._field._serve import CloudOptions
from scenarios._sim._runner import cloud_config

ROOT = Path(__file__).resolve().parents[2]


def _argparse_importers() -> list[str]:
    """The modules outside ``scenarios/_cli/`` that import argparse."""
    found = []
    for package in ("protocol", "actors", "scenarios"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.is_relative_to(ROOT / "scenarios" / "_cli"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                if "argparse" in names:
                    found.append(str(path.relative_to(ROOT)))
    return found


def test_only_the_cli_imports_argparse() -> None:
    assert _argparse_importers() == []


def test_the_argparse_check_sees_a_planted_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Planted in a copy of the sources: tests running beside this one (pytest -n) read the
    # checkout's.
    for package in ("protocol", "actors", "scenarios"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _argparse_importers() == []
    planted = tmp_path / "scenarios" / "_field" / "_planted_argparse.py"
    planted.write_text("from argparse import Namespace\n", encoding="utf-8")
    assert _argparse_importers() == ["scenarios/_field/_planted_argparse.py"]


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "cloud", "--listen", "127.0.0.1:0", "--db", "x.db"],
        ["pos", "--cloud", "127.0.0.1:1", "--merchant", "s", "--key", "k"],
        ["phone", "--cloud", "127.0.0.1:1", "--id", "+8613800000001"],
    ],
)
def test_every_field_process_refuses_a_set_without_a_scenario_in_the_same_line(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--set", "cloud.push_timeout=1m"]) == 2
    assert capsys.readouterr().err == (
        "assocsim: error: --set changes a --scenario: give the scenario too\n"
    )


def _cloud_options(tmp_path: Path, *extra: str) -> CloudOptions:
    db = str(tmp_path / "cloud.db")
    args = _parser().parse_args(["serve", "cloud", "--listen", "127.0.0.1:0", "--db", db, *extra])
    return _field._cloud_options(args)


def test_serve_cloud_without_a_scenario_takes_the_cloud_config_defaults(tmp_path: Path) -> None:
    options = _cloud_options(tmp_path)
    assert options.config == CloudConfig()
    assert options.recommender == "rules"
    assert options.run is None


def test_serve_cloud_takes_its_scenario_then_its_options(tmp_path: Path) -> None:
    options = _cloud_options(
        tmp_path, "--scenario", "wrong-ids", "--set", "cloud.max_products=3", "--push-timeout", "2m"
    )
    scenario = load_scenario("wrong-ids")
    expected = attrs.evolve(cloud_config(scenario), max_products=3, push_timeout=120.0)
    assert options.config == expected
    assert options.run is not None
    assert options.run.overrides == ("cloud.max_products=3",)
    policy = _cloud_options(tmp_path, "--mismatch-policy", "reject").config.mismatch_policy
    assert policy is MismatchPolicy.REJECT


@pytest.mark.parametrize(
    ("argv", "unknown"),
    [
        (["sweep", "quickstart", "--seed", "3"], "--seed 3"),  # was read as --seeds 3
        (["run", "quickstart", "--tra", "x.jsonl"], "--tra x.jsonl"),  # was --trace
    ],
)
def test_an_option_is_never_taken_by_a_prefix_of_its_name(
    argv: list[str],
    unknown: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert f"error: unrecognized arguments: {unknown}" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing ran


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "quickstart", "--set", "a\nb=1"],
        ["explore", "pull", "--set", "push\r\ntimeout=1"],
        ["sweep", "quickstart", "--vary", "wrong\nid=0,1", "--seeds", "1", "--out", "o"],
    ],
)
def test_an_input_holding_a_line_break_is_refused_in_one_line(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("assocsim: error: ") and err.count("\n") == 1
    assert "\\n" in err  # the line break shown as written, escaped


def test_a_scenario_without_a_cloud_table_gives_the_clouds_own_defaults() -> None:
    """The ``[cloud]`` table's defaults are ``CloudConfig``'s (one statement of each), so
    a cloud served without a scenario and one run from an empty scenario are the same."""
    empty = load_scenario("quickstart")
    empty = attrs.evolve(empty, cloud=type(empty.cloud)(), retry=type(empty.retry)())
    assert cloud_config(empty) == CloudConfig()
