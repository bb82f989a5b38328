"""Ports for tests that need a port to stay theirs while nothing listens on it: a server a
test kills and restarts on the same port (``tests/scenarios/test_kill_cloud.py``,
``test_serve.py``, ``tests/actors/test_tcp.py``), or an address where nothing must listen
(``tests/scenarios/test_sweep_scheduler.py``).

The kernel's choice (``bind`` to port 0) is inside its ephemeral range, which it also hands
out as the local port of outgoing connections: while nothing listens, another socket can
take the port, and a client connecting to a free ephemeral port can be given that same
port as its own and connect to itself (a TCP self-connect: "connected" with no server).
:func:`restart_port` draws one outside that range instead.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["EPHEMERAL_PORTS", "ephemeral_range", "restart_port"]

EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
"""Where Linux says which ports it hands out to outgoing connections (and to ``bind(0)``)."""

_DRAWS = 200  # ports tried outside the range before falling back to the kernel's choice


def ephemeral_range(path: Path = EPHEMERAL_PORTS) -> tuple[int, int] | None:
    """The kernel's ephemeral port range (lowest, highest), or None where *path* is
    absent or unreadable (not Linux, or no /proc)."""
    try:
        low, high = (int(word) for word in path.read_text().split())
    except (OSError, ValueError):
        return None
    return low, high


def _bindable(host: str, port: int) -> bool:
    """Whether a server could listen on *host*:*port* now (no SO_REUSEADDR: a port with a
    connection lingering in TIME_WAIT is not taken either)."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
            probe.listen()
        except OSError:
            return False
    return True


def restart_port(host: str = "127.0.0.1", *, ports: Path = EPHEMERAL_PORTS) -> int:
    """A free port of *host* (IPv4, as every caller's 127.0.0.1) outside the kernel's
    ephemeral range (*ports*): no outgoing connection's local port or client's
    self-connect can take it while its server is down (or before one starts). Free means
    bound and listened on, then closed; drawn at random, so tests running at once seldom
    draw the same one.

    Not held: a program that binds this very port between the check and the test's server
    (only a deliberate bind can, outside the range) makes that server fail with "Address
    already in use", which the tests' waits show with its stderr. Where the range is
    unknown, covers every unprivileged port, or none of 200 ports drawn outside it is free:
    the kernel's choice (port 0), as the tests made before."""
    span = ephemeral_range(ports)
    if span is not None:
        low, high = span
        outside = [*range(1024, min(low, 65536)), *range(max(high + 1, 1024), 65536)]
        draw = random.SystemRandom()
        for port in draw.sample(outside, min(len(outside), _DRAWS)):
            if _bindable(host, port):
                return int(port)
    with socket.socket() as probe:
        probe.bind((host, 0))
        chosen: int = probe.getsockname()[1]
    return chosen
