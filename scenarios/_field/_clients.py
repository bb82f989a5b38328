"""``assocsim pos`` and ``assocsim phone``: a shop's checkouts and a phone as processes.

Each party is the same sans-I/O machine the simulations run (:class:`~protocol.PosMachine`,
:class:`~protocol.PhoneMachine`), driven by an :class:`~actors.Actor` over its own TCP (or
TLS) connection to the cloud, which authenticates it: a POS with its merchant's key, a
phone with the device token its subscription returned (none yet: it may only enrol).

* ``pos`` uploads purchases (a JSON-lines file, or a scenario's purchases at its merchant),
  prints one JSON line per acknowledgement or refusal, hands each buyer's phone its
  receipt notice (relayed by the cloud), and exits once every upload is acknowledged (exit
  1 if the cloud refused one).
* ``phone`` subscribes (saving its token with ``--token-file``), asks about ``--ask``
  receipts and the receipts POSes hand it, acknowledges pushes, and prints what it
  receives as JSON lines; with ``--ask`` it exits once every asked receipt is answered
  (exit 1 if the cloud refused one), otherwise it runs until Ctrl-C.

With ``--state-dir DIR`` each party keeps its durable part there (``_kept.py``), written
before each step's sends leave: killed (kill -9) and started again by the same command,
it carries on as a simulated party after a crash (it re-sends what is unanswered, shows
nothing twice, rings up no sale twice) and traces a ``restart``. Without it a killed
process forgets everything but the phone's token.

Both retry an unreachable cloud with backoff (saying so on stderr), and stop cleanly on
Ctrl-C (SIGINT) or SIGTERM once their in-flight work is done.
"""

from __future__ import annotations

import json
import math
import ssl
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs
import cattrs
import trio

from actors import (
    Actor,
    ConnectFailure,
    EventKind,
    HelloRefused,
    Observer,
    TcpClientEndpoint,
    TcpClientTransport,
    TimerService,
    TlsVerificationFailed,
    TraceEvent,
    connect_tcp,
    fan_out,
)
from protocol import (
    AssociationPush,
    AssociationResponse,
    Checkout,
    Effects,
    ErrorReply,
    InvalidMessage,
    Item,
    Machine,
    Message,
    PhoneMachine,
    PosMachine,
    PromotionUpdate,
    ReceiptKey,
    ReceiptNotice,
    SubscribeAck,
    UploadAck,
    builtin_catalog,
    encode_message,
    phone_address,
    pos_address,
)
from protocol.lowlevel import (
    describe_errors,
    is_phone_id,
    is_token,
    strict_converter,
)
from scenarios._model._errors import ScenarioError
from scenarios._model._runspec import RunSpec, rerun_header
from scenarios._model._workload import Workload, generate_workload

from ._common import (
    DEFAULT_TRACE_MAX_BYTES,
    StopFlag,
    Timebase,
    TimeWarp,
    client_ssl_context,
    open_trace,
    read_private,
    refuse_shared_files,
    run_trio,
    stderr_line,
    warn_if_in_the_clear,
    warn_if_open,
    watch_signals,
    write_private,
    write_status,
)
from ._kept import KeptParty, StateDir

__all__ = ["ClientOptions", "PhoneOptions", "PosOptions", "read_purchases", "run_phone", "run_pos"]

_converter = strict_converter()
UNREACHABLE_NOTE_EVERY = 10.0  # seconds between two "still unreachable" lines
MAX_PURCHASE_AT = 366 * 86400.0
"""The latest ``at`` a purchases line may give (a year after the start, in seconds): a
later one is a mistake (a Unix time, milliseconds) the POS would wait for in silence."""


# ------------------------------------------------------------------ purchases files


@attrs.frozen
class _PurchaseLine:
    receipt_id: str
    phone_id: str
    skus: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    at: float = 0.0
    buyer: str | None = None


