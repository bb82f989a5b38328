"""README, *Scenario files* and *The network, partitions and crashes*: every knob's
default in the tables is the default. Each row's default (a TOML value) is written into a
scenario file alone; the scenario loaded from it must equal the one from an empty file."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

from scenarios import load_scenario

README = Path(__file__).parents[2] / "README.md"
# | `knob` | `default` | meaning |, where the default is a TOML value (not `duration`)
_ROW = re.compile(r"^\| `([a-z_]+(?:\.[a-z_]+)?)` \| `([^`]+)` \|", re.M)
_FORMAT = "| `knob` | `default` | meaning |"
_NOT_A_VALUE = {"network.faults_until"}  # its default is the scenario's `duration`
# The knobs whose default the README's tables give: a row reworded past reading fails its
# knob's test by name (rather than leaving it untested), a new row the test below.
DOCUMENTED = (
    "description",
    "seed",
    "shops",
    "pos_per_shop",
    "phones",
    "purchases",
    "duration",
    "items_per_purchase",
    "wrong_id_rate",
    "unsubscribed_rate",
    "ask_probability",
    "ask_delay",
    "cloud.push_timeout",
    "cloud.mismatch_policy",
    "cloud.promotions",
    "cloud.max_products",
    "cloud.recommender",
    "source.dataset",
    "cloud.store",
    "retry.first_delay",
    "retry.factor",
    "retry.max_delay",
    "retry.max_attempts",
    "network.latency",
    "network.jitter",
    "network.loss",
    "network.duplicate",
    "network.reorder",
    "network.reorder_delay",
)


def _defaults() -> dict[str, str]:
    """The README tables' default of each knob, as printed (a TOML value)."""
    rows = _ROW.findall(README.read_text(encoding="utf-8"))
    return {knob: default for knob, default in rows if knob not in _NOT_A_VALUE}


def _toml(knob: str, default: str) -> str:
    table, dot, key = knob.rpartition(".")
    return f"[{table}]\n{key} = {default}\n" if dot else f"{key} = {default}\n"


def test_the_tables_list_the_knobs_this_test_reads() -> None:
    rows = _ROW.findall(README.read_text(encoding="utf-8"))
    twice = sorted({knob for knob, _ in rows if [k for k, _ in rows].count(knob) > 1})
    assert not twice, f"README.md gives a default twice for {twice}"
    new = sorted(set(_defaults()) - set(DOCUMENTED))
    assert not new, f"README.md's knob tables have rows {new}: add them to DOCUMENTED here"


@pytest.mark.parametrize("knob", DOCUMENTED)
def test_each_documented_default_is_the_default(knob: str, tmp_path: Path) -> None:
    default = _defaults().get(knob)
    if default is None:
        pytest.fail(f"README.md's knob tables have no row {_FORMAT} for `{knob}`")
    text = _toml(knob, default)
    tomllib.loads(text)  # the README's default is a TOML value
    (tmp_path / "set").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "set" / "world.toml").write_text(text)
    (tmp_path / "empty" / "world.toml").write_text("")
    documented = load_scenario(str(tmp_path / "set" / "world.toml"))
    assert documented == load_scenario(str(tmp_path / "empty" / "world.toml")), text


@pytest.mark.parametrize(
    ("old", "new", "told"),
    [
        (
            "| `retry.factor` | `2.0` |",
            "| `retry.factor` | 2 (doubling) |",
            "no row .*retry.factor",
        ),
        ("| `retry.max_attempts` | `50` |", "| `retry.max_attempts` | `49` |", "max_attempts = 49"),
        ('| `network.reorder_delay` | `"1s"` |', '| `network.reorder_delay` | `"2s"` |', "2s"),
    ],
    ids=["reworded", "wrong-count", "wrong-duration"],
)
def test_a_default_the_product_does_not_have_fails_naming_the_knob(
    old: str, new: str, told: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = README.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "README.md").write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "README", tmp_path / "README.md")
    (tmp_path / "run").mkdir()
    with pytest.raises((AssertionError, pytest.fail.Exception), match=told):
        test_each_documented_default_is_the_default(old.split("`")[1], tmp_path / "run")
