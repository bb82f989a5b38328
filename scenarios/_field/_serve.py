"""``assocsim serve cloud``: the cloud as a real server, and its operator's key tools.

The cloud listens on TCP (TLS with ``--tls-cert``/``--tls-key``), authenticates every
connection (:class:`~protocol.lowlevel.Authenticator`: merchant keys for POSes, device tokens for
phones, see ``docs/security.md``), keeps its state in a durable
:class:`~actors.SqliteStore` (``--db``, ``synchronous=FULL``: an upload is acknowledged
only once committed) and runs the same :class:`~protocol.CloudMachine` the simulations run,
behind a :class:`~protocol.lowlevel.Gatekeeper`, in the store's own thread (:class:`CloudDriver`).

Beside the store, ``--db FILE`` has two small companions, created on the first start:
``FILE.secret`` (the device-token secret, mode 0600) and ``FILE.holders`` (which phone
each receipt notice was handed to, as the cloud relayed it: the proof a phone needs to
ask about a receipt bound to another number).

``assocsim serve add-merchant`` adds a merchant's key to a keys file (only its salted hash
is kept; the key is printed once), ``assocsim serve token`` prints a phone's device token
for an operator who verified the phone out of band.
"""

from __future__ import annotations

import errno
import functools
import gc
import json
import os
import socket
import sys
from pathlib import Path
from typing import IO, Any

import attrs
import trio

import actors
from actors import (
    EventKind,
    SqliteStore,
    StoreError,
    TcpLimits,
    TcpServerTransport,
    TraceEvent,
)
from protocol import (
    CLOUD,
    Address,
    CloudConfig,
    CloudMachine,
    LocalProtocolError,
    Message,
    NoticeAck,
    ReceiptKey,
    ReceiptNotice,
)
from protocol.lowlevel import (
    Authenticator,
    DeviceTokens,
    Gatekeeper,
    Hello,
    MerchantKeys,
    generate_key,
    generate_secret,
    is_phone_id,
    is_token,
    phone_of,
    pos_of,
)
from scenarios._model._errors import ScenarioError
from scenarios._model._runspec import RunSpec, rerun_header
from scenarios._sim._runner import recommender_named

from ._common import (
    DEFAULT_TRACE_MAX_BYTES,
    CloudDriver,
    StopFlag,
    StoreThread,
    Timebase,
    TimeWarp,
    open_trace,
    read_private,
    refuse_shared_files,
    run_trio,
    server_ssl_context,
    stderr_line,
    warn_if_in_the_clear,
    warn_if_open,
    watch_signals,
    write_private,
    write_status,
)

__all__ = [
    "DEFAULT_BATCH",
    "CloudOptions",
    "ReceiptHolders",
    "add_merchant_key",
    "issue_device_token",
    "relay_policy",
    "serve_cloud",
]

DEFAULT_BATCH = 64

# ------------------------------------------------------------------ receipt holders