def read_purchases(path: Path) -> list[Checkout]:
    """The purchases of a JSON-lines file, in time order; ScenarioError names the line.

    One object per line: ``receipt_id``, ``phone_id`` (the number keyed in at the till),
    the goods as ``skus`` (from the built-in catalog) or ``items`` (full item objects, see
    docs/wire-format.md), optionally ``at`` (seconds after the POS starts, default 0) and
    ``buyer`` (the phone handed the receipt notice, default ``phone_id``).
    """
    catalog = builtin_catalog()
    checkouts: list[Checkout] = []
    first_line: dict[str, int] = {}  # receipt id -> the line that gave it first
    text = read_private(path, "--purchases")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise ScenarioError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ScenarioError(
                f"{where}: {line.strip()[:40]} is not a JSON object (one purchase a line: "
                '{"receipt_id": ..., "phone_id": ..., "skus": [...]})'
            )
        try:
            entry = _converter.structure(data, _PurchaseLine)
        except Exception as exc:
            raise ScenarioError(f"{where}: {_describe(exc)}") from None
        if not is_phone_id(entry.phone_id):
            raise ScenarioError(f"{where}: phone_id {entry.phone_id!r} is not an E.164 phone id")
        if entry.receipt_id in first_line:
            raise ScenarioError(
                f"{where}: receipt_id {entry.receipt_id!r} again (first on line "
                f"{first_line[entry.receipt_id]}): a receipt is uploaded once"
            )
        first_line[entry.receipt_id] = number
        if not 0.0 <= entry.at <= MAX_PURCHASE_AT:  # NaN too
            raise ScenarioError(
                f"{where}: at {entry.at!r}: expected the seconds after the POS starts, 0 to "
                f"{MAX_PURCHASE_AT:.0f} (a year), not a Unix time"
            )
        items = list(entry.items)
        for sku in entry.skus:
            product = catalog.by_sku(sku)
            if product is None:
                raise ScenarioError(f"{where}: unknown sku {sku!r} (not in the built-in catalog)")
            items.append(catalog.to_item(product))
        buyer = entry.buyer if entry.buyer is not None else entry.phone_id
        if not is_phone_id(buyer):
            raise ScenarioError(f"{where}: buyer {buyer!r} is not an E.164 phone id")
        try:
            checkouts.append(
                Checkout(
                    entry.at, entry.receipt_id, entry.phone_id, phone_address(buyer), tuple(items)
                )
            )
        except InvalidMessage as exc:
            raise ScenarioError(f"{where}: {exc}") from None
    if not checkouts:
        raise ScenarioError(f"{path}: no purchases in it (one JSON object per line)")
    return sorted(checkouts, key=lambda c: c.at)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(describe_errors(exc))
    return str(exc)


# ------------------------------------------------------------------ shared client plumbing


@attrs.frozen
class ClientOptions:
    """What both client processes are given: the cloud, TLS, the trace, the scenario run
    (``--scenario``, ``--set``, ``--seed``) or none, and the clock options ``run
    --transport tcp`` sets."""

    host: str
    port: int
    tls: bool
    tls_ca: Path | None
    trace: Path | None
    run: RunSpec | None
    epoch: float
    speed: float
    status_file: Path | None
    wait_for_go: bool
    trace_max_bytes: int | None = DEFAULT_TRACE_MAX_BYTES  # JsonlTraceWriter's; None: none


def _workload(run: RunSpec) -> Workload:
    return generate_workload(run.scenario, run.seed)


def _header(options: ClientOptions, process: str) -> dict[str, Any]:
    facts = {
        "process": process,
        "transport": "tls" if options.tls else "tcp",
        "cloud": f"{options.host}:{options.port}",
        "epoch": options.epoch,
        "speed": options.speed,
    }
    return rerun_header(options.run, facts)


CLOSED_ON_HELLO: Final = frozenset({ConnectFailure.CLOSED, ConnectFailure.LOST})
"""How a hello ends that a TLS server got from a plain client (it is no handshake): the
server closes (serve cloud) or resets the connection (others). A plain server going
away ends it so too: a handshake probe tells them apart."""


def foreign_peer(
    failure: ConnectFailure | None, last_error: str | None, where: str
) -> ScenarioError | None:
    """The error to exit with if a connection's failure (its kind, and its text for the
    message) shows that the server at ``where`` does not speak the cloud's protocol (a
    frame it cannot have sent, bytes that are no TLS): retrying cannot fix that, as it
    cannot fix a certificate. None for what a retry may fix (nothing listening, a dropped
    connection, a timeout, a hello refused for now)."""
    if failure is ConnectFailure.FOREIGN:
        return ScenarioError(
            f"the server at {where} does not speak the cloud's protocol ({last_error}): is "
            "--cloud the address of assocsim serve cloud, and is TLS on both sides or neither?"
        )
    if failure is ConnectFailure.NOT_TLS:
        reason = (last_error or "").removeprefix("connection lost: ")
        return ScenarioError(
            f"the server at {where} does not speak TLS ({reason}): is it serve cloud without "
            "--tls-cert (then drop --tls/--tls-ca), or another service?"
        )
    return None


async def _speaks_tls(host: str, port: int) -> bool:
    """Whether the server at ``host:port`` completes a TLS handshake (nothing is sent over
    it, and its certificate is not judged: only whether it speaks TLS)."""
    probe = ssl.create_default_context()
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    with trio.move_on_after(5.0):
        try:
            stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=probe)
            await stream.do_handshake()
        except (OSError, trio.BrokenResourceError, ssl.SSLError):
            return False
        with trio.CancelScope(shield=True):
            await trio.aclose_forcefully(stream)
        return True
    return False


