"""What the field-trial processes (``assocsim serve cloud``, ``pos``, ``phone``) share.

* **Time.** Machines keep running in *virtual* seconds, as in a simulation; a
  :class:`Timebase` maps them to the process's trio clock: virtual ``t`` is
  ``(wall clock - epoch) * speed``. A field trial runs at ``speed`` 1 with ``epoch`` 0, so
  virtual time is Unix time and the traces of processes on different hosts merge by it;
  ``assocsim run --transport tcp`` compresses a scenario's day with a larger speed and one
  epoch for every process. :class:`TimeWarp` wraps a machine so that it sees virtual time
  while its actor, the timers and the TCP transport (timeouts, backoff) stay in real time.
* **The cloud's store thread.** SQLite calls block (an fsync per write with
  ``durable=True``), so the cloud machine runs in one dedicated thread
  (:class:`StoreThread`): every step is serialized there, in order, and the trio loop that
  serves the connections never waits on the disk. :class:`CloudDriver` is the cloud's
  actor: it hands batches of messages and fired timers to that thread and carries out the
  effects, observed and traced exactly as an :class:`~actors.Actor` does.
* Small things every command needs: ``HOST:PORT`` parsing, TLS contexts, files of keys,
  secrets and tokens written privately, status files, signals.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ipaddress
import json
import logging
import math
import os
import signal
import socket
import ssl
import stat
import sys
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final, NamedTuple, TypeVar

import attrs
import trio

from actors import (
    EffectsInterpreter,
    Endpoint,
    Envelope,
    EventKind,
    HelloRefused,
    JsonlTraceWriter,
    Observer,
    TcpLocalEndpoint,
    TimerService,
    TraceEvent,
    TraceLimitError,
    durable_state,
    run_step,
)
from protocol import (
    CLOUD,
    Address,
    AssocsimError,
    Effects,
    Machine,
    Message,
    StepTransactions,
    SubscribeAck,
    Timer,
)
from scenarios._model._errors import ScenarioError

__all__ = [
    "DEFAULT_TRACE_MAX_BYTES",
    "MIN_TRACE_MAX_BYTES",
    "CloudDriver",
    "StopFlag",
    "StoreThread",
    "TimeWarp",
    "Timebase",
    "client_ssl_context",
    "configure_logging",
    "open_trace",
    "parse_endpoint",
    "read_private",
    "refuse_shared_files",
    "run_trio",
    "same_file",
    "server_ssl_context",
    "stderr_line",
    "warn_if_in_the_clear",
    "warn_if_open",
    "watch_signals",
    "write_private",
    "write_status",
]

T = TypeVar("T")

FIELD_TRACE: Final = "tcp"
"""The ``transport`` a field process writes into its trace header."""


# ------------------------------------------------------------------ arguments


def parse_endpoint(text: str, *, what: str = "address") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:7700`` for IPv6) -> ``(host, port)``; ScenarioError if not."""
    host, colon, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port_text.isdigit():
        raise ScenarioError(f"{what} {text!r}: expected HOST:PORT, e.g. 127.0.0.1:7700")
    port = int(port_text)
    if port > 65535:
        raise ScenarioError(f"{what} {text!r}: the port must be 0 to 65535")
    return host, port


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS server context with ``cert`` (chain, PEM) and its private ``key``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    for what, path, begins in (
        ("--tls-cert", cert, "-----BEGIN CERTIFICATE-----"),
        ("--tls-key", key, "PRIVATE KEY-----"),
    ):
        # which file is wrong, in words: OpenSSL says "PEM lib" of either, and the
        # missing one's name is lost on the way ("cannot read None")
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise ScenarioError(f"cannot read {what} {path}: no such file") from None
        except OSError as exc:
            raise ScenarioError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
        if begins.encode() not in pem:
            expected = "PEM certificate" if what == "--tls-cert" else "PEM private key"
            raise ScenarioError(f"{what} {path} holds no {expected} (no '{begins}' line)")
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        if isinstance(exc, ssl.SSLError) and exc.reason == "KEY_VALUES_MISMATCH":
            raise ScenarioError(
                f"--tls-key {key} is not the private key of --tls-cert {cert}'s certificate"
            ) from None
        raise ScenarioError(
            f"cannot use --tls-cert {cert} with --tls-key {key}: {_reason(exc)} "
            "(expected a PEM certificate chain and its PEM private key)"
        ) from None
    warn_if_open(key, "--tls-key")
    return context