class ReceiptHolders:
    """Which phones each receipt's notice was relayed to, kept in an append-only file.

    The POS hands the buyer's phone the receipt id (a ``receipt-notice``, relayed by the
    server); that phone may then ask about the receipt even if the POS keyed another
    number (the patent's mismatch). Each new pair is appended and flushed before the
    notice is relayed, so it survives a crash of the process (kill -9); the file is a
    JSON array ``[merchant, receipt, phone]`` per line (receipt ids are unique within a
    merchant only), created readable by its owner only (0600).
    """

    def __init__(self, path: Path | None) -> None:
        self._holders: dict[ReceiptKey, set[str]] = {}
        self._file: IO[str] | None = None
        self.path = path
        if path is None:
            return
        if path.exists():
            self._load(path)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file = os.fdopen(descriptor, "a", encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot write {path}: {exc.strerror}") from None

    def _load(self, path: Path) -> None:
        text = read_private(path, "the receipt holders")
        whole = text[: text.rfind("\n") + 1]
        if len(whole) < len(text):
            # A crash cut the last line short: cut it off, or the next pair would be
            # appended onto it and the next start would refuse the whole record.
            try:
                os.truncate(path, len(whole.encode("utf-8")))
            except OSError as exc:
                raise ScenarioError(f"cannot write {path}: {exc.strerror}") from None
        lines = whole.split("\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, list) and len(entry) == 2:
                raise ScenarioError(
                    f"{path}: line {number} is [receipt, phone], written by an assocsim "
                    "whose receipts had no merchant (its store is refused too): start "
                    "serve cloud on a new --db"
                )
            try:
                merchant, receipt, phone = entry
                if not (is_token(merchant) and is_token(receipt) and is_phone_id(phone)):
                    raise ValueError
            except (ValueError, TypeError):
                raise ScenarioError(
                    f"{path}: line {number} is not [merchant, receipt, phone]; the file was "
                    "changed outside assocsim: restore it or remove the line"
                ) from None
            self._holders.setdefault(ReceiptKey(merchant, receipt), set()).add(phone)
        warn_if_open(path, "the receipt holders")  # phone numbers

    def __call__(self, receipt: ReceiptKey) -> set[str]:
        return self._holders.get(receipt, set())

    def record(self, receipt: ReceiptKey, phone_id: str) -> None:
        held = self._holders.setdefault(receipt, set())
        if phone_id in held:
            return
        held.add(phone_id)
        if self._file is not None:
            self._file.write(json.dumps([*receipt, phone_id]) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def relay_policy(holders: ReceiptHolders) -> actors.MayRelay:
    """What one client may send another through the cloud: a POS hands a phone a receipt
    notice of its own merchant (recorded in ``holders`` by merchant and receipt id), a
    phone that holds it acknowledges it to a POS of that merchant. Nothing else travels
    between clients.

    The merchant is the sender's authenticated one, never only the notice's claim; and
    the record is per merchant, so a till handing out another merchant's receipt id makes
    its phone the holder of its own merchant's receipt of that id (unknown, or its own),
    never of the other merchant's (issue 14)."""

    def may_relay(sender: Address, recipient: Address, message: Message) -> bool:
        if isinstance(message, ReceiptNotice):
            pos = pos_of(sender)
            phone = phone_of(recipient)
            if pos is None or phone is None or pos[0] != message.merchant_id:
                return False
            holders.record(ReceiptKey(pos[0], message.receipt_id), phone)
            return True
        if isinstance(message, NoticeAck):
            # only from a phone the notice was handed to: anyone else's ack would stop the
            # till re-sending a notice its buyer, offline, never got
            pos = pos_of(recipient)
            phone = phone_of(sender)
            return (
                phone is not None
                and pos is not None
                and pos[0] == message.merchant_id
                and phone in holders(ReceiptKey(pos[0], message.receipt_id))
            )
        return False

    return may_relay


# ------------------------------------------------------------------ options


@attrs.frozen
class CloudOptions:
    """What ``serve cloud`` is given: where to listen, its files, the cloud's config, the
    scenario run it took them from (``--scenario``, ``--set``) or none, and the clock
    options."""

    host: str
    port: int
    db: Path
    secret: Path
    holders: Path
    tls_cert: Path | None
    tls_key: Path | None
    merchant_keys: Path | None
    trace: Path | None
    config: CloudConfig
    recommender: str  # "rules" or "engine" (the [cloud] recommender knob's values)
    run: RunSpec | None
    batch: int
    epoch: float
    speed: float
    status_file: Path | None
    wait_for_go: bool
    max_connections_per_peer: int = TcpLimits().max_connections_per_peer
    trace_max_bytes: int | None = DEFAULT_TRACE_MAX_BYTES  # JsonlTraceWriter's; None: none


def load_merchant_keys(path: Path | None) -> MerchantKeys:
    """The keys file at ``path`` (none: no merchant can connect)."""
    if path is None:
        return MerchantKeys()
    try:
        keys = MerchantKeys.from_json(read_private(path, "--merchant-keys"))
    except LocalProtocolError as exc:
        raise ScenarioError(f"--merchant-keys {path}: {exc}") from None
    warn_if_open(path, "--merchant-keys")
    return keys


def load_secret(path: Path, *, create: bool) -> tuple[bytes, bool]:
    """The device-token secret in ``path`` (hex), created if missing and ``create``."""
    if not path.exists():
        if not create:
            raise ScenarioError(f"no device-token secret at {path} (the cloud creates it)")
        secret = generate_secret()
        write_private(path, secret.hex() + "\n")
        return secret, True
    text = read_private(path, "the device-token secret").strip()
    try:
        secret = bytes.fromhex(text)
        DeviceTokens(secret)
    except (ValueError, LocalProtocolError):
        raise ScenarioError(
            f"{path} is not a device-token secret (64 or more hex digits); restore it from "
            "a backup, or remove it to make a new one (every phone then enrols again)"
        ) from None
    warn_if_open(path, "the device-token secret")
    return secret, False


# ------------------------------------------------------------------ the server


def open_store(options: CloudOptions) -> SqliteStore:
    """The cloud's store, every commit fsynced (``synchronous=FULL``): an upload the cloud
    acknowledged survives a power loss, as the README promises
    (``tests/scenarios/test_serve_durable.py``)."""
    return SqliteStore(options.db, durable=True)


class _Cloud:
    """The store and the machine, built and used only in the store thread."""

    def __init__(self, options: CloudOptions, tokens: DeviceTokens, holders: ReceiptHolders):
        self.options = options
        self.tokens = tokens
        self.holders = holders
        self.store: SqliteStore | None = None
        self.machine: Gatekeeper | None = None

    def open(self, store: SqliteStore) -> None:
        """Build the machine on ``store`` (:func:`open_store`'s, opened by the caller)."""
        self.store = store
        cloud = CloudMachine(
            store=store,
            recommender=recommender_named(self.options.recommender),  # relearns from the store
            config=self.options.config,
            device_tokens=self.tokens,
        )
        self.machine = Gatekeeper(cloud, store=store, holders=self.holders)

    def is_subscribed(self, phone_id: str) -> bool:
        assert self.store is not None
        return self.store.is_subscribed(phone_id)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _header(options: CloudOptions, port: int) -> dict[str, Any]:
    facts = {
        "process": "cloud",
        "transport": "tls" if options.tls_cert is not None else "tcp",
        "listen": f"{options.host}:{port}",
        "epoch": options.epoch,
        "speed": options.speed,
    }
    header = rerun_header(options.run, facts, seeded=False)  # the cloud takes no seed
    settings: dict[str, Any] = header["settings"]
    settings["cloud"] = {  # what it runs with: --push-timeout and the others win
        **settings.get("cloud", {}),
        "push_timeout": options.config.push_timeout,
        "mismatch_policy": str(options.config.mismatch_policy),
        "recommender": options.recommender,
    }
    return header


async def _wait_for_go(default: float, status_file: Path | None, port: int) -> float:
    """Say ready (and the port) in the status file, then read ``go EPOCH`` from stdin
    (run --transport tcp starts every process's clock together)."""
    write_status(status_file, {"ready": True, "port": port})
    line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
    words = line.split()
    if len(words) == 2 and words[0] == "go":
        return float(words[1])
    return default


async def _serve(options: CloudOptions, keys: MerchantKeys, secret: bytes | None) -> int:
    """Serve; ``secret``: the device-token secret read, or None to make one (only once the
    store has opened: a store refused leaves no new file beside it, and says nothing of
    phones' tokens)."""
    stop = StopFlag()
    thread = StoreThread()
    # A store already there: this cloud restarts from it (after a kill -9, or a stop).
    restarting = options.db.exists()
    store: SqliteStore | None = None
    holders: ReceiptHolders | None = None
    cloud: _Cloud | None = None
    try:
        try:
            store = await thread.call(functools.partial(open_store, options))
            if secret is None:
                secret = _new_secret(options, restarting=restarting)
            holders = ReceiptHolders(options.holders)
            tokens = DeviceTokens(secret)
            cloud = _Cloud(options, tokens, holders)
            await thread.call(cloud.open, store)
        except StoreError as exc:
            raise ScenarioError(str(exc)) from None
        _say_migrated(cloud.store)
        if not len(keys):  # a warning once nothing is refused any more
            stderr_line("no merchant keys (--merchant-keys): every POS will be refused")
        authenticate = _authenticate(Authenticator(keys, tokens), thread, cloud)
        context = None
        if options.tls_cert is not None and options.tls_key is not None:
            context = server_ssl_context(options.tls_cert, options.tls_key)
        server = TcpServerTransport(
            options.host,
            options.port,
            authenticate=authenticate,
            ssl_context=context,
            limits=TcpLimits(max_connections_per_peer=options.max_connections_per_peer),
            may_relay=relay_policy(holders),
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(watch_signals, stop)
            try:
                await nursery.start(server.serve)
            except actors.TransportError as exc:
                raise ScenarioError(str(exc)) from None
            _say_listening(options, server, len(keys))
            steps = await _drive(options, cloud, thread, server, stop, restarting=restarting)
            nursery.cancel_scope.cancel()
        stderr_line(
            f"serve cloud: stopped after {steps} steps; "
            f"{server.stats.connected} connections authenticated, "
            f"{server.stats.hellos_refused} refused"
        )
        return 0
    finally:
        if cloud is not None:
            await thread.call(cloud.close)
        elif store is not None:
            await thread.call(store.close)
        thread.close()
        if holders is not None:
            holders.close()


def _say_migrated(store: SqliteStore | None) -> None:
    """One line when the store was brought from an older schema, naming its copy."""
    if store is not None and store.migrated_from is not None:
        stderr_line(
            f"serve cloud: migrated {store.path} from store schema version "
            f"{store.migrated_from}; the store as it was is kept in "
            f"{store.copy_path(store.migrated_from)}"
        )


async def _drive(
    options: CloudOptions,
    cloud: _Cloud,
    thread: StoreThread,
    server: TcpServerTransport,
    stop: StopFlag,
    *,
    restarting: bool = False,
) -> int:
    """Run the cloud's actor until a signal, then finish the batch in progress and drain
    what it sent. Returns the number of machine steps.

    ``restarting``: the store was there before this process: its trace starts with a
    ``restart`` of the cloud, as a simulated restart's does, so that the checker of a
    merged field trace sees that what reached the killed process unanswered may be lost
    (the ledger's ``down``) and that its timers died with it."""
    endpoint = server.open_endpoint(CLOUD)
    epoch = options.epoch
    if options.wait_for_go:
        epoch = await _wait_for_go(epoch, options.status_file, server.port)
    timebase = Timebase(epoch=epoch, speed=options.speed)
    trace_file, writer = open_trace(
        options.trace, _header(options, server.port), max_bytes=options.trace_max_bytes
    )
    assert cloud.machine is not None
    observer = timebase.observer(writer)
    if restarting and observer is not None and trace_file is not None:
        observer(TraceEvent(trio.current_time(), EventKind.RESTART, CLOUD, CLOUD))
        trace_file.flush()
    driver = CloudDriver(
        TimeWarp(cloud.machine, timebase),
        endpoint,
        thread,
        observer=observer,
        batch=options.batch,
        store=cloud.store,  # each step one transaction: a kill -9 leaves none half-done
        flush=trace_file.flush if trace_file is not None else None,  # traced before sent
    )
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(driver.run)  # the start relearns from the stored bindings
            _keep_out_of_collections()
            nursery.start_soon(_report_status, options.status_file, driver, server, trace_file)
            await stop.event.wait()
            stderr_line(f"serve cloud: {stop.signal}: finishing in-flight work, then stopping")
            driver.stop()
            with trio.move_on_after(5.0):
                await server.drain()  # what the last steps sent
            nursery.cancel_scope.cancel()
    finally:
        if trace_file is not None:
            trace_file.close()
    return driver.steps


def _keep_out_of_collections() -> None:
    """What the start built lives as long as the process (the relearned recommender: for
    all of Complete Journey some 260,000 containers, which a full pass of the cyclic
    collector takes a quarter of a second to walk). Collect once, then leave it out of
    later passes (``gc.freeze``), so that they do not stall the requests."""
    gc.collect()
    gc.freeze()


def _say_listening(options: CloudOptions, server: TcpServerTransport, merchants: int) -> None:
    kind = "TLS" if server.ssl_context is not None else "TCP"
    sys.stdout.write(
        f"assocsim serve cloud: listening on {options.host}:{server.port} ({kind}), "
        f"store {options.db}, {merchants} merchant key(s)\n"
    )
    sys.stdout.flush()


def _authenticate(
    authenticator: Authenticator, thread: StoreThread, cloud: _Cloud
) -> actors.Authenticate:
    """The transport's hello check: the authenticator, with the enrolment of a phone
    without a token looked up in the store (in its thread)."""

    async def authenticate(hello: Hello) -> Address:
        enrolled = None
        phone = phone_of(hello.address)
        if phone is not None and hello.credential == "":
            enrolled = await thread.call(cloud.is_subscribed, phone)
        # A refusal raises protocol.AuthenticationError, the class the server catches.
        return authenticator.authenticate(hello, enrolled=enrolled)

    return authenticate


async def _report_status(
    path: Path | None, driver: CloudDriver, server: TcpServerTransport, trace: IO[str] | None
) -> None:
    """Every 50 ms: flush the trace (a kill -9 loses at most that much of it), and write
    the status file that run --transport tcp reads."""
    while True:
        if trace is not None:
            trace.flush()
        write_status(
            path,
            {
                "timers": driver.pending_timers,
                "backlog": driver.backlog,
                "steps": driver.steps,
                "connections": server.connections,
            },
        )
        await trio.sleep(0.05)


# ------------------------------------------------------------------ commands


def serve_cloud(options: CloudOptions) -> int:
    """``assocsim serve cloud``: serve until Ctrl-C (SIGINT) or SIGTERM; 0 once stopped."""
    db = options.db
    refuse_shared_files(
        [
            ("--db", db),
            ("the store's journal", Path(f"{db}-wal")),
            ("the store's journal", Path(f"{db}-shm")),
            ("the device-token secret", options.secret),
            ("the receipt holders", options.holders),
            ("--trace", options.trace),
            ("--status-file", options.status_file),
        ],
        [
            ("--tls-cert", options.tls_cert),
            ("--tls-key", options.tls_key),
            ("--merchant-keys", options.merchant_keys),
        ],
    )
    if options.batch < 1:
        raise ScenarioError(f"--batch must be at least 1, got {options.batch}")
    # Every file and the port are judged before any file is made (F7): a refusal leaves
    # nothing behind, neither a secret nor a store that the next start would restart from.
    keys = load_merchant_keys(options.merchant_keys)
    if options.tls_cert is not None and options.tls_key is not None:
        server_ssl_context(options.tls_cert, options.tls_key)  # refuse bad files before serving
    secret = load_secret(options.secret, create=False)[0] if options.secret.exists() else None
    check_listen(options.host, options.port)
    if options.tls_cert is None:
        warn_if_in_the_clear(
            options.host,
            options.port,
            "merchant keys and device tokens",
            "serve TLS (--tls-cert, --tls-key) off loopback",
        )
    return run_trio(functools.partial(_serve, options, keys, secret))


def _new_secret(options: CloudOptions, *, restarting: bool) -> bytes:
    """A new device-token secret in its file; said when the store was there before."""
    secret, _ = load_secret(options.secret, create=True)
    if restarting:
        stderr_line(
            f"created a new device-token secret {options.secret}: phones enrolled before "
            "need their new token (assocsim serve token)"
        )
    return secret


def check_listen(host: str, port: int) -> None:
    """ScenarioError (one line) if the server could not listen on ``host:port``: a name
    that does not resolve, an address not of this host, a port in use. Bound and let go
    at once, as trio's listeners bind (address reuse, IPv6 only on IPv6); a port taken in
    between is still told by the transport."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ScenarioError(
            f"--listen {host}:{port}: cannot resolve {host!r} ({exc.strerror})"
        ) from None
    for family, kind, proto, _, address in found:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
        except OSError as exc:
            hint = {
                errno.EADDRINUSE: " (is another server using that port?)",
                errno.EADDRNOTAVAIL: f" (is {host} an address of this host?)",
                errno.EACCES: " (a port below 1024 needs privileges)",
            }.get(exc.errno or 0, "")
            raise ScenarioError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}"
            ) from None


def add_merchant_key(
    path: Path, merchant: str, key: str | None = None, *, key_out: Path | None = None
) -> str:
    """Add ``merchant`` with ``key`` (none: a new random one) to the keys file at ``path``
    (created if missing; only the key's salted hash is kept). Returns the key, also
    written to ``key_out`` (mode 0600, a new file: a key is never written over) if given,
    before the keys file: a key lost between the two would lock its merchant out."""
    refuse_shared_files([("--merchant-keys", path), ("--key-out", key_out)])
    if key_out is not None and (key_out.exists() or key_out.is_symlink()):
        raise ScenarioError(f"--key-out {key_out}: already there (a key file is not written over)")
    keys = load_merchant_keys(path) if path.exists() else MerchantKeys()
    if key is None:
        key = generate_key()
    try:
        keys.add(merchant, key)
    except LocalProtocolError as exc:
        raise ScenarioError(str(exc)) from None
    if key_out is not None:
        write_private(key_out, key + "\n")
    write_private(path, keys.to_json())
    return key


def issue_device_token(secret: Path, phone_id: str) -> str:
    """The device token of ``phone_id``, from the cloud's device-token secret file."""
    value, _ = load_secret(secret, create=False)
    return DeviceTokens(value).issue(phone_id)
