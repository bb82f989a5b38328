"""Cycles per second of InMemoryStore against SqliteStore (durable and not), same run.

Run from the repository root::

    .venv/bin/python bench/store.py [--cycles N] [--durable-cycles D] [--repeat R] [--dir DIR]

A cycle is what the cloud writes for one purchase that ends in a delivery:
``put_binding`` (step 502), ``put_pending_push`` (step 602) and ``mark_delivered``, three
committed writes. Each repeat runs every store back to back, each on a new store (a new file
in ``--dir``, default a temporary directory), over the same uploads built beforehand. The
durable store fsyncs at every write, so it runs ``--durable-cycles`` (fewer) cycles; its
figure is still per cycle. Figures are medians over R repeats; ratios are medians of the
per-repeat ratios, which is what to compare on a shared, noisy machine. The durable figures
depend mostly on the disk's fsync latency.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors import SqliteStore
from protocol import Binding, CloudStore, InMemoryStore, Item, PendingPush, PurchaseUpload


def make_bindings(count: int) -> list[Binding]:
    """``count`` distinct bindings of a 3-item purchase, one phone per 100 receipts."""
    items = (
        Item("SKU-1", "Face wash", "face-wash", "Acme", "white", 1, 9.5),
        Item("SKU-2", "Lotion", "lotion", "Acme", "white", 2, 12.75),
        Item("SKU-3", "Cotton pads", "cotton-pads", "Softy", "", 1, 2.2),
    )
    return [
        Binding(
            PurchaseUpload(
                receipt_id=f"R{n}",
                merchant_id="M1",
                pos_id="POS1",
                phone_id=f"+86138{n // 100:08d}",
                items=items,
                purchased_at=float(n),
            ),
            stored_at=n + 0.5,
        )
        for n in range(count)
    ]


def run_cycles(store: CloudStore, bindings: Sequence[Binding]) -> float:
    """Cycles per second of ``store`` over ``bindings``."""
    began = time.perf_counter()
    for binding in bindings:
        store.put_binding(binding)
        store.put_pending_push(PendingPush(binding.receipt, binding.phone_id, 600.0))
        store.mark_delivered(binding.receipt, binding.phone_id)
    return len(bindings) / (time.perf_counter() - began)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cycles", type=int, default=5_000, help="cycles per in-memory and non-durable run"
    )
    parser.add_argument("--durable-cycles", type=int, default=300, help="cycles per durable run")
    parser.add_argument("--repeat", type=int, default=5, help="R repeats; medians are reported")
    parser.add_argument("--dir", type=Path, default=None, help="where the database files go")
    args = parser.parse_args(argv)
    if min(args.cycles, args.durable_cycles, args.repeat) < 1:
        parser.error("counts must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print(
        f"bench/store.py --cycles {args.cycles} --durable-cycles {args.durable_cycles} "
        f"--repeat {args.repeat}"
    )
    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs; a cycle is put_binding + put_pending_push + mark_delivered"
    )
    bindings = make_bindings(max(args.cycles, args.durable_cycles))
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        files = (Path(scratch) / f"store-{n}.db" for n in itertools.count())
        variants: list[tuple[str, Callable[[], CloudStore], int]] = [
            ("InMemoryStore", InMemoryStore, args.cycles),
            ("SqliteStore(durable=False)  synchronous=NORMAL",
             lambda: SqliteStore(next(files), durable=False), args.cycles),
            ("SqliteStore(durable=True)   synchronous=FULL",
             lambda: SqliteStore(next(files)), args.durable_cycles),
        ]  # fmt: skip
        rates: dict[str, list[float]] = {name: [] for name, _, _ in variants}
        for _ in range(args.repeat):
            for name, make, cycles in variants:
                store = make()
                rates[name].append(run_cycles(store, bindings[:cycles]))
                if isinstance(store, SqliteStore):
                    store.close()
    for name, _, cycles in variants:
        print(f"  {name:<50} {statistics.median(rates[name]):>12,.0f} cycles/s  ({cycles}/run)")
    memory, fast, durable = (rates[name] for name, _, _ in variants)

    def ratio(num: list[float], den: list[float]) -> float:
        return statistics.median(a / b for a, b in zip(num, den, strict=True))

    for label, value in (
        ("ratio SqliteStore(durable=False) / InMemoryStore", ratio(fast, memory)),
        ("ratio SqliteStore(durable=True) / InMemoryStore", ratio(durable, memory)),
        ("ratio durable=True / durable=False", ratio(durable, fast)),
    ):
        print(f"  {label:<50} {value:>12.4f}x  (1/{1 / value:,.0f})")


if __name__ == "__main__":
    main()
