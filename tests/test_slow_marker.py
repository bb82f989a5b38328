"""The ``slow`` marker of tests/conftest.py: what it marks, and a stale name stops the run."""

from __future__ import annotations

from pathlib import Path

import pytest

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


class _Collected:
    """The ids of the tests a pytest session selected (the ``pytest_collection_finish`` hook)."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.ids = [item.nodeid for item in session.items]


# planted: a name no test of its file has (the file's other tests are marked slow)
STALE = "tests/scenarios/test_variants_guide.py::test_the_walkthrough_renamed_long_ago"


def _slow_problems(slow: tuple[str, ...], selected: list[str]) -> list[str]:
    """What is wrong with ``slow`` given the tests ``-m slow`` ``selected`` in its files."""
    files = {name.split("::")[0] for name in slow}
    _, stale = slow_tests(selected, slow)
    problems = [f"tests/conftest.py SLOW names no test (renamed?): {name}" for name in stale]
    unmarked = files - {nodeid.split("::")[0] for nodeid in selected}
    return problems + [f"{file}: no test marked slow" for file in sorted(unmarked)]


def test_every_slow_name_matches_a_collected_test() -> None:
    # The files SLOW names, collected with -m slow by pytest in this process (in the
    # suite's run: 4.5 s of CPU; a separate pytest process took 5.7 s).
    files = sorted({name.split("::")[0] for name in SLOW})
    collected = _Collected()
    argv = ["-n", "0", "-p", "no:cacheprovider", "--collect-only", "-q", "-m", "slow"]
    code = pytest.main([*argv, *(str(ROOT / file) for file in files)], plugins=[collected])
    assert code == pytest.ExitCode.OK, code
    assert _slow_problems(SLOW, collected.ids) == []
    assert _slow_problems((*SLOW, STALE), collected.ids) == [
        f"tests/conftest.py SLOW names no test (renamed?): {STALE}"
    ]
    # planted: a file SLOW names none of whose tests was selected (renamed, or unmarked)
    assert _slow_problems((*SLOW, "tests/test_slow_marker.py"), collected.ids) == [
        "tests/test_slow_marker.py: no test marked slow"
    ]


def test_every_long_file_exists() -> None:
    # an order hint only (tests/conftest.py), but a renamed file would silently lose it
    assert [name for name in LONG_FILES if not (ROOT / name).is_file()] == []
