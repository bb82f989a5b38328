"""One self-enrolled phone floods ``serve cloud`` beside a normal POS (issue 14, item 1).

A real ``serve cloud`` process on 127.0.0.1 (plain TCP, a durable store in a temporary
directory); in this process, a POS that uploads one purchase at a time (the *probe*: each
upload's time to its ``upload-ack``), first alone for ``--baseline`` seconds, then for
``--duration`` seconds beside a phone that enrolled itself (hello without a credential,
``subscribe``) and then pipelines association requests as fast as its socket takes them
(it reads and drops the answers). Figures, all from the same run:

* probe p50/p99 unloaded and under the flood, and the ratio of the p99s (target: at most 3);
* the server's RSS when the flood starts, its highest, and at the end (target: flat within
  20 MB over 60 s: ``--duration 60``);
* the highest backlog the server reported (messages and fired timers waiting for the
  cloud, from its status file) and the flood's requests sent and answered.

``--idle N`` instead measures the memory of unauthenticated connections: RSS before and
after N connections that never say hello, then after N more that each hold a partial
pre-login frame (as large as the server reads before the hello), in bytes per connection.

``--tree DIR`` runs the server from another checkout (e.g. a ``git worktree`` of an older
commit) with the same clients: the before/after figures of the README. The machine may be
shared: compare ratios from one run, not absolute times across runs.

    .venv/bin/python bench/flood.py [--duration 15] [--baseline 10] [--trace] [--tree DIR]
    .venv/bin/python bench/flood.py --idle 1000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trio

from actors import connect_tcp
from protocol import (
    CLOUD,
    WIRE_VERSION,
    AssociationRequest,
    PurchaseUpload,
    Subscribe,
    UploadAck,
    builtin_catalog,
    phone_address,
    pos_address,
)
from protocol.lowlevel import MAX_HELLO_FRAME_BYTES, Hello, encode_frame

ROOT = Path(__file__).resolve().parent.parent
MERCHANT, KEY = "shop-01", "flood-bench-key-0123456789abcdef"
POS = pos_address(MERCHANT, "pos-1")
BUYER = "+8613800000001"
FLOODER_ID = "+8613900000001"


class Server:
    """``serve cloud`` from ``tree`` in ``directory``."""

    def __init__(self, tree: Path, directory: Path, *, trace: bool) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(tree)}
        self.directory = directory
        keys = directory / "keys.json"
        self._cli("serve", "add-merchant", "--merchant-keys", str(keys), "--merchant", MERCHANT)
        self.status = directory / "status.json"
        argv = ["serve", "cloud", "--listen", "127.0.0.1:0", "--db", str(directory / "c.db")]
        argv += ["--merchant-keys", str(keys), "--status-file", str(self.status)]
        self.trace = directory / "cloud.jsonl" if trace else None
        if self.trace is not None:
            argv += ["--trace", str(self.trace)]
        self.out = (directory / "cloud.out").open("w+")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "scenarios", *argv],
            cwd=tree,
            env=self.env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        self.port = self._wait_port()

    def _cli(self, *argv: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "scenarios", *argv, "--key", KEY],
            env=self.env,
            check=True,
            capture_output=True,
        )

    def _wait_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.out.seek(0)
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.out.read())
            if match:
                return int(match.group(1))
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        self.out.seek(0)
        raise SystemExit(f"serve cloud did not start:\n{self.out.read()}")

    def rss_mb(self) -> float:
        text = Path(f"/proc/{self.popen.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", text)
        return int(match.group(1)) / 1024 if match else float("nan")

    def backlog(self) -> int:
        try:
            value = json.loads(self.status.read_text()).get("backlog", 0)
        except (OSError, ValueError):
            return 0
        return int(value)

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
        self.out.close()


# --------------------------------------------------------------------------- the flood


async def probe(port: int, until: float, latencies: list[float]) -> None:
    """The POS: one upload at a time, every 20 ms, until ``until``."""
    catalog = builtin_catalog()
    product = catalog.by_sku("SKIN-FW-001")
    assert product is not None
    items = (catalog.to_item(product),)
    async with connect_tcp("127.0.0.1", port, credentials={POS: KEY}) as client:
        endpoint = client.open_endpoint(POS)
        await endpoint.wait_connected()
        n = len(latencies)
        while trio.current_time() < until:
            n += 1
            receipt = f"P{n:07d}-{os.getpid()}"
            started = trio.current_time()
            endpoint.send(CLOUD, PurchaseUpload(receipt, MERCHANT, "pos-1", BUYER, items, 0.0))
            while True:
                message = (await endpoint.receive()).message
                if isinstance(message, UploadAck) and message.receipt_id == receipt:
                    break
            latencies.append(trio.current_time() - started)
            await trio.sleep(0.02)


async def flood(port: int, until: float, counts: dict[str, int]) -> None:
    """The phone: enrol, then pipeline association requests until ``until``."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    address = phone_address(FLOODER_ID)
    await stream.send_all(
        encode_frame(Hello(WIRE_VERSION, address, ""), 1)
        + encode_frame(Subscribe(FLOODER_ID), 2, recipient=CLOUD)
    )
    frame_id = 2
    async with trio.open_nursery() as nursery:

        async def drain() -> None:
            while data := await stream.receive_some(1 << 16):
                counts["answer_bytes"] += len(data)

        nursery.start_soon(drain)
        while trio.current_time() < until:
            chunk = []
            for _ in range(200):
                frame_id += 1
                request = AssociationRequest(frame_id, f"R{frame_id}", "shop-01", FLOODER_ID)
                chunk.append(encode_frame(request, frame_id, recipient=CLOUD))
            with trio.move_on_at(until):
                await stream.send_all(b"".join(chunk))
                counts["sent"] += len(chunk)
        nursery.cancel_scope.cancel()
    await stream.aclose()