def client_ssl_context(ca: Path | None) -> ssl.SSLContext:
    """A TLS client context trusting only ``ca`` (PEM), or the system's CAs when None; it
    checks the certificate and the host name either way."""
    if ca is None:
        return ssl.create_default_context()
    try:
        # cafile: the given CA instead of the system's, not beside them (a pin)
        return ssl.create_default_context(cafile=ca)
    except FileNotFoundError:
        raise ScenarioError(f"cannot read --tls-ca {ca}: no such file") from None
    except (OSError, ssl.SSLError) as exc:
        raise ScenarioError(
            f"cannot use --tls-ca {ca}: {_reason(exc)} (expected PEM CA certificates)"
        ) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def is_loopback(host: str, port: int) -> bool:
    """Whether every address ``host`` names is a loopback one (``0.0.0.0``, ``::`` and an
    empty host listen on every interface: not loopback). A name that does not resolve
    counts as loopback: the caller's connect or bind tells that error itself."""
    if not host:
        return False
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return True
    return all(ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
               for *_, address in found)  # fmt: skip


def warn_if_in_the_clear(host: str, port: int, carried: str, remedy: str) -> None:
    """One warning line when plain TCP (no TLS) would carry ``carried`` (merchant keys,
    device tokens: they travel in the hello) off this host (docs/security.md, *Limits*)."""
    if not is_loopback(host, port):
        stderr_line(
            f"warning: plain TCP on {host}:{port}, not a loopback address: {carried} cross "
            f"the network in the clear; {remedy}"
        )


# ------------------------------------------------------------------ private files


def refuse_shared_files(
    outputs: Sequence[tuple[str, Path | None]], inputs: Sequence[tuple[str, Path | None]] = ()
) -> None:
    """ScenarioError (one line) if a file the process writes is also another of its files
    (by path, link or hard link): a trace moved aside or written over a store, a token
    file, a sales file loses it silently. Two inputs may be one file (a PEM holding both
    the certificate and its key)."""
    named = [(name, path, True) for name, path in outputs if path is not None]
    named += [(name, path, False) for name, path in inputs if path is not None]
    for index, (name, path, written) in enumerate(named):
        for other, other_path, other_written in named[index + 1 :]:
            if (written or other_written) and same_file(path, other_path):
                raise ScenarioError(
                    f"{name} {path} and {other} {other_path} are the same file: give each "
                    "its own (one would be written over the other)"
                )


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path once resolved, or (both there)
    the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is not there yet
        return False


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), atomically."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise ScenarioError(f"cannot write {path}: {exc.strerror or exc}") from None


def read_private(path: Path, what: str) -> str:
    """The text of ``path``; ScenarioError naming ``what`` if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"cannot read {what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ScenarioError(f"cannot read {what} {path}: {reason}") from None


def warn_if_open(path: Path, what: str) -> None:
    """One warning line if group or other have any access to ``path`` (as ssh says of a
    private key): a secret anyone on the host may read is no secret. Called once the file
    is found good and is used (a refused one gets its one error line only); nothing if
    it is not there."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if is_open(mode):
        stderr_line(
            f"warning: {what} {path} is open to group/other (mode {mode:04o}): others on this "
            f"host may read it; chmod 600 {path}"
        )


def is_open(mode: int) -> bool:
    """Whether a file of permission bits ``mode`` is open to its group or to others."""
    return bool(mode & 0o077)


def write_status(path: Path | None, status: dict[str, Any]) -> None:
    """Replace the JSON status file at ``path`` (for ``run --transport tcp``); best effort."""
    if path is None:
        return
    partial = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(OSError):
        partial.write_text(json.dumps(status), encoding="utf-8")
        os.replace(partial, path)


