"""protocol/ is the sans-I/O core: it must not import I/O, clocks or trio."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import protocol

FORBIDDEN = {"trio", "socket", "asyncio", "time", "ssl", "sqlite3", "selectors", "threading"}
PACKAGE = Path(protocol.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _offenders(package: Path) -> dict[str, list[str]]:
    """Each module under ``package`` that imports I/O, a clock or trio: what it imports."""
    return {
        str(path.relative_to(package)): sorted(_imported_modules(path) & FORBIDDEN)
        for path in package.rglob("*.py")
        if _imported_modules(path) & FORBIDDEN
    }


def test_no_module_of_protocol_imports_io_or_clocks() -> None:
    assert _offenders(PACKAGE) == {}


def test_the_check_sees_a_planted_clock_read(tmp_path: Path) -> None:
    # The rule can fail: a module deep in a copy of protocol/ that reads the clock.
    copy = tmp_path / "protocol"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert _offenders(copy) == {}  # the copy alone is clean
    (copy / "_machines" / "_planted_clock.py").write_text(
        "import time\nfrom trio import sleep\n", encoding="utf-8"
    )
    assert _offenders(copy) == {str(Path("_machines/_planted_clock.py")): ["time", "trio"]}


def test_importing_protocol_loads_no_io_module() -> None:
    code = (
        "import sys; import protocol; "
        f"print(sorted(m for m in {sorted(FORBIDDEN)!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # The standard library's own imports (e.g. random) may pull in 'time'; trio never.
    assert "trio" not in out and "socket" not in out and "asyncio" not in out
