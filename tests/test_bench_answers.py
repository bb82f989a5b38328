"""bench/answers.py: a bad ``--questions`` is one line (exit 2) and no traceback; a short
run compares the two constructors' answers (equal, or exit 1) and prints their ratio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "answers.py"


def _run(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *options],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("questions", ["0", "99", "-5", "many"])
def test_a_bad_questions_count_is_one_line(questions: str) -> None:
    done = _run("--questions", questions)
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"answers.py: error: argument --questions: expected a whole number >= 100,"
        f" got {questions!r}"
    )
    assert "Traceback" not in done.stderr


def test_a_short_run_prints_the_ratio() -> None:
    done = _run("--questions", "200")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("trusted / validated ")
