"""What the pairing engine's discovery rule costs a question, on all of Complete Journey.

Run from the repository root (the data directory defaults to ``../shared/data``)::

    .venv/bin/python bench/discovery.py [--data DIR] [--questions N] [--slots S] [--ratio R]

The engine is configured as ``assocsim reco eval`` configures it for Complete Journey
(``engine_config``) with the scorer weights its fit found there (``WEIGHTS``: the run of
17ca090, docs/recommender.md; the personal feature on), learns every cleaned basket in
time order and refreshes. Then ``PairingEngine.associate`` is asked N (default 3,000)
uploads of 5 products each, drawn at random (seeded) from the baskets of at least 5
products with a household, limit 5, no promotions, each question three times in a row:
without the rule, with it taking the best alternative, and with it taking the seeded one
(``EngineConfig.discovery_seeded``; ``--slots``, ``--ratio``: the eval's choice for
Complete Journey, at most 3 own products with 0.5), the order rotated from one question
to the next so that none always finds the caches warm. Printed: the CPU p50 and p99 of
each (``time.process_time_ns``), their ratios (with / without, seeded / best: the figures
to compare across runs on the shared machine) and how many answers each rule changed.
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
    # the rule off, with the best alternative, with the seeded one (EngineConfig's
    # habit_slots, discovery, discovery_seeded); the order rotated per question
    off = (None, args.ratio, False)
    best = (args.slots, args.ratio, False)
    seeded = (args.slots, args.ratio, True)
    settings = (off, best, seeded)
    times: dict[tuple[int | None, float, bool], list[int]] = {s: [] for s in settings}
    changed = {best: 0, seeded: 0}
    with gc_paused():
        for n, upload in enumerate(uploads):
            answers = {}
            for setting in settings[n % 3 :] + settings[: n % 3]:
                engine.set_discovery(*setting)
                started = time.process_time_ns()
                answers[setting] = engine.associate(upload, None, 5)
                times[setting].append(time.process_time_ns() - started)
            for setting in changed:
                changed[setting] += answers[off] != answers[setting]
    p50 = {s: _quantile(times[s], 0.5) for s in settings}
    p99 = {s: _quantile(times[s], 0.99) for s in settings}
    print(
        f"{args.questions} questions of 5 products, full Complete Journey model, CPU per associate"
    )
    print(f"without the rule: p50 {p50[off]:.1f} us, p99 {p99[off]:.1f} us")
    rule = f"at most {args.slots} own products, ratio {args.ratio:g}"
    for setting, name in ((best, "the best alternative"), (seeded, "the seeded alternative")):
        print(
            f"{rule}, {name}: p50 {p50[setting]:.1f} us, p99 {p99[setting]:.1f} us; ratio "
            f"with / without: p50 {p50[setting] / p50[off]:.2f}x, p99 "
            f"{p99[setting] / p99[off]:.2f}x; answers changed {changed[setting]} of "
            f"{args.questions}"
        )
    print(f"seeded / best: p50 {p50[seeded] / p50[best]:.2f}x, p99 {p99[seeded] / p99[best]:.2f}x")


if __name__ == "__main__":
    main()
