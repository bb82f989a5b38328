"""assocsim's toolkit for property-testing the protocol and your own variants of it.

* :mod:`scenarios.testing.strategies`: hypothesis strategies for messages, catalogs,
  scenarios and fault schedules (import it explicitly; it needs hypothesis).
* :func:`run_checked` runs a scenario in virtual time and judges its trace with every
  invariant; :meth:`RunOutcome.assert_ok` (or :func:`assert_protocol_holds`) fails with
  the violations, writes the scenario to a TOML file and ends its message with the one
  command that replays it: ``assocsim run FILE --seed N [--cloud MODULE:FACTORY] --check``.
* The pytest plugin (:mod:`scenarios.testing.pytest_plugin`, registered as ``assocsim``
  through the ``pytest11`` entry point) gives tests the ``assocsim_run`` fixture.
* :func:`load_cloud_factory` / :func:`cloud_factory_spec`: a cloud variant by its
  ``MODULE:FACTORY`` name; :func:`scenario_to_toml` / :func:`write_scenario`: a scenario
  back to a file.

Nothing here imports hypothesis, so the pytest plugin stays cheap to load.
"""

from scenarios._sim._cloud_factory import CloudFactoryError, cloud_factory_spec, load_cloud_factory

from ._outcome import (
    DEFAULT_FAILURES_DIR,
    AssocsimRunner,
    ProtocolViolationError,
    RunOutcome,
    assert_protocol_holds,
    run_checked,
)
from ._toml import scenario_file_name, scenario_to_toml, write_scenario

__all__ = [
    "DEFAULT_FAILURES_DIR",
    "AssocsimRunner",
    "CloudFactoryError",
    "ProtocolViolationError",
    "RunOutcome",
    "assert_protocol_holds",
    "cloud_factory_spec",
    "load_cloud_factory",
    "run_checked",
    "scenario_file_name",
    "scenario_to_toml",
    "write_scenario",
]
