"""The pytest plugin leaves alone what is not its own: ``unittest`` test cases keep their
own event loop, and loading it (every pytest process of an environment with assocsim
installed does) imports neither the runner nor hypothesis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

UNITTEST_CASE = """
import asyncio
import unittest


class AsyncCase(unittest.IsolatedAsyncioTestCase):
    async def test_asyncio_sleeps(self) -> None:
        await asyncio.sleep(0)
        self.assertTrue(True)


class PlainCase(unittest.TestCase):
    def test_plain(self) -> None:
        self.assertEqual(1 + 1, 2)


async def test_unclaimed_async_is_still_run_under_trio() -> None:
    import trio

    await trio.sleep(0)
"""


def test_unittest_async_cases_keep_their_own_loop(tmp_path: Path) -> None:
    # A fresh project (its own rootdir and ini), the plugin loaded by its entry point.
    (tmp_path / "test_cases.py").write_text(UNITTEST_CASE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "test_cases.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout


IMPORTS = """
import json, sys
import pytest
import scenarios
before = set(sys.modules)
import scenarios.testing.pytest_plugin
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_loading_the_plugin_imports_only_its_own_modules() -> None:
    # What the plugin adds to a pytest process beyond pytest and the package it lives in
    # (scenarios/__init__.py, which imports the simulator, is not the plugin's).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS], capture_output=True, text=True, env=env, check=True
    )
    added = json.loads(done.stdout)
    assert added == [
        "scenarios.testing",
        "scenarios.testing._paths",
        "scenarios.testing.pytest_plugin",
    ]
