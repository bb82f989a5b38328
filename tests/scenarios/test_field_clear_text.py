"""Plain TCP off loopback is said: merchant keys and device tokens travel in the hello, so
``serve cloud`` listening without TLS on an address other than loopback, and a ``pos`` or
``phone`` connecting without TLS to one, each print one warning line on stderr
(docs/security.md, *Limits*). Loopback, and TLS, print none. The processes are stopped
before they serve or connect (their ``run_trio`` replaced): what is tested is the check
each start-up makes, on the arguments the command line gives it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scenarios._cli._main import main
from scenarios._field import _clients, _serve
from scenarios._field._common import is_loopback

WARNING = "not a loopback address"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Each process's start-up up to its trio run, which is recorded instead of run."""
    runs: list[str] = []

    def run_trio(function: Any, **_: Any) -> int:
        runs.append(repr(function))
        return 0

    monkeypatch.setattr(_serve, "run_trio", run_trio)
    monkeypatch.setattr(_clients, "run_trio", run_trio)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.jsonl").write_text(
        '{"receipt_id": "R1", "phone_id": "+8613800000001", "skus": ["SKIN-FW-001"]}\n'
    )
    return runs


@pytest.mark.parametrize(
    ("argv", "warned"),
    [
        (["serve", "cloud", "--listen", "0.0.0.0:0", "--db", "c.db"], True),
        (["serve", "cloud", "--listen", "127.0.0.1:0", "--db", "c.db"], False),
        (["pos", "--cloud", "192.0.2.1:7000", "--merchant", "m", "--key", "k",
          "--purchases", "p.jsonl"], True),
        (["pos", "--cloud", "127.0.0.1:7000", "--merchant", "m", "--key", "k",
          "--purchases", "p.jsonl"], False),
        (["pos", "--cloud", "192.0.2.1:7000", "--tls", "--merchant", "m", "--key", "k",
          "--purchases", "p.jsonl"], False),
        (["phone", "--cloud", "192.0.2.1:7000", "--id", "+8613800000001"], True),
        (["phone", "--cloud", "localhost:7000", "--id", "+8613800000001"], False),
    ],
)  # fmt: skip
def test_plain_tcp_off_loopback_is_said_once(
    argv: list[str], warned: bool, started: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert len(started) == 1, err  # the start-up went through to its run
    assert err.count(WARNING) == (1 if warned else 0), err
    if warned:
        assert "in the clear" in err and "TLS" in err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("::", False), ("", False), ("192.0.2.1", False), ("10.0.0.1", False)],
)  # fmt: skip
def test_loopback_is_every_address_the_host_names(host: str, loopback: bool) -> None:
    assert is_loopback(host, 7000) is loopback
