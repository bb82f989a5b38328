"""bench/discovery.py refuses a bad option in one line (exit 2) before it reads the data
and learns Complete Journey for minutes: without these checks, ``--questions 0`` ended in
an IndexError and a bad ``--slots`` or ``--ratio`` in a LocalProtocolError traceback, both
after the learning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "discovery.py"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--questions", "0"], "--questions must be at least 1, got 0"),
        (["--slots", "-1"], "EngineConfig.habit_slots: must be at least 0, got -1"),
        (["--ratio", "1.5"], "EngineConfig.discovery: must be a fraction from 0 to 1, got 1.5"),
        (["--ratio", "nan"], "EngineConfig.discovery: must be a fraction from 0 to 1, got nan"),
        (["--data", "/nonexistent/data"], "/nonexistent/data: no such directory"),
    ],
)
def test_a_bad_option_is_one_line_before_any_work(options: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), *options],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""  # nothing read, learned or timed
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("discovery.py: error: ") and message in last
    assert "Traceback" not in done.stderr
