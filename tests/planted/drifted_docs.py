"""Docs that drifted from the code, for showing the checks of ``tests/scenarios/
test_help_text.py`` and ``test_cli_reference.py`` catch each kind of drift."""

from __future__ import annotations

import argparse

__all__ = [
    "FAULTS_ONE_PARTITION",
    "README_DRIFTED",
    "drifted_parser",
]


def drifted_parser() -> argparse.ArgumentParser:
    """A small ``assocsim``: ``run --seed`` has no help (BUG), ``eval`` prints ``%%`` in
    its description (BUG: only help strings are %-formatted), ``fetch`` has a positional
    without help (BUG)."""
    parser = argparse.ArgumentParser(prog="assocsim", description="a drifted tree")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run a scenario", description="Run it.")
    run.add_argument("scenario", metavar="NAME", help="a scenario")
    run.add_argument("--seed", type=int)  # BUG: no help
    run.add_argument("--json", action="store_true", help="print JSON")
    run.add_argument("--epoch", type=float, help=argparse.SUPPRESS)  # hidden: fine
    evaluation = commands.add_parser(
        "eval",
        help="evaluate",
        description="Train on 80 %% of the baskets.",  # BUG: %%
    )
    evaluation.add_argument("--split", choices=("time", "random"), help="how to split")
    fetch = commands.add_parser("fetch", help="fetch data")
    fetch.add_argument("url")  # BUG: no help
    return parser


# For drifted_parser(): the run heading misses --json, the eval row names --folds, which
# eval does not have, and fetch has no synopsis at all.
README_DRIFTED = """\
# drifted

### `assocsim run NAME [--seed N]`

Runs it; `assocsim run NAME --seed 3` picks a seed, `assocsim run NAME | head -n 3` shows
the first lines, and `assocsim run NAME --sed 3 > out.txt` is a typo.

| command | what it does |
| --- | --- |
| `assocsim eval [--split time\\|random] [--folds K]` | evaluate |
"""

# What the faults scenario's description said before it was fixed: it has two partitions.
FAULTS_ONE_PARTITION = (
    "20% loss, 20% duplication, reordering, a partition and a cloud crash, then healed"
)
