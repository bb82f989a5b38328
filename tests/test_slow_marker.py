"""The ``slow`` marker of tests/conftest.py: what it marks, and a stale name stops the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import LONG_FILES, SLOW, slow_tests

ROOT = Path(__file__).resolve().parents[1]


def test_slow_marks_files_and_test_prefixes_and_names_the_stale_ones() -> None:
    ids = [
        "tests/a/test_x.py::test_one",
        "tests/a/test_x.py::test_two[1]",
        "tests/a/test_y.py::test_long_walkthrough",
        "tests/a/test_y.py::test_quick",
    ]
    marked, stale = slow_tests(
        ids, ("tests/a/test_x.py", "tests/a/test_y.py::test_long", "tests/a/test_y.py::test_gone")
    )
    assert marked == {ids[0], ids[1], ids[2]}
    assert stale == ["tests/a/test_y.py::test_gone"]  # renamed: caught
    assert slow_tests(ids[3:], ("tests/b/test_z.py",)) == (set(), [])  # not collected: fine


def test_every_slow_name_matches_a_collected_test() -> None:
    files = {name.split("::")[0] for name in SLOW}
    # One process (-n 0): the listing is all it needs, not the workers of addopts' -n auto.
    command = [sys.executable, "-m", "pytest", "-n", "0", "--collect-only", "-q", "-m", "slow"]
    done = subprocess.run(
        [*command, *sorted(files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    selected = [line for line in done.stdout.splitlines() if "::" in line]
    _, stale = slow_tests(selected)
    assert not stale, f"tests/conftest.py SLOW names no test (renamed?): {stale}"
    assert {line.split("::")[0] for line in selected} == files


def test_every_long_file_exists() -> None:
    # an order hint only (tests/conftest.py), but a renamed file would silently lose it
    assert [name for name in LONG_FILES if not (ROOT / name).is_file()] == []
