"""``assocsim reco eval``: the pairing engine against baselines on a real dataset.

The parser is built by :func:`add_reco_parser` (called by the ``assocsim`` parser) and
the command run by :func:`run_reco`. Errors (a bad ``--data`` directory, a missing file, a
dataset that cannot be read) end in one line and exit status 2, through the
:class:`~protocol.AssocsimError` handling of ``assocsim``'s ``main``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Any

from scenarios._model._datasets import DATASETS, load_dataset
from scenarios._model._errors import ScenarioError
from scenarios._reco._choices import HISTORIES, SPLITS

__all__ = ["add_reco_parser", "run_reco"]


def add_reco_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``reco`` (with its ``eval`` subcommand) to the ``assocsim`` subcommands."""
    reco = commands.add_parser(
        "reco",
        help="evaluate the cloud's pairing engine on real shopping data",
        description="The cloud's pairing engine (steps 506/507) on real baskets.",
    )
    sub = reco.add_subparsers(
        dest="reco_command", required=True, metavar="COMMAND", parser_class=type(reco)
    )
    evaluation = sub.add_parser(
        "eval",
        help="hit-rate of the engine and of baselines on a dataset",
        # A description is printed as written (only help= strings are %-formatted).
        description="Train on the oldest 80 % of a dataset's baskets, test on the newest "
        "20 % (or a random 20 %): for each product of each test basket, ask for the top 5 "
        "given that product (and the shopper) and count a hit when one is elsewhere in the "
        "basket. Prints one table: the engine with and without habits, popularity, "
        "co-occurrence count, cosine, personal popularity, count + history, TIFU-KNN and "
        "(with the eval extra) mlxtend fpgrowth, each with its time, memory and the "
        "engine's lead over it with a paired bootstrap 95 % interval.",
    )
    evaluation.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DIR",
        help="directory with the dataset files (.csv or .csv.xz; see SOURCE.md there)",
    )
    evaluation.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        default="completejourney",
        help="which dataset (default: completejourney)",
    )
    evaluation.add_argument(
        "--split", choices=SPLITS, default="time", help="time (default) or random split"
    )
    evaluation.add_argument(
        "--history",
        choices=HISTORIES,
        default="train",
        help="what the history-aware methods know of each shopper: its training baskets "
        "(train, default) or those plus each test basket once answered (growing)",
    )
    evaluation.add_argument(
        "--rounds",
        type=_rounds,
        default=1000,
        metavar="N",
        help="bootstrap resamples of the 95 %% intervals (default 1000)",
    )
    evaluation.add_argument(
        "--seed", type=int, default=0, help="seed of the random split and of the bootstrap"
    )
    evaluation.add_argument(
        "--json", action="store_true", help="print the table as JSON: one object per method"
    )
    evaluation.add_argument(
        "--no-fpgrowth",
        action="store_true",
        help="skip the mlxtend fpgrowth baseline even when it is installed",
    )


def _rounds(text: str) -> int:
    """A whole number of bootstrap resamples, at least 100 (fewer say little)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 100, got {text!r}") from None
    if value < 100:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 100, got {text!r}")
    return value


class _Progress:
    """One redrawn status line on a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._next = 0.0
        self._drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now < self._next and done < total:  # always draw a stage's last step
            return
        self._next = now + 0.25
        line = f"{stage} {done}/{total} baskets ({done / total:.0%})" if total else stage
        self._stream.write(f"\r{line}".ljust(60))
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\r" + " " * 60 + "\r")
            self._stream.flush()


def run_reco(args: argparse.Namespace, out: IO[str]) -> int:
    """Run ``assocsim reco eval`` with the parsed *args*; the table goes to *out*."""
    if args.reco_command != "eval":  # pragma: no cover - argparse allows only eval
        raise ScenarioError(f"unknown reco command {args.reco_command!r}")
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    started = time.perf_counter()
    try:
        if progress is not None:
            progress(f"loading {args.dataset} from {args.data}", 0, 0)
        dataset = load_dataset(args.dataset, args.data)
        loaded = time.perf_counter() - started
        # numpy's import (0.2-0.5 s) only for this command, not at every assocsim start
        from scenarios._reco._eval import evaluate  # noqa: PLC0415 - numpy only when an eval runs

        evaluation = evaluate(
            dataset,
            split=args.split,
            history=args.history,
            seed=args.seed,
            rounds=args.rounds,
            fpgrowth=False if args.no_fpgrowth else None,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.close()
    if args.json:
        out.write(json.dumps(evaluation.as_json()) + "\n")
        return 0
    out.write(evaluation.format_table() + "\n")
    out.write(
        f"(loaded in {loaded:.1f} s, evaluated in {time.perf_counter() - started - loaded:.1f} s)\n"
    )
    return 0
