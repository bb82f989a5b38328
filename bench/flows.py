"""Flows per second of the assocsim framework against hand-written trio loops, same run.

Run from the repository root::

    .venv/bin/python bench/flows.py [--purchases N] [--phones M] [--repeat R] [--diagnose]

What it measures (each figure is the median of R repeats; within a repeat every case's
variants run back to back, so that noise on the shared machine hits them alike):

1. **Framework pull flows/s**: an ``actors.World`` with 1 cloud (``CloudMachine``,
   ``InMemoryStore``, ``RuleRecommender``), 10 POS (``PosMachine`` with a schedule of
   ``Checkout`` values) and M phones (``PhoneMachine`` asking at once: ``ask_plan`` delay
   0.0), with ``scenarios.ReportBuilder`` observing every event (validation and tracing
   included), under ``trio.testing.MockClock(autojump_threshold=0)`` and
   ``actors.deterministic_scheduling(seed)``, in both schedulings of the world:
   ``inline`` (one task drives every actor; what ``assocsim run`` uses) and ``tasks`` (a
   trio task per actor over memory channels). A pull flow is upload, ack, receipt notice,
   request, response (plus subscribe and its ack on a phone's first purchase); flows are
   the responses the report counts, and the report must say ``lost == 0`` and
   ``duplicates == 0``. Two cases: N purchases all at t=0, and ``--spread-purchases``
   (default N/10) spread uniformly over ``--duration`` of virtual time, each at its own
   virtual instant. That case costs per instant, not per message, so its flows/s hardly
   depend on how many purchases it has. The time is that of ``trio.run(World.run)``.
2. **Raw trio**: 1 cloud task, 10 POS tasks, M phone tasks, unbounded memory channels,
   messages as plain tuples, a dict of bindings at the cloud, the same messages, no
   validation, no tracing, same MockClock, trio's own scheduling; the cloud computes the
   same associated products with the same ``RuleRecommender`` (on uploads built before the
   clock starts). Two variants: ``raw-await`` (``await channel.send(...)`` per message, as
   a straightforward program would) and ``raw-nowait`` (``send_nowait``, the stronger one).
   Both sides are also run with a fixed answer instead of the pairing ("without pairing"),
   which isolates the cost of the actors, validation and tracing.
3. **Ratios** framework / raw: the median of the per-repeat ratios of flows/s.
   ``>= 1.00x`` means the framework is at least as fast as that hand-written loop.
4. **Push flows**: the same worlds where phones never ask (``ask_plan`` None) and the cloud
   pushes ``--push-timeout`` after each upload: upload, ack, notice, push (plus the
   subscription). The raw loop gives the cloud one timer task over a heap of deadlines,
   sleeping in a cancel scope whose deadline the cloud task moves earlier when needed.
5. **Memory per idle party**: with ``tracemalloc``, the bytes allocated per phone actor
   (``PhoneMachine`` + ``Actor`` + ``MemoryEndpoint``, started as ``World.run`` does and
   blocked on receive; and under inline scheduling, where an actor has no task), net of an
   empty world, against a raw trio task blocked on the receive of its own memory channel.

How to read it: the machine is shared and noisy, so absolute flows/s move from run to run;
compare the ratios. ``--diagnose`` adds "bare": the tasks scheduling with a fixed answer,
no observer and trio's own scheduling (the actors and message validation alone).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import heapq
import math
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import trio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors import Observer, Scheduling, World, deterministic_scheduling
from protocol import (
    CLOUD,
    DEPARTMENTS,
    AssociatedProduct,
    Checkout,
    CloudConfig,
    CloudMachine,
    InMemoryStore,
    Item,
    PhoneMachine,
    PosMachine,
    Promotions,
    PurchaseUpload,
    Reason,
    ReceiptKey,
    Recommender,
    RuleRecommender,
    builtin_catalog,
    phone_address,
    pos_address,
)
from scenarios import ReportBuilder, phone_id_of

# --------------------------------------------------------------------------- workload


@attrs.frozen
class Plan:
    """The purchases of one case, for the framework and for the raw loops."""

    purchases: int
    phones: int
    spread: bool
    checkouts: tuple[tuple[Checkout, ...], ...]  # per POS, in time order
    raw: tuple[tuple[tuple[float, str, int, tuple[Item, ...]], ...], ...]  # per POS
    asks: tuple[dict[ReceiptKey, float | None], ...]  # per phone: receipt -> ask delay 0.0
    uploads: dict[str, PurchaseUpload]  # receipt -> the upload, for the raw cloud's pairing


def _baskets(rng: random.Random, count: int) -> list[tuple[Item, ...]]:
    """``count`` baskets of 1 to 4 products of one department, like the scenarios'."""
    catalog = builtin_catalog()
    baskets: list[tuple[Item, ...]] = []
    departments = sorted(DEPARTMENTS)
    while len(baskets) < count:
        categories = [c for c in DEPARTMENTS[rng.choice(departments)] if catalog.in_category(c)]
        chosen: dict[str, Item] = {}
        for _ in range(rng.randint(1, 4)):
            product = rng.choice(catalog.in_category(rng.choice(categories)))
            chosen[product.sku] = catalog.to_item(product, quantity=rng.randint(1, 3))
        baskets.append(tuple(chosen.values()))
    return baskets


