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

The module imports only pytest and the toolkit's own runner (never hypothesis), and
registers nothing but the ini option and the two fixtures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ._outcome import DEFAULT_FAILURES_DIR, AssocsimRunner

__all__ = ["assocsim_failures_dir", "assocsim_run", "pytest_addoption"]

INI_FAILURES_DIR = "assocsim_failures_dir"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_FAILURES_DIR,
        "directory (relative to the rootdir) where assocsim_run writes failing scenarios",
        default=str(DEFAULT_FAILURES_DIR),
    )


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
    return AssocsimRunner(assocsim_failures_dir)
