"""What judging every run costs a sweep: this tree against an earlier one, alternated.

Every ``assocsim sweep`` run is judged by the invariants' checker (as ``run --check``);
before, a sweep ran no checker. This times the same sweep command in fresh processes,
``--against DIR`` (a ``git archive`` copy of the earlier commit) and this tree in turn,
before, after, after, before, ... (``--pairs`` pairs), and prints every run: the whole
command's wall time (as ``/usr/bin/time`` gives it), its CPU time (user + system, less
sensitive to the other jobs on a shared machine) and the sweep's own ``runs in X s``;
then the ratios after / before of the medians, and the load average before and after.

    git archive COMMIT | tar -x -C /tmp/before
    python bench/sweep_check.py --against /tmp/before [--pairs 3] \\
        [-- quickstart --vary network.loss=0,0.1 --seeds 3 --jobs 1 --no-plots]

Each tree's first sweep is a warm-up (it compiles the tree's bytecode), printed, not counted.

2026-12-07, 7f2b132 (every run judged) against e261766 (none), on the shared 2-core
machine, load average 4.8-6.0 from other engineers' jobs, every run:

* ``quickstart --vary network.loss=0,0.1 --seeds 3 --jobs 1`` (6 runs of 500 purchases),
  3 pairs: before wall 3.58, 3.57, 3.83 s, CPU 2.35, 2.38, 2.55 s, runs 1.9, 1.7, 1.7 s;
  after wall 5.27, 4.89, 5.50 s, CPU 3.43, 3.19, 3.52 s, runs 3.7, 3.3, 3.9 s. Medians
  after/before: wall 1.47x, CPU 1.44x, the runs 2.18x (the command's CPU includes about
  1 s of Python's start and imports, which the checker does not change).
* ``faults --set purchases=2000 --vary network.loss=0.1,0.2 --seeds 2 --jobs 1`` (4 runs),
  2 pairs: before wall 18.86, 19.15 s, CPU 11.79, 11.24 s, runs 17.0, 16.8 s; after wall
  32.76, 27.46 s, CPU 19.95, 17.64 s, runs 31.0, 25.6 s. Medians after/before: wall
  1.58x, CPU 1.63x, the runs 1.67x.

The same two in a quiet window (load average 0.3-1.7), same commits:

* quickstart, 3 pairs: before wall 2.10, 2.21, 2.26 s, CPU 2.16, 2.18, 2.23 s, runs 1.0,
  1.1, 1.1 s; after wall 3.11, 3.37, 2.92 s, CPU 3.07, 3.33, 2.87 s, runs 2.2, 2.4, 2.1 s.
  Medians after/before: wall 1.41x, CPU 1.41x, the runs 2.00x.
* faults, 2 pairs: before wall 11.73, 13.66 s, CPU 11.12, 13.06 s, runs 10.3, 12.2 s;
  after wall 17.18, 18.34 s, CPU 16.50, 17.75 s, runs 16.0, 17.2 s. Medians after/before:
  wall 1.40x, CPU 1.42x, the runs 1.48x.

(An earlier version of this bench ran ``python -m scenarios`` from this tree's directory,
so both sides imported this tree: its figures, 0.90-1.25x, measured nothing and are not
quoted.) Where the time goes: a profile of three quickstart runs (cProfile, 5.0 s) puts
1.9 s in the checker's observer call, of which 0.5 s turns each live event into its JSON
form (``TraceEvent.to_json``) and about 0.4 s parses it back (``parse_event``) before the
0.9 s of judging (``feed_event``).

2026-12-07, the live records (bdc128e: an observing checker makes each event's record
without its JSON form), every run, wall / CPU / runs in s:

* b4167c5 against 9154b13 (just before them), load 2.1-3.2. quickstart, 3 pairs: before
  6.44/4.37/4.00, 4.24/4.10/3.10, 4.27/4.27/2.90; after 5.79/3.55/4.10, 4.43/4.08/3.30,
  3.36/3.42/2.40: medians wall 1.04x, CPU 0.83x, runs 1.06x. faults (``--jobs 1
  --no-plots``), 2 pairs: before 22.69/21.27/21.10, 19.80/19.29/18.30; after
  19.33/18.56/17.80, 19.19/16.79/17.80: wall 0.91x, CPU 0.87x, runs 0.90x. (An earlier
  pair of quickstart at load 1.9, bdc128e against 9154b13: wall 0.88x, CPU 0.89x.)
* b4167c5 against e261766 (no judging), load 1.9-2.1. quickstart, 3 pairs: before
  3.12/3.06/1.60, 2.69/2.67/1.40, 2.32/2.31/1.20; after 3.40/3.36/2.50, 3.47/3.42/2.50,
  4.04/4.01/3.10: wall 1.29x, CPU 1.28x, runs 1.79x. faults, 2 pairs: before
  12.03/11.62/10.70, 10.88/10.50/9.60; after 17.10/16.66/15.80, 17.78/16.77/16.70: wall
  1.52x, CPU 1.51x, runs 1.60x. Within the spread of the figures above: on a whole sweep
  the live records are not shown to change what judging costs.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = ["quickstart", "--vary", "network.loss=0,0.1", "--seeds", "3", "--jobs", "1"]
HERE = Path(__file__).resolve().parent.parent
_RUNS = re.compile(r"runs in ([0-9.]+) s")
# assocsim's main, saying first which tree it imported (PYTHONPATH's, not the install's)
_CHILD = (
    "import sys, pathlib, scenarios\n"
    "sys.stderr.write(f'tree {pathlib.Path(scenarios.__file__).resolve().parent.parent}\\n')\n"
    "from scenarios._cli._main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _sweep(root: Path, args: list[str], out: Path) -> tuple[float, float, float, int]:
    """One ``assocsim sweep`` of the tree at ``root``: wall s, CPU s, the runs' s, status."""
    path = os.pathsep.join(filter(None, (str(root), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONPATH": path}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, "sweep", *args, "--no-plots", "--out", str(out)],
        env=env,
        cwd=out.parent,  # not a tree: `-m` puts the working directory before PYTHONPATH
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = _RUNS.search(done.stdout)
    if f"tree {root.resolve()}\n" not in done.stderr:
        raise SystemExit(f"bench/sweep_check.py: the sweep did not run {root}:\n{done.stderr}")
    if found is None:
        raise SystemExit(f"bench/sweep_check.py: no 'runs in' line from {root}:\n{done.stderr}")
    return wall, cpu, float(found.group(1)), done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the earlier tree")
    parser.add_argument("--pairs", type=int, default=3, help="before/after pairs (default 3)")
    parser.add_argument("sweep", nargs="*", help="the sweep's arguments (after --)")
    args = parser.parse_args()
    sweep = args.sweep or DEFAULT
    if "--no-plots" in sweep:
        sweep.remove("--no-plots")  # always given: plots are not what is measured
    trees = {"before": args.against.resolve(), "after": HERE}
    order = [
        name
        for n in range(args.pairs)
        for name in (("before", "after"), ("after", "before"))[n % 2]
    ]
    times: dict[str, list[tuple[float, float, float]]] = {"before": [], "after": []}
    print(f"assocsim sweep {' '.join(sweep)} --no-plots; before = {trees['before']}")
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("before", "after"):  # compiles each tree's bytecode; not counted
            wall, cpu, runs, status = _sweep(trees[name], sweep, Path(tmp) / f"warm-{name}")
            print(f"{name:<6}  wall {wall:6.2f} s  cpu {cpu:6.2f} s  (warm-up, not counted)")
        for index, name in enumerate(order):
            wall, cpu, runs, status = _sweep(trees[name], sweep, Path(tmp) / f"s{index}")
            times[name].append((wall, cpu, runs))
            print(
                f"{name:<6}  wall {wall:6.2f} s  cpu {cpu:6.2f} s  runs {runs:6.2f} s  "
                f"exit {status}  load {os.getloadavg()[0]:.2f}"
            )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for at, what in enumerate(("wall", "cpu", "runs")):
        before = statistics.median(t[at] for t in times["before"])
        after = statistics.median(t[at] for t in times["after"])
        print(
            f"{what:<5} median before {before:6.2f} s  after {after:6.2f} s  "
            f"after/before {after / before if before else math.nan:.2f}x"
        )


if __name__ == "__main__":
    main()
