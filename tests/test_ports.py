"""The tests' port for a server restarted on the same port, or an address where nothing
must listen (``tests.ports.restart_port``): outside the kernel's ephemeral range, so nothing
else can take it while the server is down, and free (a server can listen on it)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.planted.ephemeral_restart_port import kernel_port
from tests.ports import EPHEMERAL_PORTS, ephemeral_range, restart_port

Choose = Callable[..., int]


def _listens(port: int) -> bool:
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        return bool(server.getsockname()[1] == port)


def _outside_and_free(choose: Choose, ports: Path, times: int = 20) -> None:
    span = ephemeral_range(ports)
    assert span is not None
    low, high = span
    for _ in range(times):
        port = choose(ports=ports)
        assert not low <= port <= high, f"port {port} in the ephemeral range {low}-{high}"
        assert 1024 <= port <= 65535  # no privileged port
        assert _listens(port)


@pytest.mark.parametrize(
    "span",
    ["32768\t60999\n", "1024 64999", "49152 65535", "2000 65535"],
    ids=["linux-default", "only-above", "iana", "only-below"],
)
def test_the_restart_port_is_outside_the_ephemeral_range_and_free(
    span: str, tmp_path: Path
) -> None:
    ports = tmp_path / "ip_local_port_range"
    ports.write_text(span)
    _outside_and_free(restart_port, ports)


def test_the_restart_port_is_outside_this_machines_range() -> None:
    _outside_and_free(restart_port, EPHEMERAL_PORTS)


def test_a_port_taken_is_not_given(tmp_path: Path) -> None:
    ports = tmp_path / "ip_local_port_range"
    ports.write_text("1024 65534")  # one port outside: 65535
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 65535))
        taken.listen()
        chosen = restart_port(ports=ports)  # none free outside: the kernel's choice
    assert chosen != 65535
    assert _listens(chosen)


def test_without_the_range_file_a_free_port_is_still_given(tmp_path: Path) -> None:
    absent = tmp_path / "no-such-file"
    assert ephemeral_range(absent) is None
    assert _listens(restart_port(ports=absent))


def test_the_check_catches_the_kernels_choice() -> None:
    # planted: bind to port 0, as the tests chose before (always inside the range)
    with pytest.raises(AssertionError, match="in the ephemeral range"):
        _outside_and_free(kernel_port, EPHEMERAL_PORTS, times=1)
