"""Every config class of every layer validates its numbers with one kit
(:class:`protocol.lowlevel.ConfigValidators`): a bool is never a number, NaN never passes, and
infinity only where it means "no limit". Fields are found from the classes' own
annotations, so a numeric field added later is covered without touching this file."""

from __future__ import annotations

import math
import re
import types
import typing
from typing import Any

import attrs
import pytest

from actors import (
    Backoff,
    Crash,
    FaultPlanError,
    Link,
    NetworkConfig,
    Partition,
    TcpLimits,
    TransportError,
)
from protocol import (
    CloudConfig,
    EngineConfig,
    LocalProtocolError,
    RetryPolicy,
)
from protocol.lowlevel import (
    ConfigValidators,
)
from scenarios import CloudSettings, Scenario, ScenarioError, SourceSettings

# Each config class, the error its layer raises, and the arguments it cannot do without.
CONFIGS: list[tuple[type[Any], type[Exception], dict[str, Any]]] = [
    (CloudConfig, LocalProtocolError, {}),
    (RetryPolicy, LocalProtocolError, {}),
    (EngineConfig, LocalProtocolError, {}),
    (TcpLimits, TransportError, {}),
    (Backoff, TransportError, {}),
    (Link, FaultPlanError, {"between": ("cloud", "phone:*")}),
    (NetworkConfig, FaultPlanError, {}),
    (Partition, FaultPlanError, {"side": ("cloud",), "start": 1.0, "end": 2.0}),
    (Crash, FaultPlanError, {"actor": "cloud", "at": 1.0, "restart": 2.0}),
    (Scenario, ScenarioError, {}),
    (CloudSettings, ScenarioError, {}),
    (SourceSettings, ScenarioError, {}),
]

# Time limits where infinity means "never time out", as trio's own deadlines allow.
INFINITY_ALLOWED = {
    (TcpLimits, "hello_timeout"),
    (TcpLimits, "frame_timeout"),
    (TcpLimits, "write_timeout"),
    (TcpLimits, "connect_timeout"),
    (Backoff, "first"),
    (Backoff, "factor"),
    (Backoff, "max"),
}

_NUMBERS = (int, float)


def _numeric_shape(annotation: Any) -> str | None:
    """``"scalar"`` for int/float (optionally ``| None``), ``"pair"`` for a tuple of two
    numbers, else None (text, enums, flags, nested configs)."""
    if annotation in _NUMBERS:
        return "scalar"
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) and set(args) - {type(None)} <= set(_NUMBERS):
        return "scalar"
    if typing.get_origin(annotation) is tuple and len(args) == 2 and set(args) <= set(_NUMBERS):
        return "pair"
    return None


def _numeric_fields() -> list[tuple[type[Any], type[Exception], dict[str, Any], str, str]]:
    found = []
    for cls, error, required in CONFIGS:
        attrs.resolve_types(cls)
        for field in attrs.fields(cls):
            shape = _numeric_shape(field.type)
            if shape is not None:
                found.append((cls, error, required, field.name, shape))
    return found


NUMERIC_FIELDS = _numeric_fields()


def _ids(case: tuple[Any, ...]) -> str:
    return f"{case[0].__name__}.{case[3]}"


def _refused(
    cls: type[Any], error: type[Exception], required: dict[str, Any], name: str, value: Any
) -> None:
    with pytest.raises(error, match=re.escape(name)):
        cls(**{**required, name: value})


def test_every_config_class_has_numeric_fields_found() -> None:
    classes = {case[0] for case in NUMERIC_FIELDS}
    assert classes == {cls for cls, _, _ in CONFIGS}
    assert len(NUMERIC_FIELDS) > 50  # the discovery found the fields, not nothing


@pytest.mark.parametrize("case", NUMERIC_FIELDS, ids=_ids)
@pytest.mark.parametrize("flag", [True, False])
def test_a_bool_is_never_a_number(
    case: tuple[type[Any], type[Exception], dict[str, Any], str, str], flag: bool
) -> None:
    cls, error, required, name, shape = case
    value = flag if shape == "scalar" else (flag, getattr(cls(**required), name)[1])
    _refused(cls, error, required, name, value)


@pytest.mark.parametrize("case", NUMERIC_FIELDS, ids=_ids)
def test_nan_is_never_a_number(
    case: tuple[type[Any], type[Exception], dict[str, Any], str, str],
) -> None:
    cls, error, required, name, shape = case
    value = math.nan if shape == "scalar" else (math.nan, getattr(cls(**required), name)[1])
    _refused(cls, error, required, name, value)


@pytest.mark.parametrize("case", NUMERIC_FIELDS, ids=_ids)
def test_infinity_only_where_it_means_no_limit(
    case: tuple[type[Any], type[Exception], dict[str, Any], str, str],
) -> None:
    cls, error, required, name, shape = case
    value = math.inf if shape == "scalar" else (getattr(cls(**required), name)[0], math.inf)
    if (cls, name) in INFINITY_ALLOWED:
        assert getattr(cls(**{**required, name: value}), name) == math.inf
    else:
        _refused(cls, error, required, name, value)


def test_the_defaults_are_valid() -> None:
    for cls, _, required in CONFIGS:
        cls(**required)


# --------------------------------------------------------------------------- the kit


def _check(validator: Any, value: Any, cls: type[Any] = CloudConfig) -> None:
    field = attrs.fields(cls)[0]
    validator(cls(), field, value)


class _Refused(Exception):
    pass


@pytest.mark.parametrize(
    ("make", "value", "message"),
    [
        (lambda k: k.number(above=0), 0, "must be > 0, got 0"),
        (lambda k: k.number(minimum=1), 0.5, "must be at least 1, got 0.5"),
        (lambda k: k.number(), "5", "expected a number, got '5'"),
        (lambda k: k.number(), math.inf, "must be a finite number, got inf"),
        (lambda k: k.number(finite=False), math.nan, "must be a finite number, got nan"),
        (lambda k: k.whole_number(1), 2.0, "expected a whole number, got 2.0"),
        (lambda k: k.whole_number(1, 3), 4, "must be at most 3, got 4"),
        (lambda k: k.fraction(), True, "must be a fraction from 0 to 1, got True"),
        (lambda k: k.duration(positive=True), 0, "must be longer than 0, got 0"),
        (lambda k: k.duration(), -1.0, "must not be negative, got -1.0"),
        (lambda k: k.duration(), "1s", "expected a duration, got '1s'"),
        (lambda k: k.flag(), 1, "expected True or False, got 1"),
        (lambda k: k.one_of("a", "b"), "c", "expected one of 'a', 'b', got 'c'"),
    ],
)
def test_messages_name_the_field_and_the_remedy(make: Any, value: Any, message: str) -> None:
    with pytest.raises(_Refused) as qualified:
        _check(make(ConfigValidators(_Refused)), value)
    assert str(qualified.value) == f"CloudConfig.push_timeout: {message}"
    with pytest.raises(_Refused) as bare:
        _check(make(ConfigValidators(_Refused, qualified=False)), value)
    assert str(bare.value) == f"push_timeout: {message}"


@pytest.mark.parametrize("value", [1, 1.5, 10**6])
def test_numbers_and_ints_pass(value: float) -> None:
    kit = ConfigValidators(_Refused)
    for validator in (kit.positive_number(), kit.number(minimum=1), kit.duration()):
        _check(validator, value)
