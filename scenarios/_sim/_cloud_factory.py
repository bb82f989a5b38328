"""Naming a variant of the cloud: ``MODULE:FACTORY`` to and from a :data:`CloudFactory`.

A tester's variant of the protocol is a function (or class) ``factory(store, recommender,
config) -> Machine`` in an importable module. ``assocsim run --cloud MODULE:FACTORY`` and
the pytest plugin's runner load it with :func:`load_cloud_factory`; a failure's replay
command names it with :func:`cloud_factory_spec`.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from typing import Any, cast

from protocol import CloudConfig, InMemoryStore, RuleRecommender
from scenarios._model._errors import ScenarioError

from ._runner import CloudFactory

__all__ = ["CloudFactoryError", "cloud_factory_spec", "load_cloud_factory"]

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_MACHINE_METHODS = ("start", "handle", "timer_fired")


class CloudFactoryError(ScenarioError):
    """A ``MODULE:FACTORY`` cloud factory cannot be loaded or is not one."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _import(module_name: str, spec: str) -> Any:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)  # like `python -m`: a module in the current directory imports
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if module_name == missing or module_name.startswith(missing + "."):
            raise CloudFactoryError(
                f"cloud factory {spec!r}: no module named {missing!r} (is it in the current "
                "directory or on PYTHONPATH?)"
            ) from None
        raise CloudFactoryError(
            f"cloud factory {spec!r}: importing {module_name} failed: {_first_line(exc)}"
        ) from None
    except Exception as exc:
        raise CloudFactoryError(
            f"cloud factory {spec!r}: importing {module_name} failed: {_first_line(exc)}"
        ) from None


def load_cloud_factory(spec: str, *, check: bool = True) -> CloudFactory:
    """The cloud factory named ``spec`` (``"my_variant:make_cloud"``, or
    ``"package.module:Class.method"``).

    ``MODULE`` is imported from ``sys.path`` or the current directory. With ``check``, the
    factory must accept ``(store, recommender, config)`` and build a machine (one with
    ``start``, ``handle`` and ``timer_fired``) on a fresh in-memory store. Raises
    :class:`CloudFactoryError` with a one-line message naming what is wrong.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not _DOTTED.fullmatch(module_name) or not _DOTTED.fullmatch(attribute):
        raise CloudFactoryError(
            f"cloud factory {spec!r}: expected MODULE:FACTORY, e.g. my_variant:make_cloud"
        )
    found: Any = _import(module_name, spec)
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise CloudFactoryError(
                f"cloud factory {spec!r}: {module_name} has no {attribute!r}"
            ) from None
    if not callable(found):
        raise CloudFactoryError(
            f"cloud factory {spec!r}: {attribute} is a {type(found).__name__}, not callable"
        )
    if check:
        _check_factory(found, spec)
    return cast(CloudFactory, found)


def _check_factory(factory: Any, spec: str) -> None:
    try:
        inspect.signature(factory).bind(None, None, None)
    except TypeError:
        raise CloudFactoryError(
            f"cloud factory {spec!r}: it must accept (store, recommender, config) "
            "positionally and return the cloud's machine"
        ) from None
    except ValueError:
        pass  # no signature to inspect (a builtin): calling it will tell
    try:
        machine = factory(InMemoryStore(), RuleRecommender(), CloudConfig())
    except Exception as exc:
        raise CloudFactoryError(
            f"cloud factory {spec!r}: building a cloud with it failed: {_first_line(exc)}"
        ) from None
    missing = [m for m in _MACHINE_METHODS if not callable(getattr(machine, m, None))]
    if missing:
        raise CloudFactoryError(
            f"cloud factory {spec!r}: it returned a {type(machine).__name__}, not a machine "
            f"(no {', '.join(missing)})"
        )


def cloud_factory_spec(factory: CloudFactory) -> str | None:
    """``MODULE:FACTORY`` naming ``factory`` for the command line, or None when it cannot
    be imported by name (a lambda, a local function, a ``__main__`` script's)."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or module == "__main__":
        return None
    spec = f"{module}:{qualname}"
    try:
        found = load_cloud_factory(spec, check=False)
    except CloudFactoryError:
        return None
    return spec if found == factory else None
