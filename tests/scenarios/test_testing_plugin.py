"""The pytest plugin leaves alone what is not its own: ``unittest`` test cases keep their
own event loop, and loading it (every pytest process of an environment with assocsim
installed does) imports neither the runner nor hypothesis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
before = set(sys.modules)
import scenarios.testing.pytest_plugin
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_loading_the_plugin_imports_only_its_own_modules() -> None:
    # What the plugin adds to a pytest process beyond pytest: its own modules and the
    # package's __init__, whose names are imported when first used (PEP 562), so neither
    # the simulator nor trio, attrs or hypothesis (it imported 586 modules, 1.5 s quiet).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS], capture_output=True, text=True, env=env, check=True
    )
    added = json.loads(done.stdout)
    assert added == [
        "scenarios",
        "scenarios.testing",
        "scenarios.testing._paths",
        "scenarios.testing.pytest_plugin",
    ]


LAZY_PACKAGES = ("protocol", "scenarios", "scenarios.testing")
ALIASES = {"EXPLORE_WORLDS"}  # public names given to another name (scenarios: WORLDS)


def wrong_lazy_names(name: str) -> tuple[list[str], list[str]]:
    """The public names of package ``name`` that are not what their home module defines
    under that name, and the names its table of homes lists beyond its ``__all__``:
    every one resolved in a fresh process (a name no home gives fails getattr there)."""
    script = f"""
import importlib, inspect, json, sys
package = importlib.import_module({name!r})
wrong = []
for public in package.__all__:
    value = getattr(package, public)
    home = getattr(package, "_HOMES", {{}}).get(public)
    if home is not None:
        module, attribute = home if isinstance(home, tuple) else (home, public)
        source = importlib.import_module(module, {name!r})
        renamed = attribute != public and public not in {sorted(ALIASES)!r}
        own = isinstance(value, type) or inspect.isfunction(value)
        named = value.__name__ if own else attribute  # a class or function's own name
        if getattr(source, attribute) is not value or renamed or named != attribute:
            wrong.append(public)
print(json.dumps([wrong, sorted(set(getattr(package, "_HOMES", {{}})) - set(package.__all__))]))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    wrong, not_public = json.loads(done.stdout)
    return wrong, not_public


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_public_name_of_a_lazy_package_is_what_its_home_module_defines(name: str) -> None:
    # A name of __all__ missing from the table of homes, or a home naming the wrong module
    # or object, would fail only where a user first reaches for it.
    assert wrong_lazy_names(name) == ([], [])


def test_planted_a_lazy_name_filed_under_another_object_is_caught() -> None:
    assert wrong_lazy_names("tests.planted.misfiled_lazy_name") == (["Pairing"], [])