def make_plan(
    purchases: int, phones: int, pos_count: int, *, spread: bool, duration: float, seed: int
) -> Plan:
    rng = random.Random(seed)
    baskets = _baskets(rng, 256)
    if spread:
        times = sorted(rng.uniform(0.0, duration) for _ in range(purchases))
    else:
        times = [0.0] * purchases
    phone_ids = [phone_id_of(i) for i in range(phones)]
    checkouts: list[list[Checkout]] = [[] for _ in range(pos_count)]
    raw: list[list[tuple[float, str, int, tuple[Item, ...]]]] = [[] for _ in range(pos_count)]
    asks: list[dict[ReceiptKey, float | None]] = [{} for _ in range(phones)]
    uploads: dict[str, PurchaseUpload] = {}
    for n, at in enumerate(times):
        receipt = f"R{n + 1:07d}"
        pos = n % pos_count
        phone = rng.randrange(phones)
        items = rng.choice(baskets)
        buyer = phone_address(phone_ids[phone])
        checkouts[pos].append(Checkout(at, receipt, phone_ids[phone], buyer, items))
        raw[pos].append((at, receipt, phone, items))
        asks[phone][ReceiptKey(_merchant(pos), receipt)] = 0.0
        uploads[receipt] = PurchaseUpload(
            receipt, _merchant(pos), "pos-1", phone_ids[phone], items, at
        )
    return Plan(
        purchases=purchases,
        phones=phones,
        spread=spread,
        checkouts=tuple(tuple(c) for c in checkouts),
        raw=tuple(tuple(r) for r in raw),
        asks=tuple(asks),
        uploads=uploads,
    )


def _merchant(pos: int) -> str:
    return f"shop-{pos + 1:02d}"


# --------------------------------------------------------------------------- framework


class FixedRecommender:
    """Diagnostic: answers every purchase with the same products, at no cost."""

    def __init__(self, products: tuple[AssociatedProduct, ...]) -> None:
        self._products = products

    def observe(self, purchase: PurchaseUpload) -> None:
        pass

    def associate(
        self, purchase: PurchaseUpload, promotions: Promotions | None, limit: int
    ) -> tuple[AssociatedProduct, ...]:
        return self._products


def fixed_products() -> tuple[AssociatedProduct, ...]:
    catalog = builtin_catalog()
    return tuple(
        AssociatedProduct(
            sku=p.sku,
            name=p.name,
            category=p.category,
            brand=p.brand,
            colour=p.colour,
            price=p.price,
            reason=Reason.COMPLEMENT,
            score=1.0,
        )
        for p in catalog.products[:5]
    )


@attrs.frozen
class Sample:
    seconds: float
    flows: int

    @property
    def rate(self) -> float:
        return self.flows / self.seconds


