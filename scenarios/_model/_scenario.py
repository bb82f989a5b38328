"""Scenarios: what world to build and what its people do, loaded from TOML.

A scenario file is TOML. Top-level knobs describe the workload; the ``[cloud]`` table
configures the cloud, ``[retry]`` the re-sending of unacknowledged messages, ``[network]``
(with ``[[network.link]]`` entries) the simulated network, and ``[[partition]]`` and
``[[crash]]`` entries the faults injected. Durations are seconds or text with a unit
(``"90s"``, ``"10m"``, ``"2h"``). Unknown keys and ill-typed values are refused with the
key's dotted path. Every knob is described in the README, section "Scenario files".
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from actors import Crash, Link, NetworkConfig, Partition, check_fault_plan
from protocol import (
    MAX_ITEMS_PER_PURCHASE,
    Address,
    AssocsimError,
    CloudConfig,
    MismatchPolicy,
    RetryPolicy,
)
from protocol.lowlevel import (
    ConfigValidators,
    describe_errors,
    strict_converter,
)

from ._durations import parse_duration
from ._errors import ScenarioError

__all__ = [
    "CloudSettings",
    "Scenario",
    "SourceSettings",
    "builtin_scenarios",
    "load_scenario",
    "scenario_from_dict",
    "scenario_to_dict",
]


_check = ConfigValidators(ScenarioError, qualified=False)  # the loader adds the dotted path


def _int_range(minimum: int) -> Callable[[object, attrs.Attribute[Any], tuple[int, int]], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int]) -> None:
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        low, high = value
        if not whole or low < minimum or high < low or high > MAX_ITEMS_PER_PURCHASE:
            raise ScenarioError(
                f"{attribute.name}: expected [low, high] with "
                f"{minimum} <= low <= high <= {MAX_ITEMS_PER_PURCHASE}, "
                f"got {list(value)}"
            )

    return check


_delay = _check.duration()


def _duration_range(
    instance: object, attribute: attrs.Attribute[Any], value: tuple[float, float]
) -> None:
    low, high = value
    _delay(instance, attribute, low)
    _delay(instance, attribute, high)
    if high < low:
        raise ScenarioError(f"{attribute.name}: expected [low, high] with low <= high")


MAX_PHONES = 10**8  # phone ids are +86138 and 8 digits


# The cloud's own defaults (CloudConfig) are the table's: one statement of each.
_CLOUD_DEFAULTS = CloudConfig()


@attrs.frozen
class CloudSettings:
    """The ``[cloud]`` table."""

    push_timeout: float = attrs.field(
        default=_CLOUD_DEFAULTS.push_timeout, validator=_check.duration(positive=True)
    )
    mismatch_policy: MismatchPolicy = _CLOUD_DEFAULTS.mismatch_policy
    promotions: bool = True
    max_products: int = attrs.field(
        default=_CLOUD_DEFAULTS.max_products, validator=_check.whole_number(1)
    )
    store: str = attrs.field(default="auto", validator=_check.one_of("auto", "memory", "sqlite"))
    """``memory``, ``sqlite`` (a file the cloud recovers from after a crash), or ``auto``:
    sqlite when a ``[[crash]]`` entry crashes the cloud, else memory."""
    recommender: str = attrs.field(default="rules", validator=_check.one_of("rules", "engine"))
    """``rules``: the stateless complement rules; ``engine``: the learned pairing engine."""


def _iso_date(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(
                f'{attribute.name}: expected a date such as "2017-03-01" or '
                f'"2017-03-01T08:00", got {value!r}'
            ) from None


@attrs.frozen
class SourceSettings:
    """The ``[source]`` table: take the purchases from a real dataset (``dataset`` set)."""

    dataset: str = attrs.field(
        default="", validator=_check.one_of("", "completejourney", "onlineretail")
    )
    """``""``: generate purchases; ``completejourney`` or ``onlineretail``: replay them."""
    data: str = ""
    """The directory of the dataset's files (``.csv`` or ``.csv.xz``)."""
    start: str = attrs.field(default="", validator=_iso_date)
    """Take baskets bought at or after this date (UTC; ``""``: from the first)."""
    end: str = attrs.field(default="", validator=_iso_date)
    """Take baskets bought before this date (``""``: to the last)."""
    households: int = attrs.field(default=0, validator=_check.whole_number(0))
    """Take the baskets of the first N households to shop in the window (0: all)."""

    def __attrs_post_init__(self) -> None:
        if self.dataset and not self.data:
            raise ScenarioError(
                "data: give the directory of the dataset files, e.g. ../shared/data"
            )
        if not self.dataset:  # each would change nothing (reviewer B's F7)
            for name in ("data", "start", "end", "households"):
                if getattr(self, name):
                    raise ScenarioError(f"{name}: only with dataset (no dataset is set)")


