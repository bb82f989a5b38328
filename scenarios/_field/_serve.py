"""``assocsim serve cloud``: the cloud as a real server, and its operator's key tools.

The cloud listens on TCP (TLS with ``--tls-cert``/``--tls-key``), authenticates every
connection (:class:`~protocol.Authenticator`: merchant keys for POSes, device tokens for
phones, see ``docs/security.md``), keeps its state in a durable
:class:`~actors.SqliteStore` (``--db``, ``synchronous=FULL``: an upload is acknowledged
only once committed) and runs the same :class:`~protocol.CloudMachine` the simulations run,
behind a :class:`~protocol.Gatekeeper`, in the store's own thread (:class:`CloudDriver`).

Beside the store, ``--db FILE`` has two small companions, created on the first start:
``FILE.secret`` (the device-token secret, mode 0600) and ``FILE.holders`` (which phone
each receipt notice was handed to, as the cloud relayed it: the proof a phone needs to
ask about a receipt bound to another number).

``assocsim serve add-merchant`` adds a merchant's key to a keys file (only its salted hash
is kept; the key is printed once), ``assocsim serve token`` prints a phone's device token
for an operator who verified the phone out of band.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
from pathlib import Path
from typing import IO, Any

import attrs
import trio

import actors
from actors import SqliteStore, StoreError, TcpServerTransport
from protocol import (
    CLOUD,
    Address,
    Authenticator,
    CloudConfig,
    CloudMachine,
    DeviceTokens,
    Gatekeeper,
    Hello,
    LocalProtocolError,
    MerchantKeys,
    Message,
    MismatchPolicy,
    NoticeAck,
    ReceiptNotice,
    generate_key,
    generate_secret,
    is_phone_id,
    is_token,
    phone_of,
    pos_of,
)
from scenarios._model._durations import parse_duration
from scenarios._model._errors import ScenarioError
from scenarios._model._overrides import apply_overrides
from scenarios._model._scenario import Scenario, load_scenario, scenario_to_dict
from scenarios._sim._runner import recommender_named

from ._common import (
    CloudDriver,
    StopFlag,
    StoreThread,
    Timebase,
    TimeWarp,
    configure_logging,
    open_trace,
    parse_endpoint,
    read_private,
    run_trio,
    server_ssl_context,
    stderr_line,
    watch_signals,
    write_private,
    write_status,
)
from ._tcprun import warn_faults_not_applied

__all__ = ["ReceiptHolders", "add_serve_parser", "relay_policy", "serve_command"]

EXIT_USAGE = 2
DEFAULT_BATCH = 64


# ------------------------------------------------------------------ receipt holders


class ReceiptHolders:
    """Which phones each receipt's notice was relayed to, kept in an append-only file.

    The POS hands the buyer's phone the receipt id (a ``receipt-notice``, relayed by the
    server); that phone may then ask about the receipt even if the POS keyed another
    number (the patent's mismatch). Each new pair is appended and flushed before the
    notice is relayed, so it survives a crash of the process (kill -9); the file is a
    JSON array ``[receipt, phone]`` per line.
    """

    def __init__(self, path: Path | None) -> None:
        self._holders: dict[str, set[str]] = {}
        self._file: IO[str] | None = None
        self.path = path
        if path is None:
            return
        if path.exists():
            self._load(path)
        try:
            self._file = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot write {path}: {exc.strerror}") from None

    def _load(self, path: Path) -> None:
        lines = read_private(path, "receipt holders").split("\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                receipt, phone = json.loads(line)
                if not (is_token(receipt) and is_phone_id(phone)):
                    raise ValueError
            except (ValueError, TypeError):
                if number == len(lines):  # the last line, cut short by a crash: ignore it
                    continue
                raise ScenarioError(
                    f"{path}: line {number} is not [receipt, phone]; the file was changed "
                    "outside assocsim: restore it or remove the line"
                ) from None
            self._holders.setdefault(receipt, set()).add(phone)

    def __call__(self, receipt_id: str) -> set[str]:
        return self._holders.get(receipt_id, set())

    def record(self, receipt_id: str, phone_id: str) -> None:
        held = self._holders.setdefault(receipt_id, set())
        if phone_id in held:
            return
        held.add(phone_id)
        if self._file is not None:
            self._file.write(json.dumps([receipt_id, phone_id]) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def relay_policy(holders: ReceiptHolders) -> actors.MayRelay:
    """What one client may send another through the cloud: a POS hands a phone a receipt
    notice of its own merchant (recorded in ``holders``), a phone acknowledges it to a
    POS. Nothing else travels between clients."""

    def may_relay(sender: Address, recipient: Address, message: Message) -> bool:
        if isinstance(message, ReceiptNotice):
            pos = pos_of(sender)
            phone = phone_of(recipient)
            if pos is None or phone is None or pos[0] != message.merchant_id:
                return False
            holders.record(message.receipt_id, phone)
            return True
        if isinstance(message, NoticeAck):
            return phone_of(sender) is not None and pos_of(recipient) is not None
        return False

    return may_relay


# ------------------------------------------------------------------ options


@attrs.frozen
class CloudOptions:
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
    scenario: Scenario | None
    overrides: tuple[str, ...]
    batch: int
    epoch: float
    speed: float
    status_file: Path | None
    wait_for_go: bool


def _cloud_options(args: argparse.Namespace) -> CloudOptions:
    host, port = parse_endpoint(args.listen, what="--listen")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise ScenarioError("--tls-cert and --tls-key go together: give both, or neither")
    scenario = None
    if args.scenario is not None:
        scenario = apply_overrides(load_scenario(args.scenario), args.set)
        warn_faults_not_applied(scenario, "serve cloud")
    elif args.set:
        raise ScenarioError("--set changes a --scenario: give the scenario too")
    settings = scenario.cloud if scenario is not None else None
    config = CloudConfig(
        push_timeout=args.push_timeout
        if args.push_timeout is not None
        else (settings.push_timeout if settings is not None else 600.0),
        mismatch_policy=MismatchPolicy(args.mismatch_policy)
        if args.mismatch_policy is not None
        else (settings.mismatch_policy if settings is not None else MismatchPolicy.DUAL_SEND),
        max_products=settings.max_products if settings is not None else 5,
        retry=scenario.retry if scenario is not None else CloudConfig().retry,
    )
    db: Path = args.db
    if db.is_dir():
        raise ScenarioError(f"--db {db} is a directory: give the path of the store's file")
    if not db.parent.is_dir():
        raise ScenarioError(f"--db {db}: no directory {db.parent}")
    return CloudOptions(
        host=host,
        port=port,
        db=db,
        secret=args.secret if args.secret is not None else db.with_name(db.name + ".secret"),
        holders=db.with_name(db.name + ".holders"),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        merchant_keys=args.merchant_keys,
        trace=args.trace,
        config=config,
        recommender=args.recommender
        if args.recommender is not None
        else (settings.recommender if settings is not None else "rules"),
        scenario=scenario,
        overrides=tuple(args.set),
        batch=args.batch,
        epoch=args.epoch,
        speed=args.speed,
        status_file=args.status_file,
        wait_for_go=args.wait_for_go,
    )


def load_merchant_keys(path: Path | None) -> MerchantKeys:
    """The keys file at ``path`` (none: no merchant can connect)."""
    if path is None:
        return MerchantKeys()
    try:
        return MerchantKeys.from_json(read_private(path, "--merchant-keys"))
    except LocalProtocolError as exc:
        raise ScenarioError(f"--merchant-keys {path}: {exc}") from None


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
    return secret, False


# ------------------------------------------------------------------ the server


class _Cloud:
    """The store and the machine, built and used only in the store thread."""

    def __init__(self, options: CloudOptions, tokens: DeviceTokens, holders: ReceiptHolders):
        self.options = options
        self.tokens = tokens
        self.holders = holders
        self.store: SqliteStore | None = None
        self.machine: Gatekeeper | None = None

    def open(self) -> None:
        store = self.store = SqliteStore(self.options.db, durable=True)
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
    scenario = options.scenario
    settings: dict[str, Any] = scenario_to_dict(scenario) if scenario is not None else {}
    settings["cloud"] = {
        **settings.get("cloud", {}),
        "push_timeout": options.config.push_timeout,
        "mismatch_policy": str(options.config.mismatch_policy),
        "recommender": options.recommender,
    }
    return {
        "scenario": options.scenario.name if options.scenario is not None else "field-trial",
        "seed": None,
        "process": "cloud",
        "transport": "tls" if options.tls_cert is not None else "tcp",
        "listen": f"{options.host}:{port}",
        "epoch": options.epoch,
        "speed": options.speed,
        "overrides": list(options.overrides),
        "settings": settings,
    }


async def _wait_for_go(default: float, status_file: Path | None, port: int) -> float:
    """Say ready (and the port) in the status file, then read ``go EPOCH`` from stdin
    (run --transport tcp starts every process's clock together)."""
    write_status(status_file, {"ready": True, "port": port})
    line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
    words = line.split()
    if len(words) == 2 and words[0] == "go":
        return float(words[1])
    return default


async def _serve(options: CloudOptions, keys: MerchantKeys, secret: bytes) -> int:
    stop = StopFlag()
    tokens = DeviceTokens(secret)
    holders = ReceiptHolders(options.holders)
    thread = StoreThread()
    cloud = _Cloud(options, tokens, holders)
    try:
        try:
            await thread.call(cloud.open)
        except StoreError as exc:
            raise ScenarioError(str(exc)) from None
        authenticate = _authenticate(Authenticator(keys, tokens), thread, cloud)
        context = None
        if options.tls_cert is not None and options.tls_key is not None:
            context = server_ssl_context(options.tls_cert, options.tls_key)
        server = TcpServerTransport(
            options.host,
            options.port,
            authenticate=authenticate,
            ssl_context=context,
            may_relay=relay_policy(holders),
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(watch_signals, stop)
            try:
                await nursery.start(server.serve)
            except actors.TransportError as exc:
                raise ScenarioError(str(exc)) from None
            _say_listening(options, server, len(keys))
            steps = await _drive(options, cloud, thread, server, stop)
            nursery.cancel_scope.cancel()
        stderr_line(
            f"serve cloud: stopped after {steps} steps; "
            f"{server.stats.connected} connections authenticated, "
            f"{server.stats.hellos_refused} refused"
        )
        return 0
    finally:
        await thread.call(cloud.close)
        thread.close()
        holders.close()


async def _drive(
    options: CloudOptions,
    cloud: _Cloud,
    thread: StoreThread,
    server: TcpServerTransport,
    stop: StopFlag,
) -> int:
    """Run the cloud's actor until a signal, then finish the batch in progress and drain
    what it sent. Returns the number of machine steps."""
    endpoint = server.open_endpoint(CLOUD)
    epoch = options.epoch
    if options.wait_for_go:
        epoch = await _wait_for_go(epoch, options.status_file, server.port)
    timebase = Timebase(epoch=epoch, speed=options.speed)
    trace_file, writer = open_trace(options.trace, _header(options, server.port))
    assert cloud.machine is not None
    driver = CloudDriver(
        TimeWarp(cloud.machine, timebase),
        endpoint,
        thread,
        observer=timebase.observer(writer),
        batch=options.batch,
        store=cloud.store,  # each step one transaction: a kill -9 leaves none half-done
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


def serve_command(args: argparse.Namespace, out: IO[str]) -> int:
    """``assocsim serve cloud | add-merchant | token``."""
    if args.serve_command == "add-merchant":
        return _add_merchant(args, out)
    if args.serve_command == "token":
        return _token(args, out)
    options = _cloud_options(args)
    configure_logging(args.verbose)
    keys = load_merchant_keys(options.merchant_keys)
    if options.tls_cert is not None and options.tls_key is not None:
        server_ssl_context(options.tls_cert, options.tls_key)  # refuse bad files before serving
    secret, created = load_secret(options.secret, create=True)
    if created and options.db.exists():
        stderr_line(
            f"created a new device-token secret {options.secret}: phones enrolled before "
            "need their new token (assocsim serve token)"
        )
    if not len(keys):
        stderr_line("no merchant keys (--merchant-keys): every POS will be refused")
    return run_trio(functools.partial(_serve, options, keys, secret))


def _add_merchant(args: argparse.Namespace, out: IO[str]) -> int:
    path: Path = args.merchant_keys
    keys = load_merchant_keys(path) if path.exists() else MerchantKeys()
    key = args.key if args.key is not None else generate_key()
    try:
        keys.add(args.merchant, key)
    except LocalProtocolError as exc:
        raise ScenarioError(str(exc)) from None
    write_private(path, keys.to_json())
    if args.key is None:
        out.write(f"{key}\n")  # shown once: the file keeps only its hash
    sys.stderr.write(f"merchant {args.merchant}: key stored (hashed) in {path}\n")
    return 0


def _token(args: argparse.Namespace, out: IO[str]) -> int:
    if not is_phone_id(args.id):
        raise ScenarioError(f"--id {args.id!r}: expected an E.164 phone id, e.g. +8613800000001")
    if (args.db is None) == (args.secret is None):
        raise ScenarioError("give the cloud's --db FILE (its secret is FILE.secret) or --secret")
    secret_path: Path = args.secret if args.secret is not None else Path(f"{args.db}.secret")
    secret, _ = load_secret(secret_path, create=False)
    out.write(DeviceTokens(secret).issue(args.id) + "\n")
    return 0


def add_serve_parser(commands: Any) -> None:
    """The ``serve`` command and its subcommands."""
    serve = commands.add_parser(
        "serve",
        help="run the cloud as a TCP/TLS server (field trials), manage its keys",
        description="Run the cloud as a real server (serve cloud), add a merchant's key "
        "(serve add-merchant), or print a phone's device token (serve token).",
    )
    parts = serve.add_subparsers(dest="serve_command", required=True, metavar="SUBCOMMAND")
    cloud = parts.add_parser(
        "cloud",
        help="serve the cloud on HOST:PORT with a durable store",
        description="Serve the cloud: authenticate POSes (merchant keys) and phones (device "
        "tokens), store every upload durably in --db before acknowledging it, push on time "
        "after restarts. Ctrl-C stops it cleanly.",
    )
    cloud.add_argument("--listen", required=True, metavar="HOST:PORT", help="where to listen")
    cloud.add_argument("--db", required=True, type=Path, metavar="FILE", help="the SQLite store")
    cloud.add_argument("--tls-cert", type=Path, metavar="F", help="TLS certificate chain (PEM)")
    cloud.add_argument("--tls-key", type=Path, metavar="F", help="TLS private key (PEM)")
    cloud.add_argument(
        "--merchant-keys",
        type=Path,
        metavar="FILE",
        help="the merchants' hashed keys (assocsim serve add-merchant writes it)",
    )
    cloud.add_argument("--trace", type=Path, metavar="FILE", help="write a JSON-lines trace")
    cloud.add_argument(
        "--secret", type=Path, metavar="FILE", help="device-token secret (default: DB.secret)"
    )
    cloud.add_argument(
        "--scenario",
        metavar="NAME_OR_PATH",
        help="take the cloud's settings (push timeout, mismatch policy, retries) from it",
    )
    cloud.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a knob"
    )
    cloud.add_argument(
        "--push-timeout", type=_duration, metavar="D", help="step 603's wait (default 10m)"
    )
    cloud.add_argument(
        "--mismatch-policy", choices=[str(p) for p in MismatchPolicy], help="step 505's policy"
    )
    cloud.add_argument(
        "--recommender",
        choices=("rules", "engine"),
        help="the pairing: the catalog's rules, or the engine that learns from every upload "
        "(relearned from the store at start; default: the scenario's, else rules)",
    )
    cloud.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"machine steps per hop to the store thread (default {DEFAULT_BATCH})",
    )
    add_time_options(cloud)
    add = parts.add_parser(
        "add-merchant",
        help="add a merchant's key to a keys file (prints a new key once)",
        description="Add MERCHANT to the keys file (created if missing), keeping only a salted "
        "hash of its key. Without --key a random key is made and printed once.",
    )
    add.add_argument("--merchant-keys", required=True, type=Path, metavar="FILE")
    add.add_argument("--merchant", required=True, metavar="ID")
    add.add_argument("--key", metavar="KEY", help="the key to use (default: a new random one)")
    token = parts.add_parser(
        "token",
        help="print a phone's device token (after verifying the phone out of band)",
        description="Print the device token of phone ID, from the cloud's secret (DB.secret).",
    )
    token.add_argument("--db", type=Path, metavar="FILE", help="the cloud's store (finds .secret)")
    token.add_argument("--secret", type=Path, metavar="FILE", help="the secret file itself")
    token.add_argument("--id", required=True, metavar="PHONE")


def add_time_options(parser: argparse.ArgumentParser) -> None:
    """``--verbose``, and the hidden options ``run --transport tcp`` gives every process."""
    parser.add_argument(
        "--verbose", action="store_true", help="log every connection and refusal on stderr"
    )
    parser.add_argument("--epoch", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--speed", type=_speed, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--status-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--wait-for-go", action="store_true", help=argparse.SUPPRESS)


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than 0, got {text!r}")
    return seconds


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not speed > 0 or speed == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return speed
