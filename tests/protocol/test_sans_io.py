"""protocol/ is the sans-I/O core: it must not import I/O, clocks or trio."""

from __future__ import annotations

import ast
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


def test_no_module_of_protocol_imports_io_or_clocks() -> None:
    offenders = {
        path.name: sorted(_imported_modules(path) & FORBIDDEN)
        for path in PACKAGE.rglob("*.py")
        if _imported_modules(path) & FORBIDDEN
    }
    assert offenders == {}


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