@attrs.frozen
class Scenario:
    """A world (shops, phones, cloud) and the purchases its people make."""

    name: str = "unnamed"
    description: str = ""
    seed: int = attrs.field(default=0, validator=_check.whole_number(0))  # Random(-n) is Random(n)
    shops: int = attrs.field(default=3, validator=_check.whole_number(1))
    pos_per_shop: int = attrs.field(default=1, validator=_check.whole_number(1))
    phones: int = attrs.field(default=50, validator=_check.whole_number(1, MAX_PHONES))
    purchases: int = attrs.field(default=500, validator=_check.whole_number(0))
    duration: float = attrs.field(default=8 * 3600.0, validator=_check.duration(positive=True))
    items_per_purchase: tuple[int, int] = attrs.field(default=(1, 4), validator=_int_range(1))
    wrong_id_rate: float = attrs.field(default=0.0, validator=_check.fraction())
    unsubscribed_rate: float = attrs.field(default=0.0, validator=_check.fraction())
    ask_probability: float = attrs.field(default=1.0, validator=_check.fraction())
    ask_delay: tuple[float, float] = attrs.field(default=(30.0, 300.0), validator=_duration_range)
    cloud: CloudSettings = CloudSettings()
    source: SourceSettings = SourceSettings()
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    network: NetworkConfig = attrs.field(factory=NetworkConfig)
    partition: tuple[Partition, ...] = ()
    crash: tuple[Crash, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.wrong_id_rate > 0 and self.phones < 2:
            raise ScenarioError("wrong_id_rate: needs at least 2 phones to key in a wrong one")

    @property
    def purchases_end(self) -> float:
        """When the last purchase falls: ``duration``, or with a ``[source]`` dataset the
        last basket's time, which ignores ``duration`` (reviewer B's F3: a 54 h dataset
        run's fault phase ended at the default 8 h)."""
        if not self.source.dataset:
            return self.duration
        from ._workload import purchases_span  # noqa: PLC0415 - _workload imports this module

        return purchases_span(self.source, self.purchases, self.duration)

    @property
    def faults_until(self) -> float:
        """When the fault phase ends (network faults stop): ``[network] faults_until``, or
        by default the end of the purchases (:attr:`purchases_end`)."""
        until = self.network.faults_until
        return self.purchases_end if until is None else until

    @property
    def horizon(self) -> float:
        """Virtual seconds the run's day lasts, its last pushes and asks included: the
        purchases' end (:attr:`purchases_end`), then the later of the push deadline (step
        603) and the slowest ask. The one definition of a run's time span (progress bars,
        the speed and the time limit of a tcp run)."""
        return self.purchases_end + max(self.cloud.push_timeout, self.ask_delay[1])

    @property
    def has_faults(self) -> bool:
        """Does the run need the simulated network (latency, faults or partitions)?"""
        return not self.network.is_perfect or bool(self.partition)

    @property
    def crashes_cloud(self) -> bool:
        return any(fnmatch.fnmatchcase("cloud", crash.actor) for crash in self.crash)

    @property
    def healed_at(self) -> float:
        """When the last fault ends: network faults, partitions and crashes all over."""
        ends = [self.faults_until if not self.network.is_perfect else 0.0]
        ends += [p.end for p in self.partition] + [c.restart for c in self.crash]
        return max(ends)

    def check_fault_plan(self, addresses: Collection[Address]) -> None:
        """Refuse an address pattern of ``[[network.link]]``, ``[[partition]]`` or
        ``[[crash]]`` that matches none of ``addresses`` (the built world's): a fault that
        would silently do nothing. :class:`~actors.FaultPlanError`, one line with a
        did-you-mean (:func:`actors.check_fault_plan`)."""
        check_fault_plan(
            addresses, network=self.network, partitions=self.partition, crashes=self.crash
        )


# ------------------------------------------------------------------ structuring


def _pair(item: Callable[[Any, Any], Any]) -> Callable[[Any, Any], tuple[Any, Any]]:
    def structure(value: Any, _: Any) -> tuple[Any, Any]:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ScenarioError(f"expected a range [low, high], got {value!r}")
        return (item(value[0], None), item(value[1], None))

    return structure


_converter = strict_converter()
_converter.register_structure_hook_func(
    lambda t: t == tuple[int, int], _pair(lambda v, _: _converter.structure(v, int))
)
_duration = override(struct_hook=lambda v, _: parse_duration(v))
_positive_duration = override(struct_hook=lambda v, _: parse_duration(v, positive=True))
_converter.register_structure_hook(
    CloudSettings,
    make_dict_structure_fn(
        CloudSettings, _converter, _cattrs_forbid_extra_keys=True, push_timeout=_positive_duration
    ),
)


def _date_text(value: Any, _: Any) -> str:
    """A TOML date or date-time (``start = 2017-03-01``) or text, as ISO text."""
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if not isinstance(value, str):
        raise ScenarioError(f'expected a date such as "2017-03-01", got {value!r}')
    return value


_converter.register_structure_hook(
    SourceSettings,
    make_dict_structure_fn(
        SourceSettings,
        _converter,
        _cattrs_forbid_extra_keys=True,
        start=override(struct_hook=_date_text),
        end=override(struct_hook=_date_text),
    ),
)
_optional_duration = override(struct_hook=lambda v, _: None if v is None else parse_duration(v))


def _patterns_hook(value: Any, _: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(
            f'expected address patterns such as ["cloud", "phone:*"], got {value!r}'
        )
    return tuple(value)


_patterns = override(struct_hook=_patterns_hook)


# Each table refuses unknown keys; durations and address patterns get their own hooks.
_converter.register_structure_hook(
    RetryPolicy,
    make_dict_structure_fn(
        RetryPolicy,
        _converter,
        _cattrs_forbid_extra_keys=True,
        first_delay=_duration,
        max_delay=_duration,
    ),
)
_converter.register_structure_hook(
    NetworkConfig,
    make_dict_structure_fn(
        NetworkConfig,
        _converter,
        _cattrs_forbid_extra_keys=True,
        latency=_duration,
        jitter=_duration,
        reorder_delay=_duration,
        faults_until=_optional_duration,
    ),
)
_converter.register_structure_hook(
    Link,
    make_dict_structure_fn(
        Link,
        _converter,
        _cattrs_forbid_extra_keys=True,
        between=_patterns,
        latency=_optional_duration,
        jitter=_optional_duration,
    ),
)
_converter.register_structure_hook(
    Partition,
    make_dict_structure_fn(
        Partition,
        _converter,
        _cattrs_forbid_extra_keys=True,
        side=_patterns,
        other=_patterns,
        start=_duration,
        end=_duration,
    ),
)
_converter.register_structure_hook(
    Crash,
    make_dict_structure_fn(
        Crash, _converter, _cattrs_forbid_extra_keys=True, at=_duration, restart=_duration
    ),
)
_converter.register_structure_hook(
    Scenario,
    make_dict_structure_fn(
        Scenario,
        _converter,
        _cattrs_forbid_extra_keys=True,
        duration=_positive_duration,
        ask_delay=override(struct_hook=_pair(lambda v, _: parse_duration(v))),
    ),
)


def _table(hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``hook`` of a table, refusing anything but a table in our words (``crash=[1]``
    said Python's "argument of type 'int' is not iterable", reviewer B's F9)."""

    def structure(value: Any, cls: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ScenarioError(f"expected a table {{key = value, ...}}, got {value!r}")
        return hook(value, cls)

    return structure


for _cls in (CloudSettings, SourceSettings, RetryPolicy, NetworkConfig, Link, Partition, Crash):
    _converter.register_structure_hook(_cls, _table(_converter.get_structure_hook(_cls)))


def scenario_from_dict(data: dict[str, Any], *, where: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from a TOML-shaped dict; raises :class:`ScenarioError`."""
    try:
        return _converter.structure(data, Scenario)
    except cattrs.BaseValidationError as exc:
        raise ScenarioError(f"{where}: {'; '.join(describe_errors(exc))}") from None
    except AssocsimError as exc:  # a validator of a scenario, network or retry setting
        raise ScenarioError(f"{where}: {exc}") from None


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a TOML/JSON-ready dict (durations in seconds)."""
    data: dict[str, Any] = _converter.unstructure(scenario)
    data["items_per_purchase"] = list(scenario.items_per_purchase)
    data["ask_delay"] = list(scenario.ask_delay)
    return data


# ------------------------------------------------------------------ loading


def builtin_scenarios() -> dict[str, str]:
    """Built-in scenario name -> its one-line description."""
    found: dict[str, str] = {}
    for entry in sorted(resources.files("scenarios.builtin").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[entry.name.removesuffix(".toml")] = str(data.get("description", ""))
    return found


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name (``quickstart``) or a scenario file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(
                f"cannot read scenario file {name_or_path}: {exc.strerror}"
            ) from None
        where = str(path)
        default_name = path.stem
    else:
        entry = resources.files("scenarios.builtin").joinpath(f"{name_or_path}.toml")
        if not entry.is_file():
            known = ", ".join(builtin_scenarios())
            raise ScenarioError(
                f"no built-in scenario {name_or_path!r} and no such file (built-in: {known})"
            )
        text = entry.read_text(encoding="utf-8")
        where = f"built-in scenario {name_or_path}"
        default_name = name_or_path
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: not valid TOML: {exc}") from None
    data.setdefault("name", default_name)
    return scenario_from_dict(data, where=where)
