"""What the pairing engine's discovery rule costs a question, on all of Complete Journey.

Run from the repository root (the data directory defaults to ``../shared/data``)::

    .venv/bin/python bench/discovery.py [--data DIR] [--questions N] [--slots S] [--ratio R]

The engine is configured as ``assocsim reco eval`` configures it for Complete Journey
(``engine_config``) with the scorer weights its fit found there (``WEIGHTS``: the run of
17ca090, docs/recommender.md; the personal feature on), learns every cleaned basket in
time order and refreshes. Then ``PairingEngine.associate`` is asked N (default 3,000)
uploads of 5 products each, drawn at random (seeded) from the baskets of at least 5
products with a household, limit 5, no promotions, each question twice in a row: once
without the rule and once with it (``--slots``, ``--ratio``: the eval's choice for
Complete Journey, at most 3 own products with 0.5), the order swapped from one question to
the next so that neither always finds the caches warm. Printed: the CPU p50 and p99 of each
(``time.process_time_ns``), their ratios (with / without: the figure to compare across
runs on the shared machine) and how many answers the rule changed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this tree, not the installed one

from protocol import AssocsimError, Catalog, EngineConfig, PairingEngine, PurchaseUpload
from scenarios._model._datasets import gc_paused, household_phone_id, load_dataset
from scenarios._reco._eval import engine_config

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WEIGHTS = (0.0011, 21.5, 0.0, 1.11, 21.2, 0.0, 18.9, 3.84, 0.0499, 0.0, 6.7)
"""The scorer's weights ``assocsim reco eval`` fitted on Complete Journey (in the order of
``EngineConfig.FEATURES``), as its note printed them."""


def _quantile(values: list[int], share: float) -> float:
    """The *share* quantile of *values* (nanoseconds), in microseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data directory")
    parser.add_argument("--questions", type=int, default=3000, help="questions asked each way")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slots", type=int, default=3, help="the rule's habit_slots")
    parser.add_argument("--ratio", type=float, default=0.5, help="the rule's discovery ratio")
    args = parser.parse_args(argv)
    if args.questions < 1:
        parser.error(f"--questions must be at least 1, got {args.questions}")
    try:  # a bad --slots, --ratio or --data: one line, before minutes of learning
        EngineConfig(habit_slots=args.slots, discovery=args.ratio)
        dataset = load_dataset("completejourney", args.data)
    except AssocsimError as error:
        parser.error(str(error))
    config = engine_config("completejourney").with_weights(WEIGHTS)
    engine = PairingEngine(config=config, catalog=Catalog(()), rules={})
    with gc_paused():
        for basket in dataset.baskets:
            phone = household_phone_id(basket.household) if basket.household else None
            engine.learn(dataset.items(basket), phone)
        engine.refresh()
    chooser = random.Random(args.seed)
    large = [b for b in dataset.baskets if len(b.skus) >= 5 and b.household]
    uploads = [
        PurchaseUpload(
            receipt_id=f"q{n}",
            merchant_id="bench",
            pos_id="pos-1",
            phone_id=household_phone_id(basket.household),
            items=tuple(dataset.items(basket)[:5]),
            purchased_at=0.0,
        )
        for n, basket in enumerate(chooser.choices(large, k=args.questions))
    ]
    off: tuple[int | None, float] = (None, args.ratio)
    on: tuple[int | None, float] = (args.slots, args.ratio)
    times: dict[tuple[int | None, float], list[int]] = {off: [], on: []}
    changed = 0
    with gc_paused():
        for n, upload in enumerate(uploads):
            answers = {}
            for setting in (off, on) if n % 2 else (on, off):
                engine.set_discovery(*setting)
                started = time.process_time_ns()
                answers[setting] = engine.associate(upload, None, 5)
                times[setting].append(time.process_time_ns() - started)
            changed += answers[off] != answers[on]
    p50 = (_quantile(times[off], 0.5), _quantile(times[on], 0.5))
    p99 = (_quantile(times[off], 0.99), _quantile(times[on], 0.99))
    print(
        f"{args.questions} questions of 5 products, full Complete Journey model, CPU per associate"
    )
    print(f"without the rule: p50 {p50[0]:.1f} us, p99 {p99[0]:.1f} us")
    rule = f"with at most {args.slots} own products, ratio {args.ratio:g}"
    print(f"{rule}: p50 {p50[1]:.1f} us, p99 {p99[1]:.1f} us")
    print(f"ratio with / without: p50 {p50[1] / p50[0]:.2f}x, p99 {p99[1] / p99[0]:.2f}x")
    print(f"answers the rule changed: {changed} of {args.questions}")


if __name__ == "__main__":
    main()
