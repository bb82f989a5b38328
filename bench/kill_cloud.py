"""kill -9 ``serve cloud`` at 50 random moments while a POS uploads, and count what was lost.

The field trial of ``tests/scenarios/test_kill_cloud.py`` (issue 12, *Field*) with more
rounds: real ``serve cloud``, ``phone`` and ``pos`` processes on 127.0.0.1; the POS uploads
a steady stream (``--rate`` purchases a second, as long as the rounds need), and each
round, once its uploads reach the cloud, the cloud is killed with SIGKILL at a random
moment and restarted on the same ``--db`` and port. At the end it prints the rounds, the
uploads acknowledged, how many of them are bound in the store and shown at the phone the
POS named, and the lost ones (acknowledged, never shown there); exit status 1 if any was
lost, not bound, or shown twice. No timing targets: the wall time is for information.

    .venv/bin/python bench/kill_cloud.py [--rounds 50] [--seed 12] [--rate 150] [--keep DIR]
        [--cloud-module MODULE]

``--cloud-module`` runs the cloud as ``python -m MODULE serve cloud ...``: e.g. the planted
``tests.planted.lazy_commit_cloud`` (commits at most every 0.5 s), which must lose uploads.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.scenarios.test_kill_cloud import KillPlan, run_kill_rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="kills (default 50)")
    parser.add_argument("--seed", type=int, default=12, help="the moments' and mix's seed")
    parser.add_argument(
        "--rate", type=float, default=KillPlan().rate, help="purchases a second (default 150)"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="run in DIR and keep it")
    parser.add_argument(
        "--cloud-module",
        default=KillPlan().cloud_module,
        metavar="MODULE",
        help="run the cloud as python -m MODULE serve cloud (default: scenarios)",
    )
    args = parser.parse_args()
    if args.rounds < 1 or not args.rate > 0:
        parser.error("--rounds and --rate must be > 0")
    plan = KillPlan(
        rounds=args.rounds, seed=args.seed, rate=args.rate, cloud_module=args.cloud_module
    )
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        counts = run_kill_rounds(args.keep, plan, say=lambda line: print(line, flush=True))
    else:
        with tempfile.TemporaryDirectory(prefix="kill-cloud-") as directory:
            counts = run_kill_rounds(
                Path(directory), plan, say=lambda line: print(line, flush=True)
            )
    print()
    print(counts.format())
    if not counts.ok:
        print(counts.details(limit=None))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
