"""Fast structuring and unstructuring of attrs classes, generated once from their fields.

The strict cattrs converter of :mod:`._structuring` checks every JSON value and explains
every refusal, but its dispatch costs more than decoding the JSON itself. :func:`structurer`
generates, for one attrs class, a plain function that makes the same type checks for the
common case and then builds the instance through its ``__init__``, so every attrs
validator (the protocol's rules) still runs:

* ``str``, ``int``, ``bool``: exactly that JSON type (``type(v) is int``: no ``true``);
* ``float``: an int or a float, finite, made a float;
* an ``enum.StrEnum``: one of its values, looked up in a value -> member table;
* an attrs class: a JSON object, structured by its own generated function;
* ``tuple[X, ...]``: a list (or tuple) of X; ``X | None``: ``None`` or X;
* no unknown key, every key without a default present, defaults honoured.

It never explains a refusal: on any doubt it raises (:class:`Refused`, ``KeyError``, or
whatever a validator raises) and the caller falls back to the converter through
:func:`fall_back`, which accepts or refuses with its detailed message. So the fast path
only has to be exact about *accepting*: whatever it returns, the converter returns an equal
object for the same input (``tests/protocol/test_codec_fast.py`` checks this by property
tests, mutations included).

A fall back is counted in :data:`fallbacks`. One that ends in a refusal is the expected
way to refuse a bad body; one where the converter accepts what the generated function
raised on is not (a bug in the generated code would otherwise show only as slowness, and
no JSON decoder makes the odd input, such as a ``dict`` subclass, that legitimately does
it): it warns :class:`FastPathWarning`, once per class and direction, naming the cause.
The test suite turns that warning into an error (``filterwarnings`` in pyproject.toml).

:func:`unstructurer` generates the inverse, with the output of the converter's
``unstructure``: enums as their values, tuples as lists, nested classes as dicts, ``None``
kept. A class with a field this module does not handle (another type, a converter, a
factory default, ``init=False``, ``kw_only``, an alias) gets no fast function:
:class:`Unsupported` is raised and callers keep the converter for it.
"""

from __future__ import annotations

import collections
import contextlib
import enum
import linecache
import types
import typing
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs

__all__ = [
    "FastPathWarning",
    "Refused",
    "Unsupported",
    "fall_back",
    "fallbacks",
    "generated",
    "structurer",
    "unstructurer",
]

_IndentedLines = list[str]
_T = typing.TypeVar("_T")
_F = typing.TypeVar("_F", bound=Callable[..., Any])


class Refused(Exception):
    """The fast path does not accept this input (the converter decides)."""


class Unsupported(TypeError):
    """No fast function for this class: a field of a kind this module does not handle."""


class FastPathWarning(RuntimeWarning):
    """The converter accepted (or unstructured) what a generated function raised on."""


Direction = typing.Literal["structure", "unstructure"]
Outcome = typing.Literal["refused", "accepted"]

fallbacks: collections.Counter[tuple[Direction, str, Outcome]] = collections.Counter()
"""(direction, class name, outcome) -> how many times a generated function raised and the
converter took over: ``"refused"`` when the converter refused too (a bad body, expected),
``"accepted"`` when it did not (see :class:`FastPathWarning`)."""
_warned: set[tuple[Direction, str]] = set()


def fall_back(direction: Direction, cls: type[Any], slow: Callable[[], _T], cause: Exception) -> _T:
    """``slow()`` (the converter) after the generated function for ``cls`` raised
    ``cause``: its result, or its exception; counted in :data:`fallbacks`."""
    try:
        result = slow()
    except Exception:
        fallbacks[direction, cls.__name__, "refused"] += 1
        raise
    fallbacks[direction, cls.__name__, "accepted"] += 1
    if (direction, cls.__name__) not in _warned:
        warnings.warn(
            f"the generated {direction} function of {cls.__name__} raised {cause!r}, "
            "yet the converter did not: a bug of "
            "protocol/_wire/_fast.py, or an input no JSON decoder makes; the slow path is taken",
            FastPathWarning,
            stacklevel=3,
        )
        _warned.add((direction, cls.__name__))  # after: an "error" filter raises each time
    return result


_FACTORY: Final[type] = type(attrs.Factory(list))  # attrs types Factory as a function
_SCALARS: tuple[type, ...] = (str, int, bool)  # checked by exact type, never converted
_structurers: dict[type, Callable[[Any], Any]] = {}
_unstructurers: dict[type, Callable[[Any], dict[str, Any]]] = {}


