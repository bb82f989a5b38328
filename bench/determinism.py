"""Seeded determinism across processes: the same scenario and seed, the same trace bytes.

For each of ``--seeds`` seeds, runs ``assocsim run SCENARIO --seed N --trace FILE`` twice,
in two fresh processes with different ``PYTHONHASHSEED`` values and with both
schedulings, and compares the sha256 of the trace files; then checks that different seeds
gave different traces. Prints the counts; exits 1 on any mismatch.

    python bench/determinism.py [--scenario faults] [--seeds 100] [--set purchases=200]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _trace_sha(args: list[str], trace: Path, hash_seed: str) -> str:
    # The child imports this tree (a `git archive` copy measures itself, not the install).
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": path}
    subprocess.run(
        [sys.executable, "-m", "scenarios", "run", *args, "--trace", str(trace)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return hashlib.sha256(trace.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="faults")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--set", action="append", dest="overrides", help="default: purchases=200")
    args = parser.parse_args()
    args.overrides = args.overrides or ["purchases=200"]
    started = time.perf_counter()
    identical = differing = 0
    hashes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for scheduling in ("inline", "tasks"):
                run = [args.scenario, "--seed", str(seed), "--scheduling", scheduling]
                for override in args.overrides:
                    run += ["--set", override]
                first = _trace_sha(run, Path(tmp) / "a.jsonl", "1")
                second = _trace_sha(run, Path(tmp) / "b.jsonl", "2")
                if first == second:
                    identical += 1
                else:
                    differing += 1
                    print(f"seed {seed} ({scheduling}): {first[:16]} != {second[:16]}")
                if scheduling == "inline":
                    hashes[first] = seed
    distinct = len(hashes)
    print(
        f"{args.scenario} {' '.join(args.overrides)}: {identical} of {identical + differing} "
        f"seed/scheduling pairs gave byte-identical traces in two processes; "
        f"{distinct} distinct traces for {args.seeds} seeds; "
        f"{time.perf_counter() - started:.0f} s"
    )
    if differing or distinct != args.seeds:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