async def _refuse_foreign_peer(
    endpoints: Sequence[TcpClientEndpoint], options: ClientOptions, *, probe: bool
) -> None:
    """Raise :func:`foreign_peer`'s error for the first endpoint that has one; with
    ``probe``, a plain client whose hello the server closed on asks it for a TLS
    handshake, and if it answers, says the cloud serves TLS."""
    where = f"{options.host}:{options.port}"
    for endpoint in endpoints:
        error = foreign_peer(endpoint.last_failure, endpoint.last_error, where)
        if error is not None:
            raise error
    if (
        probe
        and not options.tls
        and _closed_on_hello(endpoints)
        and await _speaks_tls(options.host, options.port)
    ):
        raise ScenarioError(
            f"the cloud at {where} closes a plain connection and speaks TLS: give --tls-ca "
            "CA.pem (or --tls to trust the system's CAs)"
        )


def _closed_on_hello(endpoints: Sequence[TcpClientEndpoint]) -> bool:
    """Whether an endpoint's last attempt was accepted and then closed or reset."""
    return any(e.last_failure in CLOSED_ON_HELLO for e in endpoints)


async def _wait_connected(
    endpoints: Sequence[TcpClientEndpoint],
    options: ClientOptions,
    stop: StopFlag,
    refused: list[HelloRefused],
) -> bool:
    """Wait until every endpoint is connected, saying on stderr while the cloud is
    unreachable; False if stopped first or the cloud refused one (added to ``refused``).
    A server that does not speak the protocol (or TLS, or speaks TLS to a plain client)
    is a ScenarioError, as a certificate that fails verification is."""
    where = f"{options.host}:{options.port}"
    said = False
    probed = False
    next_note = trio.current_time() + 1.0
    while not all(endpoint.connected for endpoint in endpoints):
        for endpoint in endpoints:
            if endpoint.refused is not None:
                refused.append(endpoint.refused)
                return False
        if stop.is_set:
            return False
        await _refuse_foreign_peer(endpoints, options, probe=not probed)
        probed = probed or _closed_on_hello(endpoints)  # once: a plain server stays plain
        if trio.current_time() >= next_note:
            reasons = {e.last_error for e in endpoints if not e.connected and e.last_error}
            reason = "; ".join(sorted(reasons)) or "no answer yet"
            stderr_line(
                f"cloud at {where} unreachable ({reason}); retrying with backoff (Ctrl-C to stop)"
            )
            said = True
            next_note = trio.current_time() + UNREACHABLE_NOTE_EVERY
        await trio.sleep(0.02)
    if said:
        stderr_line(f"connected to the cloud at {where}")
    return True


async def _watch_connections(
    endpoints: Sequence[TcpClientEndpoint], options: ClientOptions
) -> None:
    """Until cancelled: say on stderr when the cloud has been unreachable for a second
    (the transport reconnects with backoff meanwhile), and when it is back."""
    where = f"{options.host}:{options.port}"
    down_since: float | None = None
    next_note = math.inf
    while True:
        await trio.sleep(0.1)
        now = trio.current_time()
        if all(endpoint.connected or endpoint.refused for endpoint in endpoints):
            if down_since is not None and next_note != math.inf:
                stderr_line(f"reconnected to the cloud at {where}")
            down_since, next_note = None, math.inf
            continue
        await _refuse_foreign_peer(endpoints, options, probe=False)
        if down_since is None:
            down_since, next_note = now, now + 1.0
        if now >= next_note:
            reasons = {e.last_error for e in endpoints if not e.connected and e.last_error}
            stderr_line(
                f"cloud at {where} unreachable ({'; '.join(sorted(reasons)) or 'no answer'}); "
                "retrying with backoff (Ctrl-C to stop)"
            )
            next_note = now + UNREACHABLE_NOTE_EVERY


async def _go(options: ClientOptions) -> float:
    """The epoch: from ``go EPOCH`` on stdin after writing a ready status (run --transport
    tcp), or the --epoch option."""
    if not options.wait_for_go:
        return options.epoch
    write_status(options.status_file, {"ready": True})
    line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
    words = line.split()
    return float(words[1]) if len(words) == 2 and words[0] == "go" else options.epoch


async def _run_actor(actor: Actor, refused: list[HelloRefused]) -> None:
    try:
        await actor.run()
    except HelloRefused as exc:
        refused.append(exc)


class _Printer:
    """An observer printing what a party receives as JSON lines (and counting it)."""

    def __init__(self, out: IO[str], render: Callable[[TraceEvent], dict[str, Any] | None]):
        self._out = out
        self._render = render
        self.events = 0

    def __call__(self, event: TraceEvent) -> None:
        self.events += 1
        if event.kind is not EventKind.RECEIVE:
            return
        line = self._render(event)
        if line is not None:
            self._out.write(json.dumps(line) + "\n")
            self._out.flush()


def _observers(*observers: Observer | None) -> Observer:
    return fan_out([o for o in observers if o is not None])


def _flushed(write: Observer, trace: IO[str]) -> Observer:
    """``write``, then the file flushed: the transport queues a step's messages and writes
    them once this task yields, so the step's lines (a ``shown`` note, the ``push-ack``
    that follows it) are in the file before anything of it is on the wire, whenever a
    kill -9 comes."""

    def traced(event: TraceEvent) -> None:
        write(event)
        trace.flush()

    return traced


