"""The layers' import rules (docs/architecture.md), checked on every module's source.

* Packages: ``scenarios`` -> ``actors`` -> ``protocol``, never upwards.
* Inside ``scenarios``, the private sub-packages stand on floors; a module imports only
  from its own sub-package or from a lower floor (``scenarios/__init__.py`` and
  ``__main__.py``, the public face, import from any).

``tests/protocol/test_sans_io.py`` adds the rule of the bottom layer: no I/O, clocks or trio.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"protocol": 0, "actors": 1, "scenarios": 2}
FLOORS = {
    "_model": 1,
    "_sim": 2,
    "_reco": 2,
    "_trace": 3,
    "_sweep": 4,  # judges every run with _trace's checker
    "_field": 4,
    "testing": 4,
    "_explore": 4,
    "_cli": 5,
    "builtin": 0,
    "variants": 0,
}
"""The floor of each sub-package of ``scenarios`` (``docs/architecture.md``)."""

PROTOCOL_FLOORS = {"_core": 1, "_wire": 2, "_reco": 2, "_machines": 3}
"""The floor of each sub-package of ``protocol``."""


def _imports(path: Path) -> set[str]:
    """Absolute dotted names ``path`` imports from (relative imports resolved)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    here = parts[:-1] if path.name != "__init__.py" else parts
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, *(node.module.split(".") if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] in LAYERS}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_a_layer_imports_only_the_layers_below_it(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imports(path) if LAYERS[name.split(".")[0]] > LAYERS[package]
        )
        for path in _modules(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


FACES = {"scenarios": {"__init__.py", "__main__.py"}, "protocol": {"__init__.py", "lowlevel.py"}}
"""The modules a package keeps at its top: its public face (``protocol.lowlevel`` the low
layers' namespace, as ``trio.lowlevel``); every other module sits in a sub-package."""


def _flat(package: str) -> list[str]:
    """The modules at the top of ``package`` that are not its public face (any name: a
    public ``helpers.py`` as well as a private ``_helpers.py``)."""
    return sorted(p.name for p in (ROOT / package).glob("*.py") if p.name not in FACES[package])


def _floor_of(name: str) -> tuple[str, int] | None:
    parts = name.split(".")
    if parts[0] != "scenarios" or len(parts) < 2 or parts[1] not in FLOORS:
        return None
    return parts[1], FLOORS[parts[1]]


def test_every_sub_package_of_scenarios_has_a_floor() -> None:
    found = {p.name for p in (ROOT / "scenarios").iterdir() if (p / "__init__.py").exists()}
    assert found == set(FLOORS)
    assert _flat("scenarios") == [], "a module of scenarios/ outside every sub-package"


def test_scenarios_sub_packages_import_only_downwards() -> None:
    offenders: dict[str, list[str]] = {}
    for path in _modules("scenarios"):
        where = _floor_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if where is None:
            continue  # scenarios/__init__.py, __main__.py: the public face
        own, floor = where
        bad = []
        for name in _imports(path):
            target = _floor_of(name)
            if target is not None and target[0] != own and target[1] >= floor:
                bad.append(name)
            elif target is None and name.split(".")[0] == "scenarios":
                # the public face re-exports every floor: importing it from inside is a cycle
                bad.append(name)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_every_sub_package_of_protocol_has_a_floor() -> None:
    found = {p.name for p in (ROOT / "protocol").iterdir() if (p / "__init__.py").exists()}
    assert found == set(PROTOCOL_FLOORS)
    assert _flat("protocol") == [], "a module of protocol/ outside every sub-package"


def test_protocol_sub_packages_import_only_downwards() -> None:
    offenders: dict[str, list[str]] = {}
    for path in _modules("protocol"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if len(parts) < 3:
            continue  # protocol/__init__.py, lowlevel.py: the public faces
        own = parts[1]
        bad = []
        for name in _imports(path):
            target = name.split(".")
            if target[0] != "protocol":
                continue
            if len(target) == 1 or target[1] not in PROTOCOL_FLOORS:
                bad.append(name)  # the public face re-exports every floor
            elif target[1] != own and PROTOCOL_FLOORS[target[1]] >= PROTOCOL_FLOORS[own]:
                bad.append(name)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def _source_copy(tmp_path: Path) -> Path:
    """The layers' sources copied under ``tmp_path``: a planted module goes there, not into
    the checkout, where tests running beside this one (pytest -n) would read it."""
    for package in LAYERS:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def test_the_checks_see_a_planted_upward_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each rule can fail: a module of _model that imports _cli is one offence.
    root = _source_copy(tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", root)
    planted = root / "scenarios" / "_model" / "_planted_upward_import.py"
    planted.write_text("from scenarios._cli._main import main\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        test_scenarios_sub_packages_import_only_downwards()
    planted.unlink()
    planted = root / "protocol" / "_core" / "_planted_upward_import.py"
    planted.write_text("import actors\nfrom protocol._machines import _cloud\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        test_a_layer_imports_only_the_layers_below_it("protocol")
    with pytest.raises(AssertionError):
        test_protocol_sub_packages_import_only_downwards()
    planted.unlink()
    for package, name in (("scenarios", "helpers.py"), ("protocol", "_flat.py")):
        planted = root / package / name  # a module outside every sub-package
        planted.write_text("X = 1\n", encoding="utf-8")
        with pytest.raises(AssertionError, match="outside every sub-package"):
            if package == "scenarios":
                test_every_sub_package_of_scenarios_has_a_floor()
            else:
                test_every_sub_package_of_protocol_has_a_floor()
        planted.unlink()
    test_every_sub_package_of_scenarios_has_a_floor()
    test_every_sub_package_of_protocol_has_a_floor()
    test_a_layer_imports_only_the_layers_below_it("protocol")  # the copy alone is clean
    test_protocol_sub_packages_import_only_downwards()
    test_scenarios_sub_packages_import_only_downwards()