def build_framework_world(
    plan: Plan,
    *,
    push: bool,
    push_timeout: float,
    recommender: Recommender,
    observer: Observer | None,
    scheduling: Scheduling = "inline",
) -> World:
    world = World(observer=observer, scheduling=scheduling)
    config = CloudConfig(push_timeout=push_timeout)
    cloud = CloudMachine(store=InMemoryStore(), recommender=recommender, config=config)
    world.add(CLOUD, cloud)
    for pos, checkouts in enumerate(plan.checkouts):
        merchant = _merchant(pos)
        world.add(pos_address(merchant, "pos-1"), PosMachine(merchant, "pos-1", checkouts))
    for index in range(plan.phones):
        phone_id = phone_id_of(index)
        ask_plan: dict[ReceiptKey, float | None] = {} if push else plan.asks[index]
        world.add(
            phone_address(phone_id),
            PhoneMachine(phone_id, ask_plan=ask_plan, default_ask_delay=None),
        )
    return world


def run_framework(
    plan: Plan,
    *,
    push: bool,
    push_timeout: float,
    seed: int,
    recommender: Recommender,
    observe: bool = True,
    deterministic: bool = True,
    scheduling: Scheduling = "inline",
) -> Sample:
    """One run of the framework world; checks its report (or, unobserved, the phones)."""
    builder = ReportBuilder()
    world = build_framework_world(
        plan,
        scheduling=scheduling,
        push=push,
        push_timeout=push_timeout,
        recommender=recommender,
        observer=builder if observe else None,
    )
    clock = trio.testing.MockClock(autojump_threshold=0)
    gc.collect()
    with deterministic_scheduling(seed) if deterministic else contextlib.nullcontext():
        start = time.perf_counter()
        trio.run(world.run, clock=clock)
        seconds = time.perf_counter() - start
    if observe:
        report = builder.report(scenario="bench-flows", seed=seed)
        flows = report.pushes if push else report.responses
        if report.lost != 0 or report.duplicates != 0 or flows != plan.purchases:
            raise AssertionError(f"framework run went wrong: {report}")
    else:
        wanted = "timeout" if push else "response"
        flows = sum(
            1
            for actor in world.actors.values()
            if isinstance(actor.machine, PhoneMachine)
            for delivery in actor.machine.deliveries
            if delivery.kind == wanted
        )
        if flows != plan.purchases:
            raise AssertionError(f"framework run delivered {flows} of {plan.purchases}")
    return Sample(seconds, flows)


# --------------------------------------------------------------------------- raw trio

Msg = tuple[Any, ...]
_UPLOAD, _ACK, _NOTICE, _SUB, _SUBACK, _REQ, _RESP, _PUSH, _ERR = range(9)