def _flush(trace: IO[str] | None) -> None:
    """Flush a trace now and then: a killed process loses at most the last 50 ms of it."""
    if trace is not None:
        trace.flush()


def _trace_restarts(observer: Observer | None, addresses: Sequence[str]) -> None:
    """A party started again from its ``--state-dir`` file says so in the trace, as a
    simulated restart does (its crash's moment is unknown: the process was killed)."""
    if observer is not None:
        now = trio.current_time()
        for address in addresses:
            observer(TraceEvent(now, EventKind.RESTART, address, address))


def _hello_refused(exc: HelloRefused) -> ScenarioError:
    if isinstance(exc, TlsVerificationFailed):  # retrying cannot fix a certificate: exit 2
        return ScenarioError(
            f"cannot verify the cloud's TLS certificate: {exc.detail} (is --tls-ca the "
            "cloud's CA, and --cloud the name its certificate is for?)"
        )
    return ScenarioError(f"the cloud refused {exc.address}: {exc.code}: {exc.detail}")


# ------------------------------------------------------------------ pos


@attrs.frozen
class PosOptions:
    """``assocsim pos``: MERCHANT's tills (none given: pos-1, or the scenario's), its key
    (given or in a file), the purchases (a JSON-lines file, or the scenario's)."""

    client: ClientOptions
    merchant: str
    pos_ids: tuple[str, ...] = ()
    purchases: Path | None = None
    key: str | None = None
    key_file: Path | None = None
    notice_wait: float = 10.0
    state_dir: Path | None = None


@attrs.frozen
class _Till:
    pos_id: str
    checkouts: tuple[Checkout, ...]
    promotions: PromotionUpdate | None


def _tills(pos: PosOptions) -> list[_Till]:
    merchant, options = pos.merchant, pos.client
    if not is_token(merchant) or ":" in merchant:
        raise ScenarioError(f"--merchant {merchant!r}: 1 to 64 letters, digits or '.-_'")
    for pos_id in pos.pos_ids:
        if not is_token(pos_id) or ":" in pos_id:
            raise ScenarioError(f"--pos {pos_id!r}: 1 to 64 letters, digits or '.-_'")
    if (pos.purchases is None) == (options.run is None):
        raise ScenarioError("give the purchases: --purchases FILE.jsonl or --scenario NAME")
    if pos.purchases is not None:
        pos_ids = pos.pos_ids or ("pos-1",)
        if len(pos_ids) != 1:
            raise ScenarioError("--purchases feeds one POS: give one --pos")
        return [_Till(pos_ids[0], tuple(read_purchases(pos.purchases)), None)]
    assert options.run is not None  # one of the two, checked above
    workload = _workload(options.run)
    shop = next((s for s in workload.shops if s.merchant_id == merchant), None)
    if shop is None:
        known = ", ".join(s.merchant_id for s in workload.shops)
        raise ScenarioError(f"--merchant {merchant}: not a shop of the scenario ({known})")
    pos_ids = pos.pos_ids or shop.pos_ids
    for pos_id in pos_ids:
        if pos_id not in shop.pos_ids:
            raise ScenarioError(f"--pos {pos_id}: not a till of {merchant} ({shop.pos_ids})")
    return [
        _Till(
            pos_id,
            tuple(
                p.checkout()
                for p in workload.purchases
                if p.merchant_id == merchant and p.pos_id == pos_id
            ),
            shop.promotions if pos_id == shop.pos_ids[0] else None,
        )
        for pos_id in pos_ids
    ]


def _merchant_key(pos: PosOptions) -> str:
    if pos.key is not None and pos.key_file is None:
        key = pos.key
    elif pos.key is None and pos.key_file is not None:
        key = read_private(pos.key_file, "--key-file")
    else:
        raise ScenarioError("give the merchant's key: --key KEY or --key-file FILE")
    key = key.strip()
    if not key:
        raise ScenarioError("the merchant key is empty")
    if pos.key_file is not None:
        warn_if_open(pos.key_file, "--key-file")
    return key


