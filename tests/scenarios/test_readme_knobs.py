"""README, *Scenario files* and *The network, partitions and crashes*: every knob's
default in the tables is the default. Each row's default (a TOML value) is written into a
scenario file alone; the scenario loaded from it must equal the one from an empty file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from scenarios import load_scenario

README = Path(__file__).parents[2] / "README.md"
# | `knob` | `default` | meaning |, where the default is a TOML value (not `duration`)
_ROW = re.compile(r"^\| `([a-z_]+(?:\.[a-z_]+)?)` \| `([^`]+)` \|", re.M)
_NOT_A_VALUE = {"network.faults_until"}  # its default is the scenario's `duration`


def _rows() -> list[tuple[str, str]]:
    rows = _ROW.findall(README.read_text(encoding="utf-8"))
    return [(knob, default) for knob, default in rows if knob not in _NOT_A_VALUE]


def _toml(knob: str, default: str) -> str:
    table, dot, key = knob.rpartition(".")
    return f"[{table}]\n{key} = {default}\n" if dot else f"{key} = {default}\n"


def test_the_tables_list_the_knobs_this_test_reads() -> None:
    knobs = {knob for knob, _ in _rows()}
    assert len(knobs) == len(_rows()) >= 29
    assert {"seed", "cloud.push_timeout", "retry.max_attempts", "network.reorder_delay"} <= knobs


@pytest.mark.parametrize(("knob", "default"), _rows())
def test_each_documented_default_is_the_default(knob: str, default: str, tmp_path: Path) -> None:
    text = _toml(knob, default)
    tomllib.loads(text)  # the README's default is a TOML value
    (tmp_path / "set").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "set" / "world.toml").write_text(text)
    (tmp_path / "empty" / "world.toml").write_text("")
    documented = load_scenario(str(tmp_path / "set" / "world.toml"))
    assert documented == load_scenario(str(tmp_path / "empty" / "world.toml")), text
