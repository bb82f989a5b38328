"""What an assocsim process imports when it starts: neither numpy (the pairing engine's,
imported when a name of it is first used) nor pytest (``trio.testing``'s, imported where a
MockClock is built). Each ``assocsim`` process pays its imports at every start, the suite's
field trials start hundreds (``serve cloud``, ``pos``, ``phone``): the two took 0.3-0.5 s
of CPU of a start's 1.2 s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pytest", "trio.testing")


def heavy_imports(*statements: str) -> list[list[str]]:
    """After each statement in turn, in one fresh process: which of :data:`HEAVY` are
    imported."""
    script = "\n".join(
        [
            "import json, sys",
            "seen = []",
            *(
                f"{statement}\nseen.append([m for m in {HEAVY!r} if m in sys.modules])"
                for statement in statements
            ),
            "print(json.dumps(seen))",
        ]
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    seen: list[list[str]] = json.loads(done.stdout)
    return seen


def test_a_start_imports_neither_numpy_nor_pytest_until_the_engine_is_used() -> None:
    # The command line's parser (every subcommand's module), the packages' public names,
    # then the first use of the engine: numpy arrives there, and only there.
    assert heavy_imports(
        "import scenarios._cli._main",
        "import protocol, actors, scenarios; import scenarios.testing",
        "import protocol; protocol.PairingEngine",
    ) == [[], [], ["numpy"]]


def test_planted_a_start_that_imports_the_engine_is_caught() -> None:
    assert heavy_imports("import tests.planted.eager_numpy_start") == [["numpy"]]