class _PosTally:
    """What the POS process saw of its uploads."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.acknowledged: set[str] = set()
        self.refused: dict[str, str] = {}
        # settled before this process started (its --state-dir says so): acknowledged,
        # refused or given up on, which the kept state does not tell apart
        self.earlier: set[str] = set()

    @property
    def settled(self) -> int:
        return len(self.acknowledged | self.refused.keys() | self.earlier)

    def render(self, event: TraceEvent) -> dict[str, Any] | None:
        message = event.message
        if isinstance(message, UploadAck):
            if message.receipt_id in self.acknowledged:
                return None
            self.acknowledged.add(message.receipt_id)
            return {"event": "acknowledged", "receipt": message.receipt_id, "pos": event.recipient}
        if isinstance(message, ErrorReply) and message.receipt_id is not None:
            if message.receipt_id in self.refused:
                return None
            self.refused[message.receipt_id] = f"{message.code}: {message.detail}"
            return {
                "event": "refused",
                "receipt": message.receipt_id,
                "pos": event.recipient,
                "code": str(message.code),
                "detail": message.detail,
            }
        return None


def run_pos(pos: PosOptions, out: IO[str]) -> int:
    """``assocsim pos``: upload purchases; 0 once all are acknowledged, 1 if one was refused."""
    options = pos.client
    refuse_shared_files(
        [
            ("--trace", options.trace),
            ("--status-file", options.status_file),
            ("--state-dir", pos.state_dir),
        ],
        [
            ("--purchases", pos.purchases),
            ("--key-file", pos.key_file),
            ("--tls-ca", options.tls_ca),
        ],
    )
    tills = _tills(pos)
    key = _merchant_key(pos)
    if not (math.isfinite(pos.notice_wait) and pos.notice_wait >= 0):
        raise ScenarioError(
            f"--notice-wait must be a number of seconds >= 0, got {pos.notice_wait!r}"
        )
    context = client_ssl_context(options.tls_ca) if options.tls else None
    if context is None:
        remedy = "give --tls-ca CA.pem (or --tls) for a cloud serving TLS"
        warn_if_in_the_clear(options.host, options.port, "the merchant key and receipts", remedy)
    process = _PosProcess(pos.merchant, key, tills, options, out)
    if pos.state_dir is not None:
        process.keep_in(StateDir(pos.state_dir))
    process.context = context
    process.notice_wait = pos.notice_wait
    return run_trio(process.run, on_refused=_hello_refused)


async def _run_connected(process: _PosProcess | _PhoneProcess, role: str) -> bool:
    """What both client processes do: open the trace, connect to the cloud, serve until
    done or stopped (Ctrl-C), close. Raises a final hello refusal; returns whether the
    cloud was reached."""
    options = process.options
    trace_file, writer = open_trace(
        options.trace, _header(options, role), max_bytes=options.trace_max_bytes
    )
    if trace_file is not None and writer is not None:
        writer = _flushed(writer, trace_file)
    process.trace_file = trace_file
    try:
        async with (
            connect_tcp(
                options.host, options.port, ssl_context=process.context, grace=5.0
            ) as client,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(watch_signals, process.stop)
            served = await process._serve(client, nursery, writer)
            nursery.cancel_scope.cancel()
    finally:
        if trace_file is not None:
            trace_file.close()
    if process.refused:
        raise process.refused[0]
    return served


class _PosProcess:
    """One ``assocsim pos`` process: its tills, their connections and their progress."""

    def __init__(
        self,
        merchant: str,
        key: str,
        tills: list[_Till],
        options: ClientOptions,
        out: IO[str],
    ) -> None:
        self.merchant = merchant
        self.key = key
        self.tills = tills
        self.options = options
        self.context: ssl.SSLContext | None = None
        self.notice_wait = 10.0
        self.stop = StopFlag()
        self.tally = _PosTally(sum(len(till.checkouts) for till in tills))
        self.printer = _Printer(out, self.tally.render)
        self.refused: list[HelloRefused] = []
        self.trace_file: IO[str] | None = None
        self.machines = [
            PosMachine(
                merchant,
                till.pos_id,
                till.checkouts,
                promotions=till.promotions,
                retry=options.run.scenario.retry if options.run is not None else None,
            )
            for till in tills
        ]
        self.state: StateDir | None = None
        self.restored: list[str] = []  # the tills started again from their state

    def keep_in(self, state: StateDir) -> None:
        """Keep each till's durable part in ``state``; start again from it if there."""
        self.state = state
        for index, (machine, till) in enumerate(zip(self.machines, self.tills, strict=True)):
            rebuilt, restored = state.restored_pos(machine)
            if restored:
                self.machines[index] = rebuilt
                self.restored.append(pos_address(self.merchant, till.pos_id))
                kept = rebuilt.durable()
                awaiting = {checkout.receipt_id for checkout, _ in kept.awaiting_ack}
                rung_up = till.checkouts[: kept.next_checkout]
                self.tally.earlier.update(
                    c.receipt_id for c in rung_up if c.receipt_id not in awaiting
                )

    async def run(self) -> int:
        if not await _run_connected(self, "pos"):
            return 130  # stopped before the cloud was reached
        return self._summary()

    async def _serve(
        self, client: TcpClientTransport, nursery: trio.Nursery, writer: Observer | None
    ) -> bool:
        options = self.options
        endpoints = [
            client.open_endpoint(pos_address(self.merchant, till.pos_id), credential=self.key)
            for till in self.tills
        ]
        if not await _wait_connected(endpoints, options, self.stop, self.refused):
            nursery.cancel_scope.cancel()
            return False
        nursery.start_soon(_watch_connections, endpoints, options)
        timebase = Timebase(epoch=await _go(options), speed=options.speed)
        observer = timebase.observer(_observers(writer, self.printer))
        timers = TimerService()
        nursery.start_soon(timers.run)
        start_at = 0.0 if options.run is not None else None
        if start_at is not None:  # a scenario's day starts at virtual 0 for every process
            await trio.sleep_until(timebase.real(start_at))
        _trace_restarts(observer, self.restored)
        for machine, endpoint in zip(self.machines, endpoints, strict=True):
            kept: Machine = machine
            if self.state is not None:
                kept = KeptParty(machine, machine, self.state.save)
            # a till started again carries on from its kept start, not the day's 0
            restored = endpoint.address in self.restored
            warped = TimeWarp(kept, timebase, start_at=None if restored else start_at)
            actor = Actor(warped, endpoint, observer=observer, timers=timers)
            nursery.start_soon(_run_actor, actor, self.refused)
        await self._until_uploaded()
        return True

    async def _until_uploaded(self) -> None:
        """Until every upload is settled and its notice acknowledged (or ``notice_wait``
        passed); on a signal, until the uploads already sent are settled."""
        tally, machines, stop = self.tally, self.machines, self.stop
        notices_deadline = math.inf
        said_stop = False
        while not self.refused:
            _flush(self.trace_file)
            write_status(
                self.options.status_file,
                {"ready": True, "settled": tally.settled, "total": tally.total},
            )
            uploads_done = tally.settled >= tally.total
            if uploads_done and all(m.unacknowledged == 0 for m in machines):
                return
            if uploads_done and notices_deadline == math.inf:
                notices_deadline = trio.current_time() + self.notice_wait
            if trio.current_time() >= notices_deadline:
                return
            if stop.is_set:
                if not said_stop:
                    stderr_line(
                        f"pos: {stop.signal}: finishing the uploads in flight, then stopping"
                    )
                    said_stop = True
                if all(m.awaiting_ack == 0 for m in machines):
                    return
            await trio.sleep(0.05)

    def _summary(self) -> int:
        tally = self.tally
        unnoticed = sum(m.unacknowledged for m in self.machines)
        stderr_line(
            f"pos {self.merchant}: {len(tally.acknowledged)} of {tally.total} uploads "
            f"acknowledged, {len(tally.refused)} refused"
            + (
                f"; {unnoticed} receipt notices not acknowledged (phone offline?)"
                if unnoticed
                else ""
            )
        )
        if self.stop.signal is not None:
            return 130
        return 1 if tally.refused else 0


