"""The client side of the TCP transport: one connection per party of the process."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping

import trio

from protocol import (
    WIRE_VERSION,
    Address,
    LocalProtocolError,
)
from protocol.lowlevel import (
    Hello,
    is_address,
)

from ._errors import TransportError
from ._tcp_client_endpoint import TcpClientEndpoint
from ._tcp_config import Backoff, TcpLimits, TcpStats
from ._tcp_link import _Watchdog
from ._tcp_running import _interrupts_unwrapped


class TcpClientTransport:
    """The client side: each :meth:`open_endpoint` is one party of this process with its
    own connection to the server at ``host:port``.

    Start it inside a nursery (``await nursery.start(client.run)``) or with
    :func:`connect_tcp`, then open endpoints. ``credentials``: a mapping or a function
    from an address to its credential (default: empty credentials); ``open_endpoint(...,
    credential=...)`` overrides it. ``ssl_context``: a client context (TLS), with
    ``server_hostname`` (default ``host``) checked against the server's certificate.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        credentials: Mapping[Address, str] | Callable[[Address], str] | None = None,
        limits: TcpLimits | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.server_hostname = server_hostname if server_hostname is not None else host
        self._credentials = credentials
        self.limits = limits if limits is not None else TcpLimits()
        self.backoff = backoff if backoff is not None else Backoff()
        self.stats = TcpStats()
        self._watchdog = _Watchdog(self.limits, self.stats)
        self._endpoints: dict[Address, TcpClientEndpoint] = {}
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Host the endpoints' connections until cancelled."""
        with _interrupts_unwrapped():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watchdog.run)
                self._nursery = nursery
                task_status.started()
                try:
                    await trio.sleep_forever()
                finally:
                    self._nursery = None
                    for endpoint in list(self._endpoints.values()):
                        endpoint.close()

    def open_endpoint(
        self, address: Address, *, credential: str | None = None
    ) -> TcpClientEndpoint:
        """Attach the party at ``address``: it connects (and reconnects) in the background."""
        if self._nursery is None:
            raise TransportError(
                "the TCP client is not running: use 'async with connect_tcp(...)' or "
                "'await nursery.start(client.run)' first"
            )
        if not is_address(address):
            raise TransportError(f"malformed address {address!r}")
        if address in self._endpoints:
            raise TransportError(f"address {address!r} is already attached")
        if credential is None:
            credential = self._credential_of(address)
        try:
            Hello(WIRE_VERSION, address, credential)
        except LocalProtocolError as exc:
            raise TransportError(f"cannot say hello as {address}: {exc}") from exc
        endpoint = TcpClientEndpoint(self, address, credential)
        self._endpoints[address] = endpoint
        self._nursery.start_soon(endpoint.run)
        return endpoint

    def _credential_of(self, address: Address) -> str:
        credentials = self._credentials
        if credentials is None:
            return ""
        if callable(credentials):
            return credentials(address)
        return credentials.get(address, "")

    async def drain(self) -> None:
        """Wait until what every endpoint sent so far is written."""
        for endpoint in list(self._endpoints.values()):
            await endpoint.drained()