def open_trace(
    path: Path | None, header: dict[str, Any], *, max_bytes: int | None = None
) -> tuple[IO[str] | None, Observer | None]:
    """The trace file at ``path`` with its header written, and its writer (or Nones);
    ``max_bytes`` bounds it (see :class:`~actors.JsonlTraceWriter`).

    Device tokens never reach a trace: a ``subscribe-ack`` is written with its token
    replaced by :data:`REDACTED`.
    """
    if path is None:
        return None, None
    try:
        # A process started again on its trace (after a kill -9, by the same command) must
        # not erase the record of what came before: check would judge half a run.
        _keep_earlier_trace(path)
        # Created readable by its owner only: a trace names every phone and basket. An
        # existing empty file is written over and made 0600 too.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        file = os.fdopen(descriptor, "w", encoding="utf-8", buffering=TRACE_BUFFER_BYTES)
    except OSError as exc:
        raise ScenarioError(f"cannot write trace {path}: {exc.strerror}") from None
    try:
        writer = JsonlTraceWriter(file, header, max_bytes=max_bytes)
    except TraceLimitError as exc:
        file.close()
        raise ScenarioError(f"trace {path}: {exc}") from None

    def write(event: TraceEvent) -> None:
        message = event.message
        if isinstance(message, SubscribeAck) and message.device_token is not None:
            event = event._replace(message=attrs.evolve(message, device_token=REDACTED))
        writer(event)

    return file, write


def _keep_earlier_trace(path: Path) -> None:
    """Move a non-empty regular file at ``path`` aside, to the first free ``STEM.N.SUFFIX``
    (``cloud.jsonl`` -> ``cloud.1.jsonl``, ``cloud.2.jsonl``, ...), saying so on stderr.
    Anything else (a directory, a device, a pipe) is left for the opening to judge."""
    try:
        status = path.stat()
    except OSError:
        return
    if not stat.S_ISREG(status.st_mode) or status.st_size == 0:
        return
    number = 1
    while (kept := path.with_name(f"{path.stem}.{number}{path.suffix}")).exists():
        number += 1
    os.rename(path, kept)
    stderr_line(f"{path} held an earlier trace: kept as {kept} (check the files together)")


DEFAULT_TRACE_MAX_BYTES: Final = 1024**3
"""A field process's trace bound unless told (1 GiB): a flood grew the cloud's trace by
370 MB a minute (issue 14), so an unbounded default lets any enrolled phone fill the
cloud's disk, and a flooding cloud a till's or a phone's; a real trial writes far less
(docs/cli.md). Past it, a gap record and nothing more."""

MIN_TRACE_MAX_BYTES: Final = 64 * 1024
"""The smallest bound ``--trace-max-bytes`` takes: room for the header and the gap record."""

TRACE_BUFFER_BYTES: Final = 64 * 1024
"""A trace file's write buffer: the most of a trace held in memory. When it is full the
event's writer writes it out, in the producer's own step (see JsonlTraceWriter)."""

REDACTED: Final = "redacted"
"""What a trace shows in place of a device token."""


# ------------------------------------------------------------------ time


class Timebase:
    """Virtual seconds ``(wall clock - epoch) * speed`` on top of the trio clock.

    Create it inside ``trio.run``: it reads the offset between the wall clock and trio's
    clock once, so virtual time is monotonic in the process and agrees across processes
    (of one host exactly, of several as well as their clocks agree).
    """

    def __init__(self, *, epoch: float = 0.0, speed: float = 1.0) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ScenarioError(f"--speed must be a number > 0, got {speed!r}")
        self.epoch = epoch
        self.speed = speed
        self._offset = time.time() - trio.current_time()

    def virtual(self, now: float) -> float:
        """The virtual time at trio time ``now``."""
        return (now + self._offset - self.epoch) * self.speed

    def real(self, virtual: float) -> float:
        """The trio time at which virtual time reaches ``virtual``."""
        return virtual / self.speed + self.epoch - self._offset

    def now(self) -> float:
        """The virtual time now."""
        return self.virtual(trio.current_time())

    def observer(self, observer: Observer | None) -> Observer | None:
        """``observer`` seeing every event at its virtual time."""
        if observer is None:
            return None
        virtual = self.virtual

        def observe(event: TraceEvent) -> None:
            observer(event._replace(t=virtual(event.t)))

        return observe