# ------------------------------------------------------------------ phone


def _render_phone(event: TraceEvent) -> dict[str, Any] | None:
    message: Message | None = event.message
    phone = event.recipient.removeprefix("phone:")
    base: dict[str, Any] = {"t": round(event.t, 3), "phone": phone}
    if isinstance(message, ReceiptNotice):
        return {
            **base,
            "event": "receipt",
            "receipt": message.receipt_id,
            "merchant": message.merchant_id,
            "from": event.sender,
        }
    if isinstance(message, SubscribeAck):
        return {**base, "event": "subscribed", "token": message.device_token is not None}
    if isinstance(message, AssociationResponse):
        return {
            **base,
            "event": "response",
            "receipt": message.receipt_id,
            "merchant": message.merchant_id,
            "products": encode_message(message)["body"]["products"],
        }
    if isinstance(message, AssociationPush):
        return {
            **base,
            "event": "push",
            "reason": str(message.reason),
            "receipt": message.receipt_id,
            "merchant": message.merchant_id,
            "products": encode_message(message)["body"]["products"],
        }
    if isinstance(message, ErrorReply):
        return {
            **base,
            "event": "refused",
            "code": str(message.code),
            "detail": message.detail,
            "receipt": message.receipt_id,
        }
    return None


class _Enrolling:
    """A phone app at start: subscribes if it has no token yet, asks ``asks`` at once."""

    def __init__(self, phone: PhoneMachine, *, subscribe: bool, asks: Sequence[ReceiptKey]) -> None:
        self.phone = phone
        self._subscribe = subscribe
        self._asks = tuple(asks)

    def start(self, now: float) -> Effects:
        effects = self.phone.start(now)
        if self._subscribe:
            effects += self.phone.subscribe(now)
        for receipt in self._asks:
            effects += self.phone.ask(receipt, now)
        self._subscribe, self._asks = False, ()
        return effects

    def handle(self, message: Message, sender: str, now: float) -> Effects:
        return self.phone.handle(message, sender, now)

    def timer_fired(self, key: object, now: float) -> Effects:
        return self.phone.timer_fired(key, now)