class RawWorld:
    """The hand-written equivalent: plain tasks, tuples, unbounded memory channels.

    ``nowait`` picks ``send_nowait`` over ``await send``. Under ``push`` the phones never
    ask and the cloud has one timer task sleeping in a cancel scope whose deadline is the
    earliest push deadline of its heap (the cloud task moves it earlier when needed).
    """

    def __init__(
        self,
        plan: Plan,
        *,
        nowait: bool,
        push: bool,
        push_timeout: float,
        recommender: Recommender,
    ) -> None:
        self.plan = plan
        self.recommender = recommender
        self.nowait = nowait
        self.push = push
        self.push_timeout = push_timeout
        self.cloud_tx, self.cloud_rx = trio.open_memory_channel[Msg](math.inf)
        pos_channels = [trio.open_memory_channel[Msg](math.inf) for _ in plan.raw]
        phone_channels = [trio.open_memory_channel[Msg](math.inf) for _ in range(plan.phones)]
        self.pos_tx = [tx for tx, _ in pos_channels]
        self.pos_rx = [rx for _, rx in pos_channels]
        self.phone_tx = [tx for tx, _ in phone_channels]
        self.phone_rx = [rx for _, rx in phone_channels]
        self.finished = trio.Event()
        self.done = 0
        # The cloud's state: bindings by receipt id, subscribed phones, push deadlines.
        self.bindings: dict[str, tuple[int, int, tuple[Item, ...]]] = {}
        self.subscribed: set[int] = set()
        self.heap: list[tuple[float, int, str]] = []
        self.sleeping: trio.CancelScope | None = None

    async def run(self) -> int:
        """Run until every purchase's response (or push) arrived; the flows completed."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.cloud)
            if self.push:
                nursery.start_soon(self.cloud_timer)
            for index, schedule in enumerate(self.plan.raw):
                nursery.start_soon(self.pos, index, schedule)
            for index in range(self.plan.phones):
                nursery.start_soon(self.phone, index)
            await self.finished.wait()
            nursery.cancel_scope.cancel()
        return self.done

    async def cloud(self) -> None:
        nowait, push, timeout = self.nowait, self.push, self.push_timeout
        associate, uploads = self.recommender.associate, self.plan.uploads
        phone_tx, pos_tx = self.phone_tx, self.pos_tx
        bindings, subscribed, heap = self.bindings, self.subscribed, self.heap
        seq = 0
        async for msg in self.cloud_rx:
            kind = msg[0]
            if kind == _REQ:
                _, request_id, receipt, phone = msg
                binding = bindings.get(receipt)
                if binding is not None and binding[0] == phone and phone in subscribed:
                    products = associate(uploads[receipt], None, 5)
                    out: Msg = (_RESP, request_id, receipt, products)
                else:
                    out = (_ERR, request_id, receipt)
                if nowait:
                    phone_tx[phone].send_nowait(out)
                else:
                    await phone_tx[phone].send(out)
            elif kind == _UPLOAD:
                _, receipt, pos, phone, items, _at = msg
                bindings[receipt] = (phone, pos, items)
                if push:
                    deadline = trio.current_time() + timeout
                    heapq.heappush(heap, (deadline, seq, receipt))
                    seq += 1
                    scope = self.sleeping
                    if scope is not None and deadline < scope.deadline:
                        scope.deadline = deadline
                if nowait:
                    pos_tx[pos].send_nowait((_ACK, receipt))
                else:
                    await pos_tx[pos].send((_ACK, receipt))
            elif kind == _SUB:
                phone = msg[1]
                subscribed.add(phone)
                if nowait:
                    phone_tx[phone].send_nowait((_SUBACK,))
                else:
                    await phone_tx[phone].send((_SUBACK,))

    async def cloud_timer(self) -> None:
        heap, bindings, subscribed, phone_tx = (
            self.heap,
            self.bindings,
            self.subscribed,
            self.phone_tx,
        )
        while True:
            with trio.CancelScope(deadline=heap[0][0] if heap else math.inf) as scope:
                self.sleeping = scope
                await trio.sleep_forever()
            self.sleeping = None
            now = trio.current_time()
            while heap and heap[0][0] <= now:
                _, _, receipt = heapq.heappop(heap)
                phone = bindings[receipt][0]
                if phone not in subscribed:
                    continue  # a hand-written cloud withholds it too
                products = self.recommender.associate(self.plan.uploads[receipt], None, 5)
                out: Msg = (_PUSH, receipt, products)
                if self.nowait:
                    phone_tx[phone].send_nowait(out)
                else:
                    await phone_tx[phone].send(out)

    async def pos(self, index: int, schedule: Sequence[tuple[float, str, int, Any]]) -> None:
        nowait, cloud_tx, phone_tx = self.nowait, self.cloud_tx, self.phone_tx
        inbox = self.pos_rx[index]
        waiting: dict[str, tuple[int, float]] = {}
        i, n = 0, len(schedule)
        while True:
            now = trio.current_time()
            while i < n and schedule[i][0] <= now:
                at, receipt, phone, items = schedule[i]
                i += 1
                waiting[receipt] = (phone, at)
                upload: Msg = (_UPLOAD, receipt, index, phone, items, now)
                if nowait:
                    cloud_tx.send_nowait(upload)
                else:
                    await cloud_tx.send(upload)
            msg: Msg | None = None
            if i < n:
                with trio.move_on_at(schedule[i][0]):
                    msg = await inbox.receive()
            else:
                msg = await inbox.receive()
            if msg is not None and msg[0] == _ACK:
                phone, at = waiting.pop(msg[1])
                notice: Msg = (_NOTICE, msg[1], at)
                if nowait:
                    phone_tx[phone].send_nowait(notice)
                else:
                    await phone_tx[phone].send(notice)

    async def phone(self, index: int) -> None:
        nowait, push, cloud_tx, target = self.nowait, self.push, self.cloud_tx, self.plan.purchases
        subscribing = subscribed = False
        waiting: list[str] = []
        request_id = 1
        async for msg in self.phone_rx[index]:
            kind = msg[0]
            if kind in (_RESP, _PUSH):
                self.done += 1
                if self.done == target:
                    self.finished.set()
            elif kind == _NOTICE:
                if not subscribing:
                    subscribing = True
                    if nowait:
                        cloud_tx.send_nowait((_SUB, index))
                    else:
                        await cloud_tx.send((_SUB, index))
                if push:
                    continue
                if subscribed:
                    request: Msg = (_REQ, request_id, msg[1], index)
                    request_id += 1
                    if nowait:
                        cloud_tx.send_nowait(request)
                    else:
                        await cloud_tx.send(request)
                else:
                    waiting.append(msg[1])
            elif kind == _SUBACK:
                subscribed = True
                for receipt in waiting:
                    request = (_REQ, request_id, receipt, index)
                    request_id += 1
                    if nowait:
                        cloud_tx.send_nowait(request)
                    else:
                        await cloud_tx.send(request)
                waiting.clear()


def run_raw(
    plan: Plan, *, nowait: bool, push: bool, push_timeout: float, recommender: Recommender
) -> Sample:
    world = RawWorld(
        plan, nowait=nowait, push=push, push_timeout=push_timeout, recommender=recommender
    )
    clock = trio.testing.MockClock(autojump_threshold=0)
    gc.collect()
    start = time.perf_counter()
    flows = trio.run(world.run, clock=clock)
    seconds = time.perf_counter() - start
    if flows != plan.purchases:
        raise AssertionError(f"raw run completed {flows} of {plan.purchases} flows")
    return Sample(seconds, flows)


# --------------------------------------------------------------------------- memory


def _framework_idle(count: int, scheduling: Scheduling = "tasks") -> int:
    """Bytes allocated by a world of ``count`` phone actors, started and blocked."""
    result = [0]

    async def main() -> None:
        tracemalloc.start()
        world = World(scheduling=scheduling)
        for index in range(count):
            phone_id = phone_id_of(index)
            world.add(phone_address(phone_id), PhoneMachine(phone_id))
        if scheduling == "inline":  # no task per actor: the actors are all there is
            for actor in world.actors.values():
                actor.prime(trio.current_time())
            gc.collect()
            result[0] = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            return
        async with trio.open_nursery() as nursery:
            for actor in world.actors.values():
                await nursery.start(actor.run)  # as World.run starts them
            await trio.testing.wait_all_tasks_blocked()
            gc.collect()
            result[0] = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()  # before the teardown, which tracing would slow down
            nursery.cancel_scope.cancel()

    gc.collect()
    trio.run(main)
    return result[0]


def _raw_idle(count: int) -> int:
    """Bytes allocated by ``count`` raw tasks, each blocked on its own memory channel."""
    result = [0]

    async def idle(receive: trio.MemoryReceiveChannel[Msg]) -> None:
        await receive.receive()

    async def main() -> None:
        tracemalloc.start()
        mailboxes: list[trio.MemorySendChannel[Msg]] = []
        async with trio.open_nursery() as nursery:
            for _ in range(count):
                send, receive = trio.open_memory_channel[Msg](math.inf)
                mailboxes.append(send)
                nursery.start_soon(idle, receive)
            await trio.testing.wait_all_tasks_blocked()
            gc.collect()
            result[0] = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()  # before the teardown, which tracing would slow down
            nursery.cancel_scope.cancel()

    gc.collect()
    trio.run(main)
    return result[0]


def idle_memory(count: int) -> tuple[float, float, float]:
    """Bytes per idle phone actor (tasks, inline) and per idle raw task (net of empty)."""
    tasks = (_framework_idle(count) - _framework_idle(0)) / count
    inline = (_framework_idle(count, "inline") - _framework_idle(0, "inline")) / count
    raw = (_raw_idle(count) - _raw_idle(0)) / count
    return tasks, inline, raw


# --------------------------------------------------------------------------- driver


def _median(samples: Sequence[Sample]) -> float:
    return statistics.median(s.rate for s in samples)


def _ratio(num: Sequence[Sample], den: Sequence[Sample]) -> float:
    """Median of the per-repeat ratios of flows/s (each pair ran back to back)."""
    return statistics.median(a.rate / b.rate for a, b in zip(num, den, strict=True))


def _line(label: str, value: str) -> None:
    print(f"  {label:<66} {value:>14}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Flows/s of the assocsim framework against hand-written trio loops."
    )
    parser.add_argument("--purchases", type=int, default=10_000, help="N purchases (t=0 cases)")
    parser.add_argument("--phones", type=int, default=1_000, help="M phones")
    parser.add_argument("--repeat", type=int, default=3, help="R repeats; medians are reported")
    parser.add_argument(
        "--spread-purchases",
        type=int,
        default=None,
        help="purchases of the spread-over-time cases (default N/10: their cost is per "
        "virtual instant, so flows/s hardly depend on it)",
    )
    parser.add_argument("--pos", type=int, default=10, help="POS terminals")
    parser.add_argument("--seed", type=int, default=1, help="workload and scheduling seed")
    parser.add_argument(
        "--duration", type=float, default=8 * 3600.0, help="virtual seconds of the spread cases"
    )
    parser.add_argument("--push-timeout", type=float, default=30.0, help="cloud push timeout, s")
    parser.add_argument("--idle", type=int, default=10_000, help="idle parties for the memory test")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also run the framework with a fixed recommender, and bare (fixed recommender, "
        "no observer, trio's own scheduling, with and without push timers), and raw-nowait "
        "on push: shows where the framework's time goes (about doubles the run time)",
    )
    args = parser.parse_args(argv)
    if args.spread_purchases is None:
        args.spread_purchases = max(1, args.purchases // 10)
    counts = (args.purchases, args.spread_purchases, args.phones, args.repeat, args.pos, args.idle)
    if min(counts) < 1:
        parser.error("counts must be at least 1")
    return args


_CASES = (
    ("pull", False),
    ("pull", True),
    ("push", False),
    ("push", True),
)


def _variants(
    kind: str, spread: bool, diagnose: bool
) -> list[tuple[str, str, Callable[..., Sample], dict[str, Any]]]:
    """(key, label, runner, keyword arguments) of every variant of one case, in run order."""
    fw: Callable[..., Sample] = run_framework
    fixed = {"recommender": "fixed"}
    tasks = {"scheduling": "tasks"}
    variants: list[tuple[str, str, Callable[..., Sample], dict[str, Any]]] = [
        ("inline", "framework, inline scheduling (validation + report)", fw, {}),
        ("tasks", "framework, a trio task per actor (validation + report)", fw, tasks),
        ("await", "raw trio, await send", run_raw, {"nowait": False}),
        ("nowait", "raw trio, send_nowait", run_raw, {"nowait": True}),
        ("inline-fixed", "framework, inline, fixed answer instead of pairing", fw, fixed),
        ("tasks-fixed", "framework, tasks, fixed answer instead of pairing", fw, fixed | tasks),
        ("await-fixed", "raw trio, await send, fixed answer", run_raw, fixed | {"nowait": False}),
    ]
    if diagnose:
        bare = {"recommender": "fixed", "observe": False, "deterministic": False}
        variants.append(("bare", "diagnose: framework tasks, fixed, unobserved", fw, bare | tasks))
    return variants


_RATIOS = (
    ("inline", "await", "framework inline / raw-await"),
    ("inline", "nowait", "framework inline / raw-nowait"),
    ("tasks", "await", "framework tasks / raw-await"),
    ("inline-fixed", "await-fixed", "framework inline / raw-await, both without pairing"),
    ("tasks-fixed", "await-fixed", "framework tasks / raw-await, both without pairing"),
)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"bench/flows.py --purchases {args.purchases} --phones {args.phones} "
        f"--repeat {args.repeat} --spread-purchases {args.spread_purchases} --pos {args.pos} "
        f"--seed {args.seed} --duration {args.duration:g} --push-timeout {args.push_timeout:g} "
        f"--idle {args.idle}" + (" --diagnose" if args.diagnose else "")
    )
    print(
        f"python {platform.python_version()}, trio {trio.__version__}, "
        f"attrs {attrs.__version__}, {os.cpu_count()} CPUs; "
        f"figures are medians of {args.repeat} repeats"
    )
    began = time.perf_counter()
    plans = {
        spread: make_plan(
            args.spread_purchases if spread else args.purchases,
            args.phones,
            args.pos,
            spread=spread,
            duration=args.duration,
            seed=args.seed,
        )
        for spread in (False, True)
    }
    fixed = fixed_products()
    gc.collect()
    gc.freeze()  # the plans live all run long: keep them out of every collection
    samples: dict[tuple[str, bool, str], list[Sample]] = {}
    for _ in range(args.repeat):
        for kind, spread in _CASES:
            common = {"push": kind == "push", "push_timeout": args.push_timeout}
            for key, _label, runner, extra in _variants(kind, spread, args.diagnose):
                options = common | extra
                rec = options.pop("recommender", "rule")
                options["recommender"] = (
                    FixedRecommender(fixed) if rec == "fixed" else RuleRecommender()
                )
                if runner is run_framework:
                    options["seed"] = args.seed
                samples.setdefault((kind, spread, key), []).append(runner(plans[spread], **options))

    titles = {
        "pull": "PULL FLOWS: upload, ack, notice, request, response "
        "(+ subscribe, ack once a phone)",
        "push": f"PUSH FLOWS: upload, ack, notice, push {args.push_timeout:g} s later "
        "(+ subscribe, ack once a phone)",
    }
    for kind, spread in _CASES:
        if not spread:
            print()
            print(titles[kind])
        plan = plans[spread]
        where = f"spread over {args.duration:g} s of virtual time" if spread else "all at t=0"
        print(f" {plan.purchases} purchases {where}, {args.phones} phones, {args.pos} POS")
        variants = _variants(kind, spread, args.diagnose)
        for key, label, _runner, _extra in variants:
            _line(label, f"{_median(samples[(kind, spread, key)]):,.0f} flows/s")
        at = "spread" if spread else "t=0"
        for num, den, name in _RATIOS:
            ratio = _ratio(samples[(kind, spread, num)], samples[(kind, spread, den)])
            _line(f"ratio {name} ({kind}, {at})", f"{ratio:.2f}x")
        if args.diagnose:
            ratio = _ratio(samples[(kind, spread, "bare")], samples[(kind, spread, "await-fixed")])
            _line(f"diagnose: ratio bare/raw-await-fixed ({kind}, {at})", f"{ratio:.2f}x")

    framework_bytes, inline_bytes, raw_bytes = idle_memory(args.idle)
    print()
    print(f"MEMORY per idle party ({args.idle} started, blocked on receive; tracemalloc)")
    _line(
        "phone actor (PhoneMachine + Actor + MemoryEndpoint, as World.run)",
        f"{framework_bytes:,.0f} B",
    )
    _line("phone actor, inline scheduling (no task of its own)", f"{inline_bytes:,.0f} B")
    _line("raw trio task blocked on its own memory channel", f"{raw_bytes:,.0f} B")
    _line("ratio actor (tasks) / raw task", f"{framework_bytes / raw_bytes:.2f}x")
    _line("ratio actor (inline) / raw task", f"{inline_bytes / raw_bytes:.2f}x")
    print()
    print(f"(whole benchmark: {time.perf_counter() - began:.0f} s wall)")


if __name__ == "__main__":
    main()
