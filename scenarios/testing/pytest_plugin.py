"""assocsim's pytest plugin, registered as ``assocsim`` through the ``pytest11`` entry
point: installed assocsim, every pytest run of the environment has these fixtures.

* ``assocsim_run`` (session scope, so hypothesis's ``@given`` tests may use it): a
  callable ``(scenario, seed=None, *, cloud=None, scheduling="inline") -> RunOutcome``
  that runs the scenario in virtual time and judges its trace. ``outcome.assert_ok()``
  fails with the violations, the scenario written to a TOML file and the one command
  replaying it. It runs its own trio loop: call it from a plain (not ``async``) test.
* ``assocsim_failures_dir`` (session scope): where failing scenarios are written, the
  ``assocsim_failures_dir`` ini option under the rootdir (default
  ``.assocsim/failures``); override the fixture to put them elsewhere.

**Async tests without configuration.** The live actors run under trio; pytest runs an
``async def`` test only if a plugin claims it. With pytest-trio installed (``pip install
'assocsim[pytest]'``), this plugin marks ``trio`` every async test that no other plugin
claims (no ``trio``, ``asyncio`` or ``anyio`` marker, pytest-asyncio not in ``auto`` mode),
as pytest-trio's ``trio_mode`` would, so a project needs no ini setting for its fixtures
(``autojump_clock``, ``nursery``) and ``await simulate(...)``. Without pytest-trio such a
test fails in one line saying what to install, instead of "fixture 'autojump_clock' not
found". The ``assocsim_trio_mode = false`` ini option turns this off; a project that sets
pytest-trio's ``trio_mode`` has it from pytest-trio already.

Tests of ``unittest.TestCase`` classes (``IsolatedAsyncioTestCase`` runs its own asyncio
loop) and items that are not test functions are left alone.

Loaded by every pytest process of an environment with assocsim installed, the module
imports only pytest and the standard library at load time: the runner (trio, the actors,
the checkers) is imported by the ``assocsim_run`` fixture when a test asks for it, and
hypothesis never (``tests/scenarios/test_testing_plugin.py`` checks the import set).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._paths import DEFAULT_FAILURES_DIR

if TYPE_CHECKING:
    from ._outcome import AssocsimRunner

__all__ = [
    "assocsim_failures_dir",
    "assocsim_run",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_runtest_setup",
]

INI_FAILURES_DIR = "assocsim_failures_dir"
INI_TRIO_MODE = "assocsim_trio_mode"
PYTEST_TRIO_MISSING = (
    "{name} is an async test and pytest-trio is not installed (or is disabled): "
    "pip install 'assocsim[pytest]', or write it as a plain test with the assocsim_run fixture"
)
_CLAIMED_BY = ("trio", "asyncio", "anyio")  # the markers of the async test plugins
_NEEDS_PYTEST_TRIO = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_FAILURES_DIR,
        "directory (relative to the rootdir) where assocsim_run writes failing scenarios",
        default=str(DEFAULT_FAILURES_DIR),
    )
    parser.addini(
        INI_TRIO_MODE,
        "run with trio (through pytest-trio) every async test no other plugin claims",
        type="bool",
        default=True,
    )


def _ini_flag(config: pytest.Config, name: str, value: str) -> bool:
    """Whether ini option ``name`` (of a plugin that may be absent) is ``value``."""
    try:
        return str(config.getini(name)).lower() == value
    except ValueError:  # that plugin is not loaded: the option is not registered
        return False


def _is_unittest_item(item: pytest.Item) -> bool:
    """Is ``item`` a method of a ``unittest.TestCase`` class (which runs its own loop)?"""
    unittest = sys.modules.get("unittest")  # not imported: no test can subclass TestCase
    cls = getattr(item, "cls", None)
    return unittest is not None and isinstance(cls, type) and issubclass(cls, unittest.TestCase)


def _is_async_test(item: pytest.Item) -> bool:
    """Is ``item`` a plain pytest test function written ``async def``?"""
    if not isinstance(item, pytest.Function) or _is_unittest_item(item):
        return False
    function = getattr(item, "obj", None)
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", function)
    return inspect.iscoroutinefunction(inner)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``trio`` the async tests no plugin claims (see the module's docstring)."""
    if not config.getini(INI_TRIO_MODE):
        return
    if _ini_flag(config, "trio_mode", "true") or _ini_flag(config, "asyncio_mode", "auto"):
        return  # pytest-trio or pytest-asyncio claims every async test already
    trio_loaded = config.pluginmanager.has_plugin("trio")
    for item in items:
        if not _is_async_test(item) or any(item.get_closest_marker(m) for m in _CLAIMED_BY):
            continue
        if trio_loaded:
            item.add_marker(pytest.mark.trio)
        else:
            item.stash[_NEEDS_PYTEST_TRIO] = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail an unclaimed async test without pytest-trio before its fixtures are looked up."""
    if item.stash.get(_NEEDS_PYTEST_TRIO, False):
        pytest.fail(PYTEST_TRIO_MISSING.format(name=item.name), pytrace=False)


@pytest.fixture(scope="session")
def assocsim_failures_dir(pytestconfig: pytest.Config) -> Path:
    """Where ``assocsim_run`` writes failing scenarios (an absolute path)."""
    configured = Path(str(pytestconfig.getini(INI_FAILURES_DIR)))
    return (pytestconfig.rootpath / configured).resolve()


@pytest.fixture(scope="session")
def assocsim_run(assocsim_failures_dir: Path) -> AssocsimRunner:
    """Run a scenario in virtual time and judge it: ``assocsim_run(scenario, seed=None, *,
    cloud=None, scheduling="inline")`` returns a :class:`~scenarios.testing.RunOutcome`
    (``.report``, ``.events``, ``.check``, ``.assert_ok()``)."""
    from ._outcome import AssocsimRunner  # noqa: PLC0415 - the runner only when a test asks

    return AssocsimRunner(assocsim_failures_dir)
