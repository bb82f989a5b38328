"""assocsim's toolkit for property-testing the protocol and your own variants of it.

* :mod:`scenarios.testing.strategies`: hypothesis strategies for messages, catalogs,
  scenarios and fault schedules (import it explicitly; it needs hypothesis).
* :func:`run_checked` runs a scenario in virtual time and judges its trace with every
  invariant; :meth:`RunOutcome.assert_ok` (or :func:`assert_protocol_holds`) fails with
  the violations, writes the scenario to a TOML file and ends its message with the one
  command that replays it: ``assocsim run FILE --seed N [--cloud MODULE:FACTORY] --check``.
  A run that judged nothing (no purchase) fails it too (:class:`NothingCheckedError`).
* The pytest plugin (:mod:`scenarios.testing.pytest_plugin`, registered as ``assocsim``
  through the ``pytest11`` entry point) gives tests the ``assocsim_run`` fixture.
* :func:`load_cloud_factory` / :func:`cloud_factory_spec`: a cloud variant by its
  ``MODULE:FACTORY`` name; :func:`scenario_to_toml` / :func:`write_scenario`: a scenario
  back to a file.

The names are imported when first used (PEP 562), so that loading the pytest plugin, a
module of this package, imports neither the runner nor hypothesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._paths import DEFAULT_FAILURES_DIR

if TYPE_CHECKING:
    from scenarios._sim._cloud_factory import (
        CloudFactoryError,
        cloud_factory_spec,
        load_cloud_factory,
    )

    from ._outcome import (
        AssocsimRunner,
        NothingCheckedError,
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
    "NothingCheckedError",
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

_HOMES = {
    "AssocsimRunner": "._outcome",
    "CloudFactoryError": "scenarios._sim._cloud_factory",
    "NothingCheckedError": "._outcome",
    "ProtocolViolationError": "._outcome",
    "RunOutcome": "._outcome",
    "assert_protocol_holds": "._outcome",
    "cloud_factory_spec": "scenarios._sim._cloud_factory",
    "load_cloud_factory": "scenarios._sim._cloud_factory",
    "run_checked": "._outcome",
    "scenario_file_name": "._toml",
    "scenario_to_toml": "._toml",
    "write_scenario": "._toml",
}
"""The module each lazily imported name comes from (the names of ``__all__`` but those
imported above)."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # once: later lookups find it without this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
