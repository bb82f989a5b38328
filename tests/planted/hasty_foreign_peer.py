"""Planted bug for tests/scenarios/test_field_inputs_peers.py: a client that takes any
failure before the hello-ack for a server speaking another protocol, and so exits on a
cloud not started yet, restarting, or dropping one connection, which a retry fixes."""

from __future__ import annotations

from actors import ConnectFailure
from scenarios import ScenarioError


def foreign_before_hello(
    failure: ConnectFailure | None, last_error: str | None, where: str
) -> ScenarioError | None:
    if failure is None:
        return None
    return ScenarioError(f"the server at {where} does not speak the cloud's protocol")
