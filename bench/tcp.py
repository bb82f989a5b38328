"""Purchase flows per second over TCP: the actors against a hand-written raw-trio loop.

Run from the repository root::

    .venv/bin/python bench/tcp.py [--purchases N] [--phones M] [--pos P] [--repeat R]
                                  [--rates FLOWS_PER_S,...] [--duration S] [--tls]

As in a field trial, the server runs in a process of its own (started afresh for every
run, by this script with ``--serve``) and the checkouts and phones in this one, on the
real clock, over loopback TCP (or TLS with ``--tls``, throw-away certificates from
``trustme``). Both sides have the same topology: one server; P checkouts and M phones,
each with its own connection, as the TCP transport makes them.
A pull flow is: upload, upload-ack, receipt notice (relayed by the server to the phone),
notice-ack (relayed back), association request, association response, plus a subscription
and its acknowledgement on a phone's first purchase; the flow is done when the phone has
the response. The frames are those of docs/wire-format.md on both sides.

1. **Framework**: ``actors.serve_tcp`` with a ``CloudMachine`` actor (``InMemoryStore``,
   ``RuleRecommender``), ``actors.connect_tcp`` with ``PosMachine`` and ``PhoneMachine``
   actors (one ``TimerService``): validation of every message, the reliability layer's
   bookkeeping and the transport's checks included.
2. **Raw trio**: hand-written server and clients: one task reading each connection, one
   writing it (every frame ready at a wake-up coalesced into one ``send_all``), plain
   dicts and the stdlib's ``json`` (the framework's wire codec uses orjson, see
   ``protocol/_wire/``), no validation; the server computes the same associated products
   with the same ``RuleRecommender`` (on uploads built before the clock starts: the
   server process makes the same seeded plan).

Throughput: all N purchases are rung up at once; flows/s = N / time until the last phone
has its response; each figure the median of R runs, alternating the two sides, and the
ratio is the median of the per-repeat ratios (``>= 1.00x``: the framework is at least as
fast as the hand-written loop). Latency: purchases offered at fixed rates (``--rates``,
default 5,000, 2,000, 1,000, 500 and 200 flows/s, each for ``--duration`` s, spread over
the checkouts);
latency = the phone receiving the response minus the moment the purchase was due; p50 and
p99 over all flows, both sides. An offered load above what a process can carry shows as
latencies growing with the run: queueing, not transport delay; the lower rate shows the
latency of an unsaturated server.

Every run also prints the CPU time per flow of each side, from the moment every client
has connected to the last flow done: the server process's, and this one's (the clients').
They show which process bounds the throughput, and stay meaningful on a busy machine,
where wall-clock figures are not. At low loads they grow: each message then costs a
wake-up of its own, where a busy process handles many per wake-up.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import random
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors import (
    Actor,
    EventKind,
    TimerService,
    TraceEvent,
    connect_tcp,
    serve_tcp,
)
from protocol import (
    CLOUD,
    DEPARTMENTS,
    WIRE_VERSION,
    Checkout,
    CloudConfig,
    CloudMachine,
    InMemoryStore,
    Item,
    PhoneMachine,
    PhoneNote,
    PosMachine,
    PurchaseUpload,
    RetryPolicy,
    RuleRecommender,
    builtin_catalog,
    encode_message,
    phone_address,
    pos_address,
)
from scenarios import phone_id_of

HOST = "127.0.0.1"
_V = WIRE_VERSION  # the raw peers write the envelope by hand
_HEADER = struct.Struct(">I")

# TCP does not lose messages while a connection lasts: the outboxes' first re-send comes
# after 60 s instead of the simulations' 2 s, so that a backlog of thousands of flows is
# not sent twice (the raw loop never re-sends). Reconnections are not measured here.
RETRY = RetryPolicy(first_delay=60.0)


# --------------------------------------------------------------------------- workload


@attrs.frozen
class Plan:
    """The purchases of one run, for both sides."""

    purchases: int
    phones: int
    checkouts: tuple[tuple[Checkout, ...], ...]  # per POS, in time order
    uploads: dict[str, PurchaseUpload]  # receipt -> upload (the raw server's pairing input)
    due: dict[str, float]  # receipt -> seconds after the start when it is rung up


def _merchant(pos: int) -> str:
    return f"shop-{pos + 1:02d}"


def make_plan(purchases: int, phones: int, pos_count: int, rate: float | None, seed: int) -> Plan:
    """``purchases`` baskets of 1 to 4 products of one department, round-robin over the
    checkouts, to random phones; all due at once, or one every ``1/rate`` seconds."""
    rng = random.Random(seed)
    catalog = builtin_catalog()
    departments = sorted(DEPARTMENTS)
    baskets: list[tuple[Item, ...]] = []
    while len(baskets) < 256:
        categories = [c for c in DEPARTMENTS[rng.choice(departments)] if catalog.in_category(c)]
        chosen: dict[str, Item] = {}
        for _ in range(rng.randint(1, 4)):
            product = rng.choice(catalog.in_category(rng.choice(categories)))
            chosen[product.sku] = catalog.to_item(product, quantity=rng.randint(1, 3))
        baskets.append(tuple(chosen.values()))
    checkouts: list[list[Checkout]] = [[] for _ in range(pos_count)]
    uploads: dict[str, PurchaseUpload] = {}
    due: dict[str, float] = {}
    for n in range(purchases):
        at = 0.0 if rate is None else n / rate
        receipt = f"R{n + 1:07d}"
        pos = n % pos_count
        phone_id = phone_id_of(rng.randrange(phones))
        items = rng.choice(baskets)
        checkouts[pos].append(Checkout(at, receipt, phone_id, phone_address(phone_id), items))
        uploads[receipt] = PurchaseUpload(receipt, _merchant(pos), "pos-1", phone_id, items, at)
        due[receipt] = at
    return Plan(purchases, phones, tuple(tuple(c) for c in checkouts), uploads, due)


@attrs.frozen
class Run:
    seconds: float  # from the start to the last flow done
    latencies: tuple[float, ...]  # per flow: done - due, seconds
    client_cpu: float = 0.0  # CPU seconds of this process (the clients) during the flows
    server_cpu: float = 0.0  # CPU seconds of the server process from the start to the end

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


# --------------------------------------------------------------------------- framework


async def serve_framework(tls: ssl.SSLContext | None) -> None:
    """The server process of the framework side: the cloud actor behind ``serve_tcp``."""
    timers = TimerService()
    async with serve_tcp(HOST, 0, ssl_context=tls) as server, trio.open_nursery() as nursery:
        nursery.start_soon(timers.run)
        config = CloudConfig(retry=RETRY)
        cloud = CloudMachine(store=InMemoryStore(), recommender=RuleRecommender(), config=config)
        nursery.start_soon(Actor(cloud, server.open_endpoint(CLOUD), timers=timers).run)
        _ready(server.port)
        await _until_stdin_closes()
        nursery.cancel_scope.cancel()


async def run_framework(
    plan: Plan, port: int, tls: TlsPair | None, signal_start: Callable[[], None]
) -> Run:
    """The framework's checkouts and phones against the server process at ``port``."""
    done: dict[str, float] = {}
    finished = trio.Event()
    wanted = plan.purchases

    def on_phone(event: TraceEvent) -> None:
        note = event.note
        if event.kind is EventKind.NOTE and note is not None and note.kind == PhoneNote.SHOWN:
            assert note.receipt_id is not None
            done[note.receipt_id] = event.t
            if len(done) == wanted:
                finished.set()

    client_ctx = tls.client if tls is not None else None
    timers = TimerService()
    async with (
        connect_tcp(HOST, port, ssl_context=client_ctx) as client,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(timers.run)
        actors: list[Actor] = []
        for index in range(plan.phones):
            phone_id = phone_id_of(index)
            endpoint = client.open_endpoint(phone_address(phone_id))
            await endpoint.wait_connected()
            machine = PhoneMachine(phone_id, default_ask_delay=0.0, retry=RETRY)
            actors.append(Actor(machine, endpoint, observer=on_phone, timers=timers))
        for pos, checkouts in enumerate(plan.checkouts):
            merchant = _merchant(pos)
            endpoint = client.open_endpoint(pos_address(merchant, "pos-1"))
            await endpoint.wait_connected()
            machine_pos = PosMachine(merchant, "pos-1", checkouts, retry=RETRY)
            actors.append(Actor(machine_pos, endpoint, timers=timers))
        gc.collect()
        signal_start()
        cpu = time.process_time()
        start_clock = trio.current_time()
        start = time.perf_counter()
        for actor in actors:
            actor.prime(start_clock)  # every checkout is due relative to this instant
        for actor in actors:
            nursery.start_soon(actor.run)
        await finished.wait()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        nursery.cancel_scope.cancel()
    latencies = tuple(done[r] - (start_clock + plan.due[r]) for r in plan.due)
    return Run(seconds, latencies, client_cpu=cpu)


# --------------------------------------------------------------------------- raw trio


class RawLink:
    """One connection of the hand-written side: frames queued, then one ``send_all``."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.out: list[bytes] = []
        self.wake = trio.Event()
        self.next_id = 1
        self.address = ""

    def send(self, envelope: dict[str, Any]) -> None:
        envelope["id"] = self.next_id
        self.next_id += 1
        payload = json.dumps(envelope, separators=(",", ":")).encode()
        self.out.append(_HEADER.pack(len(payload)) + payload)
        if not self.wake.is_set():
            self.wake.set()

    async def writer(self) -> None:
        while True:
            await self.wake.wait()
            self.wake = trio.Event()
            data = b"".join(self.out)
            self.out.clear()
            await self.stream.send_all(data)

    async def reader(self, handle: Callable[[dict[str, Any]], None]) -> None:
        buffer = bytearray()
        while True:
            try:
                data = await self.stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return  # the peer went away (the run is over)
            if not data:
                return
            buffer += data
            start = 0
            while len(buffer) - start >= 4:
                (size,) = _HEADER.unpack_from(buffer, start)
                end = start + 4 + size
                if len(buffer) < end:
                    break
                handle(json.loads(buffer[start + 4 : end]))
                start = end
            del buffer[:start]


def _products(products: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "sku": p.sku,
            "name": p.name,
            "category": p.category,
            "brand": p.brand,
            "colour": p.colour,
            "price": p.price,
            "reason": p.reason.value,
            "score": p.score,
            "offer": p.offer,
        }
        for p in products
    ]


class RawServer:
    """The hand-written cloud and relay."""

    def __init__(self, plan: Plan) -> None:
        self.uploads = plan.uploads
        self.associate = RuleRecommender().associate
        self.links: dict[str, RawLink] = {}
        self.bindings: dict[str, str] = {}  # receipt -> phone id
        self.subscribed: set[str] = set()

    async def handler(self, stream: trio.abc.Stream) -> None:
        link = RawLink(stream)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.writer)
            await link.reader(lambda envelope: self.handle(link, envelope))
            nursery.cancel_scope.cancel()

    def handle(self, link: RawLink, envelope: dict[str, Any]) -> None:
        kind = envelope["type"]
        body = envelope["body"]
        if kind == "hello":
            link.address = body["address"]
            self.links[link.address] = link
            ack = {"version": _V, "address": link.address}
            link.send({"v": _V, "type": "hello-ack", "body": ack})
            return
        recipient = envelope["to"]
        if recipient != CLOUD:
            target = self.links.get(recipient)
            if target is not None:
                target.send({"v": _V, "from": link.address, "type": kind, "body": body})
            return
        if kind == "purchase-upload":
            receipt = body["receipt_id"]
            self.bindings[receipt] = body["phone_id"]
            reply = {"v": _V, "from": CLOUD, "type": "upload-ack", "body": {"receipt_id": receipt}}
        elif kind == "subscribe":
            self.subscribed.add(body["phone_id"])
            ack_body = {"phone_id": body["phone_id"], "device_token": None}
            reply = {"v": _V, "from": CLOUD, "type": "subscribe-ack", "body": ack_body}
        elif kind == "association-request":
            receipt = body["receipt_id"]
            phone = self.bindings.get(receipt)
            if phone is None or phone != body["phone_id"] or phone not in self.subscribed:
                return
            products = _products(self.associate(self.uploads[receipt], None, 5))
            answer = {"request_id": body["request_id"], "receipt_id": receipt, "products": products}
            reply = {"v": _V, "from": CLOUD, "type": "association-response", "body": answer}
        else:
            return
        link.send(reply)


class RawClients:
    """The hand-written checkouts and phones, one connection each."""

    def __init__(self, plan: Plan, port: int, tls: TlsPair | None) -> None:
        self.plan = plan
        self.port = port
        self.tls = tls
        self.done: dict[str, float] = {}
        self.finished = trio.Event()

    async def connect(self, address: str) -> RawLink:
        stream: trio.abc.Stream = await trio.open_tcp_stream(HOST, self.port)
        if self.tls is not None:
            stream = trio.SSLStream(stream, self.tls.client, server_hostname=HOST)
        link = RawLink(stream)
        link.address = address
        hello = {"version": _V, "address": address, "credential": ""}
        payload = json.dumps({"v": _V, "id": 1, "type": "hello", "body": hello}).encode()
        link.next_id = 2
        await stream.send_all(_HEADER.pack(len(payload)) + payload)
        header = await _receive_exactly(stream, 4)
        await _receive_exactly(stream, _HEADER.unpack(header)[0])  # the hello-ack
        return link

    async def phone(self, link: RawLink, task_status: trio.TaskStatus[None]) -> None:
        phone_id = link.address.removeprefix("phone:")
        state = {"subscribing": False, "subscribed": False, "next": 1}
        waiting: list[str] = []
        done, finished, wanted = self.done, self.finished, self.plan.purchases

        def ask(receipt: str) -> None:
            request = {"request_id": state["next"], "receipt_id": receipt, "phone_id": phone_id}
            state["next"] += 1
            link.send({"v": _V, "to": CLOUD, "type": "association-request", "body": request})

        def handle(envelope: dict[str, Any]) -> None:
            kind = envelope["type"]
            body = envelope["body"]
            if kind == "association-response":
                if body["receipt_id"] not in done:
                    done[body["receipt_id"]] = trio.current_time()
                    if len(done) == wanted:
                        finished.set()
            elif kind == "receipt-notice":
                ack = {"receipt_id": body["receipt_id"]}
                link.send({"v": _V, "to": envelope["from"], "type": "notice-ack", "body": ack})
                if not state["subscribing"]:
                    state["subscribing"] = True
                    sub = {"phone_id": phone_id}
                    link.send({"v": _V, "to": CLOUD, "type": "subscribe", "body": sub})
                if state["subscribed"]:
                    ask(body["receipt_id"])
                else:
                    waiting.append(body["receipt_id"])
            elif kind == "subscribe-ack":
                state["subscribed"] = True
                for receipt in waiting:
                    ask(receipt)
                waiting.clear()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.writer)
            task_status.started()
            await link.reader(handle)

    async def pos(
        self, link: RawLink, index: int, start: float, task_status: trio.TaskStatus[None]
    ) -> None:
        checkouts = self.plan.checkouts[index]
        merchant = _merchant(index)
        bodies = [encode_message(self.plan.uploads[c.receipt_id])["body"] for c in checkouts]
        awaiting: dict[str, tuple[str, float]] = {}

        def handle(envelope: dict[str, Any]) -> None:
            if envelope["type"] == "upload-ack":
                receipt = envelope["body"]["receipt_id"]
                buyer, at = awaiting.pop(receipt)
                notice = {"receipt_id": receipt, "merchant_id": merchant, "purchased_at": at}
                link.send({"v": _V, "to": buyer, "type": "receipt-notice", "body": notice})

        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.writer)
            nursery.start_soon(link.reader, handle)
            task_status.started()
            for checkout, body in zip(checkouts, bodies, strict=True):
                due = start + checkout.at
                if due > trio.current_time():
                    await trio.sleep_until(due)
                now = trio.current_time()
                awaiting[checkout.receipt_id] = (checkout.buyer, now - start)
                upload = {**body, "purchased_at": now - start}
                link.send({"v": _V, "to": CLOUD, "type": "purchase-upload", "body": upload})


async def _receive_exactly(stream: trio.abc.Stream, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = await stream.receive_some(size - len(data))
        if not chunk:
            raise ConnectionError("the raw server closed the connection")
        data += chunk
    return bytes(data)


async def serve_raw(plan: Plan, tls: ssl.SSLContext | None) -> None:
    """The server process of the raw side."""
    server = RawServer(plan)

    async def handler(stream: trio.SocketStream) -> None:
        wrapped: trio.abc.Stream = stream
        if tls is not None:
            wrapped = trio.SSLStream(stream, tls, server_side=True)
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await server.handler(wrapped)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(trio.serve_tcp, handler, 0)
        _ready(listeners[0].socket.getsockname()[1])
        await _until_stdin_closes()
        nursery.cancel_scope.cancel()


async def run_raw(
    plan: Plan, port: int, tls: TlsPair | None, signal_start: Callable[[], None]
) -> Run:
    """The raw checkouts and phones against the server process at ``port``."""
    clients = RawClients(plan, port, tls)
    phones = [await clients.connect(phone_address(phone_id_of(i))) for i in range(plan.phones)]
    poses = [
        await clients.connect(pos_address(_merchant(i), "pos-1"))
        for i in range(len(plan.checkouts))
    ]
    gc.collect()
    signal_start()
    cpu = time.process_time()
    start_clock = trio.current_time()
    start = time.perf_counter()
    async with trio.open_nursery() as parties:
        for link in phones:
            await parties.start(clients.phone, link)
        for index, link in enumerate(poses):
            await parties.start(clients.pos, link, index, start_clock)
        await clients.finished.wait()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        parties.cancel_scope.cancel()
    for link in (*phones, *poses):
        await trio.aclose_forcefully(link.stream)
    latencies = tuple(clients.done[r] - (start_clock + plan.due[r]) for r in plan.due)
    return Run(seconds, latencies, client_cpu=cpu)


# --------------------------------------------------------------------------- processes


def _ready(port: int) -> None:
    """Tell the parent the server listens (the first line of the server's stdout)."""
    print(port, flush=True)


async def _until_stdin_closes() -> None:
    """Serve until the parent closes our stdin (or dies), then tell it the CPU seconds
    spent since it wrote its first line, once every client had connected (the second
    line of stdout): the flows', not the connections' (nor TLS handshakes')."""
    read_line = sys.stdin.buffer.readline
    await trio.to_thread.run_sync(read_line, abandon_on_cancel=True)
    started = time.process_time()
    await trio.to_thread.run_sync(sys.stdin.buffer.read, abandon_on_cancel=True)
    print(time.process_time() - started, flush=True)


class ServerProcess:
    """This script as the ``side`` server in a process of its own."""

    def __init__(self, side: str, plan_args: Sequence[str], tls: TlsPair | None) -> None:
        command = [sys.executable, __file__, "--serve", side, *plan_args]
        if tls is not None:
            command += ["--tls-cert", str(tls.cert_file)]
        self.side = side
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(
                f"the {side} server process did not start (exit {self.process.wait()})"
            )
        self.port = int(line)

    def signal_start(self) -> None:
        """The clients are connected: the server's CPU count starts now."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"start\n")
        self.process.stdin.flush()

    def stop(self) -> float:
        """Stop the server; the CPU seconds it spent serving."""
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        line = process.stdout.readline()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if not line:
            raise SystemExit(f"the {self.side} server process failed (exit {process.returncode})")
        return float(line)


def measure(side: str, plan: Plan, plan_args: Sequence[str], tls: TlsPair | None) -> Run:
    """One run: a fresh server process of ``side``, this process's clients against it."""
    runner = run_framework if side == "framework" else run_raw
    server = ServerProcess(side, plan_args, tls)
    try:
        result = trio.run(runner, plan, server.port, tls, server.signal_start)
    finally:
        server_cpu = server.stop()
    return attrs.evolve(result, server_cpu=server_cpu)


# --------------------------------------------------------------------------- main


@attrs.frozen
class TlsPair:
    client: ssl.SSLContext
    cert_file: Path  # the server's key and certificate chain (PEM), for its process


def make_tls(directory: Path) -> TlsPair:
    import trustme  # noqa: PLC0415 (a test dependency: only --tls needs it)

    ca = trustme.CA()
    cert_file = directory / "server.pem"
    ca.issue_cert(HOST).private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return TlsPair(client, cert_file)


def server_context(cert_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file)
    return context


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _plan_args(purchases: int, args: argparse.Namespace, rate: float | None) -> list[str]:
    """The server process's arguments that make the same plan as this process."""
    return [
        "--purchases", str(purchases), "--phones", str(args.phones), "--pos", str(args.pos),
        "--seed", str(args.seed), "--plan-rate", "none" if rate is None else repr(rate),
    ]  # fmt: skip


def serve_main(args: argparse.Namespace) -> int:
    """``--serve SIDE``: the server process of one run."""
    rate = None if args.plan_rate == "none" else float(args.plan_rate)
    tls = server_context(args.tls_cert) if args.tls_cert is not None else None
    if args.serve == "framework":
        trio.run(serve_framework, tls)
    else:
        plan = make_plan(args.purchases, args.phones, args.pos, rate, args.seed)
        trio.run(serve_raw, plan, tls)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=10_000)
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--pos", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rates",
        default="5000,2000,1000,500,200",
        help="offered loads for the latency runs, flows/s, comma-separated "
        "(default 5000,2000,1000,500,200)",
    )
    parser.add_argument("--duration", type=float, default=2.0, help="seconds of offered load")
    parser.add_argument("--tls", action="store_true", help="TLS on both sides")
    parser.add_argument("--seed", type=int, default=7)
    # The server process's own arguments (this script starts it; not for people).
    parser.add_argument("--serve", choices=("framework", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--plan-rate", default="none", help=argparse.SUPPRESS)
    parser.add_argument("--tls-cert", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        return serve_main(args)
    with tempfile.TemporaryDirectory() as directory:
        tls = make_tls(Path(directory)) if args.tls else None
        run_all(args, tls)
    return 0


def run_all(args: argparse.Namespace, tls: TlsPair | None) -> None:
    print(
        f"bench/tcp.py: python {platform.python_version()}, trio {trio.__version__}, "
        f"{os.cpu_count()} cpus, {'TLS' if tls else 'plain TCP'} on loopback, "
        f"{args.pos} checkouts + {args.phones} phones (one connection each) in this "
        "process, the server in its own"
    )

    throughput = make_plan(args.purchases, args.phones, args.pos, None, args.seed)
    plan_args = _plan_args(args.purchases, args, None)
    runs: dict[str, list[Run]] = {"framework": [], "raw": []}
    ratios: list[float] = []
    for repeat in range(args.repeat):
        order = ["raw", "framework"]
        if repeat % 2:
            order.reverse()
        for side in order:
            runs[side].append(measure(side, throughput, plan_args, tls))
        framework, raw = runs["framework"][-1], runs["raw"][-1]
        ratios.append(framework.rate / raw.rate)
        print(
            f"  repeat {repeat + 1}: framework {framework.rate:,.0f} flows/s, "
            f"raw {raw.rate:,.0f} flows/s"
        )
    print(f"\nthroughput, {args.purchases:,} purchases at once (median of {args.repeat}):")
    print("                               flows/s    CPU per flow: server  clients")
    for side, label in (
        ("framework", "framework (actors over TCP)"),
        ("raw", "raw trio (coalesced)"),
    ):
        done = runs[side]
        flows = args.purchases
        print(
            f"  {label:<27} {statistics.median(r.rate for r in done):>9,.0f}"
            f"    {statistics.median(r.server_cpu for r in done) / flows * 1e6:>14,.0f} us"
            f" {statistics.median(r.client_cpu for r in done) / flows * 1e6:>6,.0f} us"
        )
    print(f"  ratio framework / raw       {statistics.median(ratios):>9.2f}x   (target >= 1.0)")

    print(
        f"\nlatency, each load offered for {args.duration:g} s (p99 target: < 5 ms at 5,000 "
        "flows/s):\n  offered/s  side          p50 ms    p99 ms    max ms  achieved/s"
        "   CPU per flow: server  clients"
    )
    within: dict[str, list[float]] = {"framework": [], "raw": []}
    for rate in sorted((float(r) for r in args.rates.split(",")), reverse=True):
        offered = round(rate * args.duration)
        steady = make_plan(offered, args.phones, args.pos, rate, args.seed)
        for side in ("framework", "raw"):
            result = measure(side, steady, _plan_args(offered, args, rate), tls)
            ms = [latency * 1000 for latency in result.latencies]
            p99 = percentile(ms, 0.99)
            if p99 < 5.0:
                within[side].append(rate)
            print(
                f"  {f'{rate:,.0f}' if side == 'framework' else '':>9}  {side:<10} "
                f"{percentile(ms, 0.50):>9.2f} {p99:>9.2f} {max(ms):>9.2f} "
                f"{len(ms) / result.seconds:>11,.0f}"
                f"   {result.server_cpu / offered * 1e6:>14,.0f} us"
                f" {result.client_cpu / offered * 1e6:>5,.0f} us"
            )
    best = {
        side: f"{max(rates):,.0f} flows/s" if rates else "none of those offered"
        for side, rates in within.items()
    }
    print(
        f"  highest load offered with p99 < 5 ms: framework {best['framework']}, raw {best['raw']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
