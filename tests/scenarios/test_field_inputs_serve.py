"""``serve cloud`` refusing leaves nothing behind (reviewer W's F7): a garbage ``--db``, a
port in use, an address not of this host, a ``--batch`` of 0 are each one line and exit
2 before any file is made. Before, the cloud made ``FILE.secret`` and ``FILE.holders``
first (and warned that phones enrolled before needed new tokens, of a store it then
refused), and a port in use left a new store behind that the next start took for a
restart."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.scenarios.test_field_inputs_files import assocsim, one_line_refusal


def _serve(directory: Path, *args: str) -> tuple[int, str]:
    return assocsim(directory, "serve", "cloud", *args, timeout=60)


def test_a_garbage_store_is_refused_and_nothing_is_made_beside_it(tmp_path: Path) -> None:
    (tmp_path / "cloud.db").write_bytes(b"not a database, not at all\n" * 100)
    code, err = _serve(tmp_path, "--listen", "127.0.0.1:0", "--db", "cloud.db")
    one_line_refusal(code, err, "cloud.db")
    assert "token" not in err  # no word of phones' tokens: no secret was made
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cloud.db"]


def test_a_port_in_use_is_refused_before_the_store_is_made(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _serve(tmp_path, "--listen", f"127.0.0.1:{port}", "--db", "cloud.db")
    one_line_refusal(code, err, f"127.0.0.1:{port}", "another server using that port")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("listen", "problem"),
    [
        ("192.0.2.7:0", "is 192.0.2.7 an address of this host?"),  # TEST-NET-1
        ("no-such-host.invalid:0", "cannot resolve"),
    ],
)
def test_an_address_not_of_this_host_is_told_as_such(
    tmp_path: Path, listen: str, problem: str
) -> None:
    code, err = _serve(tmp_path, "--listen", listen, "--db", "cloud.db")
    one_line_refusal(code, err, problem)
    assert "another server" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_batch_of_zero_is_one_line_and_makes_nothing(tmp_path: Path) -> None:
    code, err = _serve(tmp_path, "--listen", "127.0.0.1:0", "--db", "cloud.db", "--batch", "0")
    one_line_refusal(code, err, "--batch must be at least 1")
    assert list(tmp_path.iterdir()) == []