@attrs.frozen
class PhoneOptions:
    """``assocsim phone``: the phones (E.164 ids), where their tokens are kept, the
    receipts to ask about (one phone only; ``MERCHANT/RECEIPT``, since receipt ids are
    unique within a merchant only) and whether to stay after the answers."""

    client: ClientOptions
    ids: tuple[str, ...]
    token_file: Path | None = None
    asks: tuple[str, ...] = ()
    stay: bool = False
    state_dir: Path | None = None


class _Tokens:
    """The phones' device tokens, in the ``--token-file`` (JSON: phone id -> token)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.tokens: dict[str, str] = {}
        if path is not None and path.is_dir():
            raise ScenarioError(f"--token-file {path} is a directory: give a file's path")
        if path is not None and path.exists():
            text = read_private(path, "--token-file")  # its own error, if any
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if not isinstance(data, dict) or not all(
                is_phone_id(k) and isinstance(v, str) and v for k, v in data.items()
            ):
                raise ScenarioError(
                    f"--token-file {path}: not a token file (a JSON object of phone id -> "
                    "token, as assocsim phone writes it)"
                )
            self.tokens = dict(data)
            warn_if_open(path, "--token-file")

    def save(self, phone_id: str, token: str, endpoint: TcpClientEndpoint | None) -> None:
        if self.tokens.get(phone_id) == token:
            return
        self.tokens[phone_id] = token
        if endpoint is not None:
            # Reconnections must present the token: the enrolment connection had none.
            endpoint.set_credential(token)
        if self.path is not None:
            write_private(self.path, json.dumps(self.tokens, indent=2) + "\n")


def run_phone(phone: PhoneOptions, out: IO[str]) -> int:
    """``assocsim phone``: subscribe, ask, print deliveries; see the module doc."""
    options, ids = phone.client, phone.ids
    refuse_shared_files(
        [
            ("--trace", options.trace),
            ("--token-file", phone.token_file),
            ("--status-file", options.status_file),
            ("--state-dir", phone.state_dir),
        ],
        [("--tls-ca", options.tls_ca)],
    )
    for phone_id in ids:
        if not is_phone_id(phone_id):
            raise ScenarioError(
                f"--id {phone_id!r}: expected an E.164 phone id, e.g. +8613800000001"
            )
    if len(set(ids)) != len(ids):
        raise ScenarioError("--id: a phone is given twice")
    asks = tuple(_ask(receipt) for receipt in phone.asks)
    if phone.asks and len(ids) != 1:
        raise ScenarioError("--ask is for one phone: give one --id")
    if phone.asks and options.run is not None:
        raise ScenarioError("--ask and --scenario do not mix: a scenario's phones ask by plan")
    process = _PhoneProcess(_phones(ids, options), _Tokens(phone.token_file), options, out)
    if phone.state_dir is not None:
        process.keep_in(StateDir(phone.state_dir))
    process.asks = asks
    process.stay = phone.stay
    process.context = client_ssl_context(options.tls_ca) if options.tls else None
    if process.context is None:
        remedy = "give --tls-ca CA.pem (or --tls) for a cloud serving TLS"
        warn_if_in_the_clear(options.host, options.port, "the device token and answers", remedy)
    return run_trio(process.run, on_refused=_hello_refused)


def _ask(text: str) -> ReceiptKey:
    """A ``--ask`` receipt, ``MERCHANT/RECEIPT``, or a :class:`ScenarioError` saying so."""
    merchant_id, slash, receipt_id = text.partition("/")
    if not (slash and is_token(merchant_id) and is_token(receipt_id)):
        raise ScenarioError(
            f"--ask {text!r}: not a receipt; give MERCHANT/RECEIPT (e.g. shop-01/R0000001), "
            "as the receipt notice names it"
        )
    return ReceiptKey(merchant_id, receipt_id)


def _phones(ids: Sequence[str], options: ClientOptions) -> list[PhoneMachine]:
    run = options.run
    if run is None:
        return [PhoneMachine(phone_id) for phone_id in ids]
    workload = _workload(run)
    plans = {plan.phone_id: plan for plan in workload.phones}
    asks: dict[str, dict[ReceiptKey, float | None]] = {phone_id: {} for phone_id in ids}
    for purchase in workload.purchases:
        if purchase.buyer_phone_id in asks:
            receipt = ReceiptKey(purchase.merchant_id, purchase.receipt_id)
            asks[purchase.buyer_phone_id][receipt] = purchase.ask_delay
    machines = []
    for phone_id in ids:
        plan = plans.get(phone_id)
        if plan is None:
            raise ScenarioError(f"--id {phone_id}: not a phone of the scenario")
        machines.append(
            PhoneMachine(
                phone_id,
                subscribes=plan.subscribes,
                ask_plan=asks[phone_id],
                default_ask_delay=None,
                retry=run.scenario.retry,
            )
        )
    return machines


class _PhoneProcess:
    """One ``assocsim phone`` process: its phones, their connections, what they got."""

    def __init__(
        self, phones: list[PhoneMachine], tokens: _Tokens, options: ClientOptions, out: IO[str]
    ) -> None:
        self.phones = phones
        self.tokens = tokens
        self.options = options
        self.asks: tuple[ReceiptKey, ...] = ()
        self.stay = False
        self.context: ssl.SSLContext | None = None
        self.stop = StopFlag()
        self.printer = _Printer(out, _render_phone)
        self.refused: list[HelloRefused] = []
        self.trace_file: IO[str] | None = None
        self.answered: set[ReceiptKey] = set()
        self.refused_asks: set[ReceiptKey] = set()  # answered by a refusal
        self.endpoints: dict[str, TcpClientEndpoint] = {}
        self.actors: list[Actor] = []
        self.state: StateDir | None = None
        self.restored: list[str] = []  # the phones started again from their state

    def keep_in(self, state: StateDir) -> None:
        """Keep each phone's durable part in ``state``; start again from it if there."""
        self.state = state
        for index, phone in enumerate(self.phones):
            rebuilt, restored = state.restored_phone(phone)
            if restored:
                self.phones[index] = rebuilt
                self.restored.append(phone_address(phone.phone_id))

    def _keep(self, event: TraceEvent) -> None:
        """Save a token the cloud issued; note which receipts were answered."""
        message = event.message
        if event.kind is not EventKind.RECEIVE or message is None:
            return
        if isinstance(message, SubscribeAck):
            phone_id = event.recipient.removeprefix("phone:")
            if message.device_token is not None and message.phone_id == phone_id:
                self.tokens.save(phone_id, message.device_token, self.endpoints.get(phone_id))
        elif isinstance(message, AssociationResponse):
            self.answered.add(message.receipt)
        elif isinstance(message, ErrorReply) and message.receipt_id:
            # A refusal answers the ask of its merchant's receipt only (receipt ids are
            # per merchant); one that names no merchant, every ask of that receipt id.
            refused = {
                r
                for r in self.asks
                if r.receipt_id == message.receipt_id
                and message.merchant_id in (None, r.merchant_id)
            }
            self.answered.update(refused)
            self.refused_asks.update(refused)

    async def run(self) -> int:
        if not await _run_connected(self, "phone"):
            return 130  # stopped before the cloud was reached
        if self.stop.signal is not None and self.asks and not self.answered.issuperset(self.asks):
            return 130  # interrupted before every ask was answered
        if self.refused_asks:  # as pos exits 1 when an upload was refused
            refused = ", ".join(
                sorted(f"{r.merchant_id}/{r.receipt_id}" for r in self.refused_asks)
            )
            stderr_line(
                f"phone: {len(self.refused_asks)} of {len(self.asks)} asks refused: {refused}"
            )
            return 1
        return 0

    async def _serve(
        self, client: TcpClientTransport, nursery: trio.Nursery, writer: Observer | None
    ) -> bool:
        options = self.options
        for phone in self.phones:
            token = self.tokens.tokens.get(phone.phone_id) or phone.device_token or ""
            self.endpoints[phone.phone_id] = client.open_endpoint(
                phone_address(phone.phone_id), credential=token
            )
        endpoints = list(self.endpoints.values())
        if not await _wait_connected(endpoints, options, self.stop, self.refused):
            nursery.cancel_scope.cancel()
            return False
        nursery.start_soon(_watch_connections, endpoints, options)
        timebase = Timebase(epoch=await _go(options), speed=options.speed)
        observer = timebase.observer(_observers(self._keep, writer, self.printer))
        timers = TimerService()
        nursery.start_soon(timers.run)
        _trace_restarts(observer, self.restored)
        for phone in self.phones:
            machine: Machine = phone
            if options.run is None:  # an app: enrols at once, asks what it is told to
                enrolled = phone.phone_id in self.tokens.tokens or phone.device_token is not None
                machine = _Enrolling(phone, subscribe=not enrolled, asks=self.asks)
            if self.state is not None:  # outermost: _Enrolling's start sends too
                machine = KeptParty(machine, phone, self.state.save)
            actor = Actor(
                TimeWarp(machine, timebase),
                self.endpoints[phone.phone_id],
                observer=observer,
                timers=timers,
            )
            self.actors.append(actor)
            nursery.start_soon(_run_actor, actor, self.refused)
        await self._until_answered()
        return True

    async def _until_answered(self) -> None:
        """Until a signal; or, with asks and not ``stay``, until each ask is answered."""
        while not self.stop.is_set and not self.refused:
            _flush(self.trace_file)
            write_status(
                self.options.status_file,
                {
                    "ready": True,
                    "timers": sum(actor.pending_timers for actor in self.actors),
                    "unanswered": sum(phone.unanswered for phone in self.phones),
                    "events": self.printer.events,
                },
            )
            if self.asks and not self.stay and self.answered.issuperset(self.asks):
                return
            await trio.sleep(0.05)
        if self.stop.is_set:
            stderr_line(f"phone: {self.stop.signal}: stopping")