class TimeWarp:
    """A :class:`~protocol.Machine` that lives in a :class:`Timebase`'s virtual time.

    Its driver passes trio times; the wrapped machine sees virtual ones, and its timers'
    virtual deadlines come back as trio times. ``start_at``: the virtual time the first
    start reports (a scenario's POS starts at its day's 0 even if its process is late; its
    checkouts then keep their virtual times).
    """

    def __init__(self, machine: Machine, timebase: Timebase, *, start_at: float | None = None):
        self.machine = machine
        self.timebase = timebase
        self._start_at = start_at

    def start(self, now: float) -> Effects:
        virtual = self.timebase.virtual(now)
        if self._start_at is not None:
            virtual, self._start_at = self._start_at, None
        return self._real(self.machine.start(virtual))

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        return self._real(self.machine.handle(message, sender, self.timebase.virtual(now)))

    def timer_fired(self, key: object, now: float) -> Effects:
        return self._real(self.machine.timer_fired(key, self.timebase.virtual(now)))

    def _real(self, effects: Effects) -> Effects:
        if not effects.timers:
            return effects
        real = self.timebase.real
        timers = tuple(Timer(real(timer.at), timer.key) for timer in effects.timers)
        return Effects(effects.sends, timers, effects.notes, effects.cancels)


# ------------------------------------------------------------------ signals


class StopFlag:
    """Set by a signal (see :func:`watch_signals`); a process's main task waits on it."""

    def __init__(self) -> None:
        self.event = trio.Event()
        self.signal: str | None = None

    def __call__(self, name: str) -> None:
        if self.signal is None:
            self.signal = name
        self.event.set()

    @property
    def is_set(self) -> bool:
        return self.event.is_set()


