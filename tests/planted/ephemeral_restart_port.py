"""Planted: the port choice the kill-and-restart tests made before
``tests.ports.restart_port``: the kernel's (``bind`` to port 0), which
is inside its ephemeral range, where an outgoing connection's local port or a reconnecting
client's TCP self-connect can take it while the server is down.
``tests/test_ports.py`` catches it."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.ports import EPHEMERAL_PORTS

__all__ = ["kernel_port"]


def kernel_port(host: str = "127.0.0.1", *, ports: Path = EPHEMERAL_PORTS) -> int:
    """A free port of the kernel's choosing (*ports* unread: the bug)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        chosen: int = probe.getsockname()[1]
    return chosen
