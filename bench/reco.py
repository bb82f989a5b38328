"""The pairing engine's speed on all of Complete Journey: learning and answering.

Run from the repository root (the data directory defaults to ``../shared/data``)::

    .venv/bin/python bench/reco.py [--data DIR] [--questions N] [--seed S]

What it measures:

1. **Learning throughput**: a fresh :class:`~protocol.PairingEngine` (default
   configuration, the built-in catalog and rules) learns every cleaned Complete Journey
   basket in time order, each with its household's phone, through ``PairingEngine.learn``
   (what ``observe`` calls with the upload's items): basket lines per second and baskets
   per second, and the process's peak resident memory afterwards. Reading the files is not
   counted.
2. **Recommendation latency**: with the full model loaded, ``PairingEngine.associate`` for
   N (default 5,000) uploads of 5 products each, drawn at random (seeded) from the baskets
   of at least 5 products, each bound to its household's phone, with ``limit`` 5 and no
   promotions: p50, p99 and max of the wall time of each call (``time.perf_counter_ns``).
   Three cases: **first asking** (the questions one after the other on the unchanged
   model: a product's pairing list is computed at its first question and kept), **asked
   again** (the same questions once more: every pairing list is ready, the cost of
   merging, habits and ranking alone) and **learning between** (the engine learns one more
   basket before each question, as a live cloud does between requests; a pairing list is
   recomputed if that basket changed what it was derived from, which a basket's popular
   products and categories do for most lists; the learning is not timed).

The machine is shared and noisy: the first line times a fixed Python loop
(``sum(range(1000))``) so that figures of two runs can be compared; divide by it to
compare machines.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import timeit
from pathlib import Path

from protocol import PairingEngine, PurchaseUpload
from scenarios._model._datasets import Basket, Dataset, gc_paused, household_phone_id, load_dataset

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _phone(basket: Basket) -> str | None:
    return household_phone_id(basket.household) if basket.household else None


def learn(dataset: Dataset) -> tuple[PairingEngine, float]:
    engine = PairingEngine()
    with gc_paused():
        started = time.perf_counter()
        for basket in dataset.baskets:
            engine.learn(dataset.items(basket), _phone(basket))
        return engine, time.perf_counter() - started


def questions(dataset: Dataset, count: int, seed: int) -> list[PurchaseUpload]:
    rng = random.Random(seed)
    big = [b for b in dataset.baskets if len(b.skus) >= 5 and b.household]
    chosen = [big[rng.randrange(len(big))] for _ in range(count)]
    uploads = []
    for n, basket in enumerate(chosen):
        items = tuple(dataset.products[sku] for sku in rng.sample(basket.skus, 5))
        uploads.append(
            PurchaseUpload(
                receipt_id=f"bench-{n}",
                merchant_id=basket.store,
                pos_id="pos-1",
                phone_id=household_phone_id(basket.household),
                items=items,
                purchased_at=basket.at,
            )
        )
    return uploads


def latencies(
    engine: PairingEngine,
    uploads: list[PurchaseUpload],
    between: list[Basket] | None,
    dataset: Dataset,
) -> list[float]:
    """Microseconds per associate call; with *between*, one basket learned before each."""
    clock = time.perf_counter_ns
    timings: list[float] = []
    with gc_paused():
        for n, upload in enumerate(uploads):
            if between is not None:
                basket = between[n % len(between)]
                engine.learn(dataset.items(basket), _phone(basket))
            started = clock()
            engine.associate(upload, None, 5)
            timings.append((clock() - started) / 1000)
    return timings


def _figures(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{name:<30} p50 {p50:7.1f} us   p99 {p99:7.1f} us   max {ordered[-1]:8.1f} us"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data directory")
    parser.add_argument("--questions", type=int, default=5000, help="associate calls per case")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(f"machine reference: sum(range(1000)) takes {reference:.1f} us (compare runs by it)")
    started = time.perf_counter()
    dataset = load_dataset("completejourney", args.data)
    lines = sum(len(b.skus) for b in dataset.baskets)
    print(
        f"Complete Journey: {len(dataset.baskets)} baskets, {lines} lines, "
        f"{len(dataset.products)} products (read in {time.perf_counter() - started:.1f} s)"
    )
    engine, seconds = learn(dataset)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"learning: {seconds:.1f} s, {lines / seconds:,.0f} lines/s, "
        f"{len(dataset.baskets) / seconds:,.0f} baskets/s; peak memory {peak:,.0f} MB "
        f"(dataset and model); {engine.products} products known"
    )
    uploads = questions(dataset, args.questions, args.seed)
    print(_figures("associate, first asking", latencies(engine, uploads, None, dataset)))
    print(_figures("associate, asked again", latencies(engine, uploads, None, dataset)))
    more = list(dataset.baskets[-args.questions :])
    print(_figures("associate, learning between", latencies(engine, uploads, more, dataset)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
