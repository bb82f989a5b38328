"""Which scenario, which seed, which overrides: :class:`RunSpec`, the facts that re-run a run.

``assocsim run``, ``sweep``, ``serve cloud``, ``pos``, ``phone`` and ``run --transport
tcp`` all start from a scenario as given (a built-in name or a file path), its ``--set
KEY=VALUE`` overrides and a seed. :meth:`RunSpec.load` loads the scenario, applies the
overrides and checks them once; :meth:`RunSpec.evolve` derives another run from it (a
sweep's point and seed, a TCP run's children); :func:`rerun_header` writes those facts
into a trace header, the one place every trace writer takes them from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from protocol.lowlevel import ConfigValidators

from ._errors import ScenarioError
from ._overrides import apply_overrides
from ._scenario import Scenario, load_scenario, scenario_to_dict

__all__ = ["FIELD_TRIAL", "RunSpec", "rerun_header"]

FIELD_TRIAL: Final = "field-trial"
"""The ``scenario`` of a field process's trace header when it was given no scenario."""

_check = ConfigValidators(ScenarioError)


def _text(instance: RunSpec, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"RunSpec.{attribute.name}: expected a name or path, got {value!r}")


def _assignments(instance: RunSpec, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(item, str) for item in value):
        raise ScenarioError(f"RunSpec.{attribute.name}: expected KEY=VALUE texts, got {value!r}")


def _a_scenario(instance: RunSpec, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Scenario):
        raise ScenarioError(f"RunSpec.{attribute.name}: expected a Scenario, got {value!r}")


def _as_assignments(overrides: Sequence[str]) -> tuple[str, ...]:
    # one "KEY=VALUE" string would otherwise be read letter by letter
    if isinstance(overrides, str) or not all(isinstance(item, str) for item in overrides):
        raise ScenarioError(f"overrides: expected a list of KEY=VALUE texts, got {overrides!r}")
    return tuple(overrides)


@attrs.frozen
class RunSpec:
    """A scenario as given, its overrides as given (in order), the scenario they build, and
    the seed: the scenario's own (after the overrides) unless one was given.

    Build it with :meth:`load` (a name or path) or :meth:`of` (a scenario already loaded);
    both apply and check the overrides. ``seed_given`` says whether ``seed`` was given
    (then :meth:`evolve` keeps it) or is the scenario's own (then it follows the scenario).
    """

    source: str = attrs.field(validator=_text)  # a built-in name or a file path, as given
    overrides: tuple[str, ...] = attrs.field(validator=_assignments)  # KEY=VALUE, as given
    scenario: Scenario = attrs.field(validator=_a_scenario)  # with the overrides applied
    seed: int = attrs.field(validator=_check.whole_number(0))  # a bool is not a seed
    seed_given: bool = attrs.field(default=False, validator=_check.flag(), kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not self.seed_given and self.seed != self.scenario.seed:
            raise ScenarioError(
                f"RunSpec: seed {self.seed} is not the scenario's own ({self.scenario.seed}); "
                "say seed_given=True, or build it with RunSpec.load or RunSpec.of"
            )

    @classmethod
    def load(
        cls,
        source: str,
        overrides: Sequence[str] = (),
        seed: int | None = None,
        *,
        option: str = "--set",
    ) -> RunSpec:
        """The built-in scenario named ``source`` or the file at it, with ``overrides``
        applied in order; :class:`ScenarioError` in one line if either is refused."""
        return cls.of(load_scenario(source), overrides, seed, source=source, option=option)

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        overrides: Sequence[str] = (),
        seed: int | None = None,
        *,
        source: str | None = None,
        option: str = "--set",
    ) -> RunSpec:
        """``scenario`` (as loaded) with ``overrides`` applied in order; ``source`` is how
        it was given (default: the resulting scenario's name)."""
        assignments = _as_assignments(overrides)
        built = apply_overrides(scenario, assignments, option=option)
        return cls(
            source if source is not None else built.name,
            assignments,
            built,
            built.seed if seed is None else seed,
            seed_given=seed is not None,
        )

    def evolve(
        self, overrides: Sequence[str] = (), *, seed: int | None = None, option: str = "--set"
    ) -> RunSpec:
        """This run with ``overrides`` applied after its own (``option`` names them in a
        refusal, e.g. ``--vary``), and ``seed`` if given; the same source."""
        assignments = _as_assignments(overrides)
        built = apply_overrides(self.scenario, assignments, option=option)
        if seed is not None:
            given, chosen = True, seed
        elif self.seed_given:
            given, chosen = True, self.seed
        else:
            given, chosen = False, built.seed
        overrides_now = (*self.overrides, *assignments)
        return RunSpec(self.source, overrides_now, built, chosen, seed_given=given)


def rerun_header(
    run: RunSpec | None, facts: Mapping[str, Any], *, seeded: bool = True
) -> dict[str, Any]:
    """A trace header: the facts that re-run it (``scenario``, ``seed``, ``overrides``,
    ``settings``) around the writer's own ``facts``, in this order.

    ``run`` is None for a field process given no scenario; ``seeded=False`` writes no seed
    (``serve cloud`` takes none: it draws nothing at random and, under ``run --transport
    tcp``, is not told the run's).
    """
    return {
        "scenario": FIELD_TRIAL if run is None else run.scenario.name,
        "seed": run.seed if run is not None and seeded else None,
        **facts,
        "overrides": [] if run is None else list(run.overrides),
        "settings": {} if run is None else scenario_to_dict(run.scenario),
    }
