"""Fixtures shared by the field-trial tests (``test_serve.py``, ``test_trace_gap.py``, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios._cli._main import main
from tests.scenarios.field_processes import Procs


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    started = Procs(tmp_path)
    try:
        yield started
    finally:
        for proc in started.started:
            proc.kill()


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """shop-01's key, in tmp_path/keys.json (hashed) and tmp_path/shop.key (mode 0600, as
    the README makes it: a key file open to others is used with a warning line)."""
    argv = ["serve", "add-merchant", "--merchant-keys", str(tmp_path / "keys.json")]
    assert main([*argv, "--merchant", "shop-01", "--key-out", str(tmp_path / "shop.key")]) == 0
    capsys.readouterr()
    return (tmp_path / "shop.key").read_text().strip()
