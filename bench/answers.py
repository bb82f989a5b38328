"""What building a question's answer objects costs: the trusted constructor against the
validated one, alternated in one process.

Run from the repository root::

    .venv/bin/python bench/answers.py [--questions N]

A question here is five answers built from five purchase lines of the built-in catalog
(each with a reason and a score, the second of them on offer), as ``PairingEngine.associate``
builds them: by :func:`~protocol._core._trusted.answer_from_line` (the goods fields copied
from the validated line, the reason and score checked) and by the validated
``AssociatedProduct(...)`` (nine validators each). The two are alternated per question,
the order swapped from one question to the next, and their answers compared equal.
Printed: CPU ns per question (``time.process_time_ns`` over blocks of 100 questions),
p50 of each and their ratio, trusted / validated: the figure to compare across runs on a
shared machine. It measures the constructor alone, not a whole ``associate`` call (for
that: ``bench/reco.py``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this tree, not the installed one

from protocol import AssociatedProduct, Item, Offer, Reason, builtin_catalog
from protocol._core._trusted import answer_from_line, validated_answer

_BLOCK = 100  # questions per timing: a question (~10 us) is near the clock's grain
_Question = list[tuple[Item, Reason, float, Offer | None]]


def questions(count: int, seed: int = 7) -> list[_Question]:
    """*count* questions of five catalog lines each, seeded."""
    catalog = builtin_catalog()
    lines = [catalog.to_item(product) for product in catalog.products]
    rng = random.Random(seed)
    reasons = list(Reason)
    made = []
    for _ in range(count):
        question: _Question = []
        for n, line in enumerate(rng.sample(lines, 5)):
            offer = Offer(line.sku, "2 for 1", round(line.price * 0.8, 2)) if n == 1 else None
            question.append((line, rng.choice(reasons), rng.random(), offer))
        made.append(question)
    return made


def _timed(build: Callable[..., AssociatedProduct], block: list[_Question]) -> int:
    started = time.process_time_ns()
    for question in block:
        for line, reason, score, offer in question:
            build(line, reason, score, offer)
    return time.process_time_ns() - started


def _questions_arg(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < _BLOCK:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {_BLOCK}, got {text!r}")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--questions", type=_questions_arg, default=20_000, help="questions per constructor"
    )
    args = parser.parse_args()
    asked = questions(args.questions)
    for question in asked[:_BLOCK]:  # the same answers, bit for bit
        for line, reason, score, offer in question:
            a = answer_from_line(line, reason, score, offer)
            b = validated_answer(line, reason, score, offer)
            if a != b or a.score.hex() != b.score.hex():
                print(f"answers differ: {a!r} != {b!r}")
                return 1
    trusted_ns: list[float] = []
    validated_ns: list[float] = []
    for n in range(0, len(asked) - _BLOCK + 1, _BLOCK):
        block = asked[n : n + _BLOCK]
        pair = [(answer_from_line, trusted_ns), (validated_answer, validated_ns)]
        for build, times in pair if n // _BLOCK % 2 == 0 else reversed(pair):
            times.append(_timed(build, block) / _BLOCK)
    fast, slow = statistics.median(trusted_ns), statistics.median(validated_ns)
    print(f"questions: {len(trusted_ns) * _BLOCK:,} of 5 answers each, alternated per block")
    print(f"validated constructor  CPU p50 {slow / 1e3:7.2f} us per question (the baseline)")
    print(f"trusted constructor    CPU p50 {fast / 1e3:7.2f} us per question")
    print(f"trusted / validated    {fast / slow:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