def structurer(cls: type[Any]) -> Callable[[Any], Any]:
    """The generated structuring function of the attrs class ``cls`` (cached).

    It takes a dict and returns an instance, or raises: :class:`Refused` (or another
    exception) whenever the strict converter has to look. Raises :class:`Unsupported` if
    ``cls`` has a field this module does not handle.
    """
    fn = _structurers.get(cls)
    if fn is None:
        fn = _structurers[cls] = _guarded(_generate_structurer, cls)
    return fn


def unstructurer(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """The generated unstructuring function of the attrs class ``cls`` (cached).

    Its output equals the strict converter's ``unstructure``. Raises :class:`Unsupported`
    if ``cls`` has a field this module does not handle.
    """
    fn = _unstructurers.get(cls)
    if fn is None:
        fn = _unstructurers[cls] = _guarded(_generate_unstructurer, cls)
    return fn


def generated(
    generate: Callable[[type[Any]], _F], classes: Iterable[type[Any]]
) -> dict[type[Any], _F]:
    """``generate(cls)`` (:func:`structurer` or :func:`unstructurer`) for each of
    ``classes`` that this module handles; the others are left out (their callers keep the
    converter; tests/protocol/test_codec_fast.py insists that no message class is)."""
    out = {}
    for cls in classes:
        with contextlib.suppress(Unsupported):
            out[cls] = generate(cls)
    return out


_generating: set[tuple[object, type[Any]]] = set()


def _guarded(generate: Callable[[type[Any]], _T], cls: type[Any]) -> _T:
    """``generate(cls)``, refusing a class that contains itself (no recursion here)."""
    key = (generate, cls)
    if key in _generating:
        raise Unsupported(f"{cls.__name__} contains itself")
    _generating.add(key)
    try:
        return generate(cls)
    finally:
        _generating.discard(key)


# --------------------------------------------------------------------------- fields


def _fields(cls: type[Any]) -> list[tuple[attrs.Attribute[Any], Any]]:
    """``cls``'s fields with their resolved types; raises :class:`Unsupported`."""
    if not attrs.has(cls):
        raise Unsupported(f"{cls!r} is not an attrs class")
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:
        raise Unsupported(f"{cls.__name__}: unresolvable annotations ({exc})") from None
    out = []
    for field in attrs.fields(cls):
        where = f"{cls.__name__}.{field.name}"
        if not field.init or field.kw_only or field.alias != field.name:
            raise Unsupported(f"{where}: init=False, kw_only or an alias")
        if field.converter is not None or isinstance(field.default, _FACTORY):
            raise Unsupported(f"{where}: a converter or a factory default")
        if field.name not in hints:
            raise Unsupported(f"{where}: no annotation")
        out.append((field, hints[field.name]))
    return out


def _optional_of(type_: Any) -> Any:
    """X for ``X | None`` (or ``Optional[X]``), else None."""
    if typing.get_origin(type_) in (typing.Union, types.UnionType):
        args = typing.get_args(type_)
        if len(args) == 2 and type(None) in args:
            return args[0] if args[1] is type(None) else args[1]
    return None


def _homogeneous_tuple_of(type_: Any) -> Any:
    """X for ``tuple[X, ...]``, else None."""
    args = typing.get_args(type_)
    if typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


def _is_str_enum(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, enum.StrEnum)


class _Namespace:
    """The globals of one generated function: each object under a fresh name."""

    def __init__(self) -> None:
        self.globals: dict[str, Any] = {"Refused": Refused}

    def add(self, value: Any, hint: str) -> str:
        name = f"_{hint}_{len(self.globals)}"
        self.globals[name] = value
        return name

    def compile(self, source: str, name: str, filename: str) -> Any:
        # The source in linecache, so that tracebacks and debuggers show it.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), self.globals)  # our own generated code
        return self.globals[name]


# --------------------------------------------------------------------------- structure


def _rebinds(type_: Any) -> bool:
    """Whether structuring a value of ``type_`` makes a new value (else: only checks)."""
    inner = _optional_of(type_)
    if inner is not None:
        return _rebinds(inner)
    return type_ not in _SCALARS


def _check(type_: Any, var: str, indent: str, ns: _Namespace, depth: int) -> _IndentedLines:
    """Lines that check ``var`` as JSON for ``type_``, rebinding it to the structured
    value; they raise on any doubt."""
    if type_ in _SCALARS:
        return [f"{indent}if type({var}) is not {type_.__name__}: raise Refused"]
    if type_ is float:
        return [
            f"{indent}if type({var}) is float:",
            f"{indent}    if {var} - {var} != 0.0: raise Refused",  # inf or nan: not finite
            f"{indent}elif type({var}) is int:",
            f"{indent}    {var} = float({var})",  # OverflowError for a huge int: doubt
            f"{indent}else:",
            f"{indent}    raise Refused",
        ]
    if _is_str_enum(type_):
        members = ns.add({member.value: member for member in type_}, type_.__name__)
        return [f"{indent}{var} = {members}[{var}]"]  # KeyError, TypeError: doubt
    if attrs.has(type_):
        fn = ns.add(structurer(type_), f"structure_{type_.__name__}")
        return [f"{indent}{var} = {fn}({var})"]
    inner = _optional_of(type_)
    if inner is not None:
        return [f"{indent}if {var} is not None:", *_check(inner, var, indent + "    ", ns, depth)]
    item = _homogeneous_tuple_of(type_)
    if item is not None:
        entry = f"e{depth}"
        lines = [f"{indent}if type({var}) is not list and type({var}) is not tuple: raise Refused"]
        if attrs.has(item):
            fn = ns.add(structurer(item), f"structure_{item.__name__}")
            return [*lines, f"{indent}{var} = tuple(map({fn}, {var}))"]
        inner_lines = _check(item, entry, indent + "    ", ns, depth + 1)
        if not _rebinds(item):
            return [
                *lines,
                f"{indent}for {entry} in {var}:",
                *inner_lines,
                f"{indent}{var} = tuple({var})",
            ]
        out = f"t{depth}"
        return [
            *lines,
            f"{indent}{out} = []",
            f"{indent}for {entry} in {var}:",
            *inner_lines,
            f"{indent}    {out}.append({entry})",
            f"{indent}{var} = tuple({out})",
        ]
    raise Unsupported(f"no fast structuring of {type_!r}")


def _generate_structurer(cls: type[Any]) -> Callable[[Any], Any]:
    fields = _fields(cls)
    ns = _Namespace()
    klass = ns.add(cls, "cls")
    absent = ns.add(object(), "absent")
    required = sum(1 for field, _ in fields if field.default is attrs.NOTHING)
    name = f"structure_{cls.__name__}"
    lines = [f"def {name}(o):"]
    if required == len(fields):
        lines.append(f"    if type(o) is not dict or len(o) != {len(fields)}: raise Refused")
    else:
        lines += ["    if type(o) is not dict: raise Refused", f"    n = {required}"]
    args = []
    for index, (field, type_) in enumerate(fields):
        var = f"x{index}"
        args.append(var)
        if field.default is attrs.NOTHING:
            lines.append(f"    {var} = o[{field.name!r}]")  # KeyError: doubt
            lines += _check(type_, var, "    ", ns, 0)
        else:
            default = ns.add(field.default, f"default_{field.name}")
            lines += [
                f"    {var} = o.get({field.name!r}, {absent})",
                f"    if {var} is {absent}:",
                f"        {var} = {default}",
                "    else:",
                "        n += 1",
                *_check(type_, var, "        ", ns, 0),
            ]
    if required != len(fields):
        lines.append("    if len(o) != n: raise Refused")  # an unknown key
    lines.append(f"    return {klass}({', '.join(args)})")
    source = "\n".join(lines) + "\n"
    fn: Callable[[Any], Any] = ns.compile(
        source, name, f"<fast structure {cls.__module__}.{cls.__qualname__}>"
    )
    return fn


# --------------------------------------------------------------------------- unstructure


def _expression(type_: Any, source: str, ns: _Namespace, depth: int) -> str:
    """The expression unstructuring ``source`` (an expression of type ``type_``) as the
    strict converter does."""
    if type_ in _SCALARS or type_ is float:
        return source
    if _is_str_enum(type_):
        return f"{source}.value"
    if attrs.has(type_):
        fn = ns.add(unstructurer(type_), f"unstructure_{type_.__name__}")
        return f"{fn}({source})"
    inner = _optional_of(type_)
    if inner is not None:
        expression = _expression(inner, source, ns, depth)
        if expression == source:
            return source
        return f"(None if {source} is None else {expression})"
    item = _homogeneous_tuple_of(type_)
    if item is not None:
        entry = f"e{depth}"
        if attrs.has(item):
            fn = ns.add(unstructurer(item), f"unstructure_{item.__name__}")
            return f"list(map({fn}, {source}))"
        expression = _expression(item, entry, ns, depth + 1)
        if expression == entry:
            return f"list({source})"
        return f"[{expression} for {entry} in {source}]"
    raise Unsupported(f"no fast unstructuring of {type_!r}")


def _generate_unstructurer(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    fields = _fields(cls)
    ns = _Namespace()
    name = f"unstructure_{cls.__name__}"
    entries = [
        f"        {field.name!r}: {_expression(type_, f'i.{field.name}', ns, 0)},"
        for field, type_ in fields
    ]
    source = "\n".join([f"def {name}(i):", "    return {", *entries, "    }"]) + "\n"
    fn: Callable[[Any], dict[str, Any]] = ns.compile(
        source, name, f"<fast unstructure {cls.__module__}.{cls.__qualname__}>"
    )
    return fn