async def watch_signals(
    stop: Callable[[str], None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Until cancelled: call ``stop(name)`` on SIGINT or SIGTERM instead of raising
    KeyboardInterrupt, so the process finishes its in-flight work and exits cleanly."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for number in signals:
            stop(signal.Signals(number).name)


def configure_logging(verbose: bool) -> None:
    """The transport's log (``actors.tcp``: connections, refusals) on stderr with
    ``--verbose``; otherwise silent, the processes saying what matters themselves."""
    logger = logging.getLogger("actors")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("assocsim: %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    else:
        logger.addHandler(logging.NullHandler())
    logger.propagate = False


def run_trio(
    main: Callable[[], Awaitable[int]],
    *,
    on_refused: Callable[[HelloRefused], ScenarioError] | None = None,
) -> int:
    """``trio.run(main)``, with the assocsim error inside the nurseries' exception groups
    raised alone (``main`` then prints it as one line on stderr, exit 2): a refused hello
    (through ``on_refused``), a ScenarioError, a StoreError, or a stream error the
    transport let through."""
    try:
        return trio.run(main)
    except BaseExceptionGroup as group:
        leaves = list(_leaves(group))
        for leaf in leaves:
            if isinstance(leaf, HelloRefused) and on_refused is not None:
                raise on_refused(leaf) from None
        for leaf in leaves:
            if isinstance(leaf, AssocsimError):
                raise leaf from None
        for leaf in leaves:
            if isinstance(leaf, trio.BrokenResourceError | trio.ClosedResourceError | OSError):
                cause = leaf.__cause__ or leaf
                raise ScenarioError(f"a connection failed: {cause!r}") from None
        raise
    except HelloRefused as exc:
        if on_refused is None:
            raise
        raise on_refused(exc) from None


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def stderr_line(text: str) -> None:
    """One line on stderr, flushed: the processes' progress and warnings."""
    sys.stderr.write(f"assocsim: {text}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------ the store thread


class StoreThread:
    """One dedicated thread where every call runs, in submission order.

    SQLite connections belong to the thread that opened them, and the cloud's steps must
    stay serialized: so the store is opened, used and closed in this one thread, and the
    trio loop awaits each call without blocking. A call in progress is never abandoned:
    cancelling the waiting task still lets the call finish (its result is dropped).
    """

    def __init__(self, name: str = "assocsim-store") -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=name)
        self.calls = 0

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` in the thread and return its result (or raise its error)."""
        self.calls += 1
        future = self._pool.submit(function, *args)
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()

        def wake(_: concurrent.futures.Future[T]) -> None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(done.set)

        future.add_done_callback(wake)
        with trio.CancelScope(shield=True):  # the call runs to its end anyway: wait for it
            await done.wait()
        return future.result()

    def close(self) -> None:
        """Wait for the calls submitted, then stop the thread."""
        self._pool.shutdown(wait=True)


# ------------------------------------------------------------------ the cloud's actor


class _Work(NamedTuple):
    kind: str  # "start", "message" or "timer"
    envelope: Envelope | None = None
    key: Hashable = None
    seq: int = -1  # a timer's entry: it fires only if still the armed one for its key


class CloudDriver:
    """The cloud's actor in a server process: its machine steps run in a StoreThread.

    Messages from ``endpoint`` (taken when a batch is made, one at most ahead: the rest wait
    in the endpoint's bounded mailbox, which serves connections in turn and stops reading
    those that fill their share) and the
    machine's due timers wait in two queues; the driver takes up to ``batch`` of them at a
    time, both kinds in each batch (so that after a restart new uploads are served between
    bounded batches of the pushes that fell due while down), runs them through the machine
    in the store thread (one thread hop per batch: the steps stay in order, each one a
    transaction of ``store`` committed before the next begins, see
    :func:`~actors.run_step`), then carries out their effects with an
    :class:`~actors.Actor`'s :class:`~actors.EffectsInterpreter` (a timer due already joins
    the due queue). So an ``upload-ack`` leaves only after its binding is committed, and a
    kill -9 leaves every step whole or absent. ``store``: the machine's durable state (default: its
    ``store`` attribute, if any). :meth:`run` returns when :meth:`stop` was called and the
    batch in progress is finished.

    ``flush`` (the trace file's) is called at the end of each batch, once its messages are
    handed to the transport and before any of them is written to a socket (the transport
    writes them once this task yields): a message that left the cloud is in its trace,
    whenever a kill -9 comes.
    """

    def __init__(
        self,
        machine: Machine,
        endpoint: Endpoint,
        thread: StoreThread,
        *,
        observer: Observer | None = None,
        batch: int = 64,
        store: StepTransactions | None = None,
        flush: Callable[[], None] | None = None,
    ) -> None:
        if batch < 1:
            raise ScenarioError(f"--batch must be at least 1, got {batch}")
        self.machine = machine
        self.store = store if store is not None else durable_state(machine)
        self.endpoint = endpoint
        self.thread = thread
        self.batch = batch
        self._observe = observer
        self._flush = flush
        self._timers = TimerService()
        self._messages: collections.deque[Envelope] = collections.deque()  # one at most
        self._due: collections.deque[_Work] = collections.deque()  # one per armed timer at most
        self._work_ready = trio.Event()
        self._room = trio.Event()
        self._pump_receiving = False
        self._effects = EffectsInterpreter(
            CLOUD, endpoint.send, self._timers, self, self._queue_due, observer=observer
        )
        self._stopping = trio.Event()
        self.steps = 0
        self.batches = 0

    @property
    def pending_timers(self) -> int:
        """Timers armed and not yet fired (push deadlines, push re-sends)."""
        return len(self._effects.armed)

    @property
    def backlog(self) -> int:
        """Messages and fired timers waiting for the machine (in the driver and, for a TCP
        server's endpoint, in its mailbox)."""
        waiting = self.endpoint.queued if isinstance(self.endpoint, TcpLocalEndpoint) else 0
        return len(self._messages) + len(self._due) + waiting

    def stop(self) -> None:
        """Finish the batch in progress, then make :meth:`run` return."""
        self._stopping.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._timers.run)
            nursery.start_soon(self._pump)
            await self._step([_Work("start")])
            task_status.started()
            nursery.start_soon(self._loop)
            await self._stopping.wait()
            nursery.cancel_scope.cancel()  # _step is shielded: the batch in progress ends

    async def _pump(self) -> None:
        """Wake the loop when a message arrives: it holds one message at most, so that each
        batch is made from the endpoint's mailbox as it is then (every connection in
        turn), not from what arrived before the batch in progress."""
        receive = self.endpoint.receive
        messages = self._messages
        while True:
            while messages:
                self._room = trio.Event()
                await self._room.wait()
            # While it waits, a message that arrives may be handed to it alone (a trio
            # channel's receive): the loop must not take a later one first.
            self._pump_receiving = True
            envelope = await receive()
            self._pump_receiving = False
            messages.append(envelope)
            self._work_ready.set()

    async def _loop(self) -> None:
        while True:
            work = self._take()
            if work:
                await self._step(work)
            elif not self._messages and not self._due:
                self._work_ready = trio.Event()
                await self._work_ready.wait()

    def _take(self) -> list[_Work]:
        """The next batch: messages first, up to half of it, then fired timers, then more
        messages if room is left. Neither kind waits behind all of the other."""
        due = self._due
        batch = self.batch
        work: list[_Work] = []
        while len(work) < max(1, batch // 2) and (envelope := self._next_message()):
            work.append(_Work("message", envelope))
        while due and len(work) < batch:
            item = due.popleft()
            if self._effects.take(item.key, item.seq):  # still the armed one for its key
                work.append(item)
        while len(work) < batch and (envelope := self._next_message()):
            work.append(_Work("message", envelope))
        self._room.set()
        return work

    def _next_message(self) -> Envelope | None:
        """The oldest message not yet taken: the pump's, else the endpoint's next."""
        if self._messages:
            return self._messages.popleft()
        if self._pump_receiving:  # the next one is the pump's: it comes as the pump wakes
            return None
        try:
            return self.endpoint.receive_nowait()
        except trio.WouldBlock:
            return None

    async def _step(self, work: list[_Work]) -> None:
        with trio.CancelScope(shield=True):
            now = trio.current_time()
            results = await self.thread.call(self._in_thread, work, now)
            self.batches += 1
            self.steps += len(work)
            for item, effects in zip(work, results, strict=True):
                self._observe_input(item, now)
                self._effects.apply(effects, now)
            if self._flush is not None:  # no await since the sends: none is on the wire yet
                self._flush()

    def _in_thread(self, work: list[_Work], now: float) -> list[Effects]:
        machine = self.machine
        store = self.store
        out: list[Effects] = []
        for item in work:
            if item.kind == "message":
                envelope = item.envelope
                assert envelope is not None
                out.append(run_step(store, machine.handle, envelope.message, envelope.sender, now))
            elif item.kind == "timer":
                out.append(run_step(store, machine.timer_fired, item.key, now))
            else:
                out.append(run_step(store, machine.start, now))
        return out

    def _observe_input(self, item: _Work, now: float) -> None:
        observe = self._observe
        if observe is None:
            return
        if item.kind == "message":
            envelope = item.envelope
            assert envelope is not None
            observe(TraceEvent(now, EventKind.RECEIVE, envelope.sender, CLOUD, envelope.message))
        elif item.kind == "timer":
            observe(TraceEvent(now, EventKind.TIMER, CLOUD, CLOUD, detail=item.key))

    def _queue_due(self, entry: tuple[Hashable, int]) -> None:
        """A timer armed for a time already reached: it fires after what is queued."""
        key, seq = entry
        self._due.append(_Work("timer", key=key, seq=seq))
        self._work_ready.set()

    # TimerOwner, for the TimerService

    def holds_timer(self, key: Hashable, seq: int) -> bool:
        return self._effects.holds(key, seq)

    def timer_due(self, key: Hashable, seq: int, now: float) -> None:
        if self._effects.holds(key, seq):  # taken (disarmed) when its step runs
            self._due.append(_Work("timer", key=key, seq=seq))
            self._work_ready.set()