async def sample(server: Server, until: float, rss: list[float], backlog: list[int]) -> None:
    while trio.current_time() < until:
        rss.append(server.rss_mb())
        backlog.append(server.backlog())
        await trio.sleep(0.5)


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if q >= 100:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run_flood(server: Server, baseline: float, duration: float) -> dict[str, Any]:
    unloaded: list[float] = []
    loaded: list[float] = []
    await trio.sleep(0.5)
    await probe(server.port, trio.current_time() + baseline, unloaded)
    rss: list[float] = []
    backlog: list[int] = []
    counts = {"sent": 0, "answer_bytes": 0}
    until = trio.current_time() + duration
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sample, server, until, rss, backlog)
        nursery.start_soon(flood, server.port, until, counts)
        await trio.sleep(0.5)  # the flood under way
        await probe(server.port, until, loaded)
    trace = server.trace
    return {
        "trace_mb": trace.stat().st_size / 1e6 if trace is not None else None,
        "unloaded": unloaded,
        "loaded": loaded,
        "rss": rss,
        "backlog": backlog,
        "counts": counts,
    }


def report(result: dict[str, Any], duration: float) -> None:
    unloaded, loaded = result["unloaded"], result["loaded"]
    rss, backlog, counts = result["rss"], result["backlog"], result["counts"]
    u50, u99 = percentile(unloaded, 50), percentile(unloaded, 99)
    l50, l99 = percentile(loaded, 50), percentile(loaded, 99)
    for name, values, p50, p99 in (("unloaded", unloaded, u50, u99), ("flooded", loaded, l50, l99)):
        print(f"probe {name}: {len(values)} uploads, p50 {p50 * 1e3:.1f}, p99 {p99 * 1e3:.1f} ms")
    print(f"p99 flooded / unloaded: {l99 / u99:.2f} (target <= 3)")
    growth = max(rss) - rss[0] if rss else float("nan")
    print(
        f"server RSS: {rss[0]:.1f} MB at the flood's start, highest {max(rss):.1f} MB, "
        f"{rss[-1]:.1f} MB at {duration:g} s: +{growth:.1f} MB (target <= 20 MB over 60 s"
        + ("" if duration >= 60 else f"; {duration:g} s measured: --duration 60 to judge it")
        + ")"
    )
    print(f"highest backlog: {max(backlog) if backlog else 0} messages")
    answered = counts["answer_bytes"]
    print(f"flood: {counts['sent']} requests written, {answered / 1e6:.1f} MB of answers read")
    if result["trace_mb"] is not None:
        print(f"the server's trace: {result['trace_mb']:.1f} MB (it grows with the events handled)")


# --------------------------------------------------------------------------- idle connections


async def run_idle(server: Server, n: int) -> None:
    await trio.sleep(1.0)
    before = server.rss_mb()
    idle = [await trio.open_tcp_stream("127.0.0.1", server.port) for _ in range(n)]
    await trio.sleep(1.0)
    after_idle = server.rss_mb()
    partial = struct.pack(">I", MAX_HELLO_FRAME_BYTES) + b"x" * (MAX_HELLO_FRAME_BYTES - 1)
    holding = []
    for _ in range(n):
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        await stream.send_all(partial)
        holding.append(stream)
    await trio.sleep(1.0)
    after_partial = server.rss_mb()
    per_idle = (after_idle - before) * 1024 * 1024 / n
    per_partial = (after_partial - after_idle) * 1024 * 1024 / n
    print(f"server RSS {before:.1f} MB; +{n} idle connections: {after_idle:.1f} MB")
    print(f"  {per_idle:,.0f} bytes per idle unauthenticated connection")
    print(f"+{n} holding a {MAX_HELLO_FRAME_BYTES - 1}-byte partial frame: {after_partial:.1f} MB")
    print(f"  {per_partial:,.0f} bytes per connection holding a partial pre-login frame")
    for stream in idle + holding:
        await stream.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of flood")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds unloaded first")
    parser.add_argument("--trace", action="store_true", help="serve cloud --trace too")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the server's checkout")
    parser.add_argument("--idle", type=int, metavar="N", help="measure N idle connections")
    args = parser.parse_args()
    if not (args.duration > 0 and args.baseline > 0) or (args.idle is not None and args.idle < 1):
        parser.error("--duration, --baseline and --idle must be > 0")
    with tempfile.TemporaryDirectory(prefix="flood-") as directory:
        server = Server(args.tree.resolve(), Path(directory), trace=args.trace)
        try:
            print(f"serve cloud from {args.tree} on port {server.port}; machine possibly shared")
            if args.idle is not None:
                trio.run(run_idle, server, args.idle)
            else:
                report(trio.run(run_flood, server, args.baseline, args.duration), args.duration)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
