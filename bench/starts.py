"""CPU of an ``assocsim`` process start: this tree against a baseline tree, alternated.

Every field-trial process (``serve cloud``, ``pos``, ``phone``) and every command-line
child a test starts pays its imports before any work: the suite starts about 170 of them.
Each start here is ``python -m scenarios --help`` (the whole parser, every subcommand's
module, no run), in copies of both trees, with ``PYTHONDONTWRITEBYTECODE=1`` as the CI's
environment may set it: once without cached bytecode (each start compiles every module of
the tree) and once after ``compileall`` (what ``.ci/run`` does before the suite). The
copies are started in turn, round after round, so both meet the same load; the CPU of
each start (user + system, from ``wait4``) is printed, then medians and ratios against the
baseline without cached bytecode.

    python bench/starts.py --against /tmp/before [--rounds 10]

(``--against``: a ``git archive`` copy of the commit before, for instance.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "actors", "scenarios")


def _copy(tree: Path, into: Path, *, compiled: bool) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            tree / package, into / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    if compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=into, check=True)
    return into


def _start_cpu(tree: Path) -> float:
    """CPU seconds of one ``python -m scenarios --help`` in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "scenarios", "--help"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"python -m scenarios --help failed in {tree}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the baseline tree")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {
            f"{name} {cache}": _copy(
                tree, Path(tmp) / f"{name}-{cache}", compiled=cache == "cached"
            )
            for name, tree in (("baseline", args.against.resolve()), ("this", ROOT))
            for cache in ("uncached", "cached")
        }
        for path in trees.values():  # a first start each: the disk cache warm for all
            _start_cpu(path)
        cpu: dict[str, list[float]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            for name, path in trees.items():
                cpu[name].append(_start_cpu(path))
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {c[-1]:.3f}" for n, c in cpu.items()))
    reference = statistics.median(cpu["baseline uncached"])
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    for name, values in cpu.items():
        median = statistics.median(values)
        ratio = median / reference
        print(f"{name:18} median {median:.3f} s CPU a start, {ratio:.2f}x baseline uncached")


if __name__ == "__main__":
    main()
