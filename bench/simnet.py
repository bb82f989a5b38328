"""Wall time of a large run on the simulated network with faults, against in-memory.

Runs the built-in ``faults`` scenario scaled to ``--purchases`` purchases (100,000 by
default; phones scaled to keep ~12 purchases each, the fault schedule kept) three ways, in
the same process, and prints wall times and ratios to the first:

1. ``memory``: the same workload over in-memory mailboxes, no faults (the baseline);
2. ``simnet``: the simulated network with the scenario's latency, 20 % loss, 20 %
   duplication, reordering and partitions; the cloud on the in-memory store, no crash;
3. ``simnet+crash``: the whole scenario, with the cloud crash and its SQLite store.

Every run must end with nothing lost and nothing duplicated, or the benchmark fails.

    python bench/simnet.py [--purchases N] [--skip-crash]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this tree, not the installed one

from actors import NetworkConfig
from scenarios import Report, Scenario, load_scenario, run_scenario


def _variants(purchases: int, with_crash: bool) -> list[tuple[str, Scenario]]:
    faults = load_scenario("faults")
    scaled = attrs.evolve(
        faults, purchases=purchases, phones=max(20, purchases * faults.phones // faults.purchases)
    )
    memory = attrs.evolve(
        scaled,
        network=NetworkConfig(),
        partition=(),
        crash=(),
        cloud=attrs.evolve(scaled.cloud, store="memory"),
    )
    simnet = attrs.evolve(scaled, crash=(), cloud=attrs.evolve(scaled.cloud, store="memory"))
    variants = [("memory", memory), ("simnet", simnet)]
    if with_crash:
        variants.append(("simnet+crash", scaled))
    return variants


def _run(scenario: Scenario) -> tuple[float, Report]:
    started = time.perf_counter()
    report = run_scenario(scenario).report
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=100_000)
    parser.add_argument("--skip-crash", action="store_true", help="leave out the crash run")
    args = parser.parse_args()
    rows = []
    for name, scenario in _variants(args.purchases, not args.skip_crash):
        wall, report = _run(scenario)
        if report.lost or report.duplicates:
            raise SystemExit(f"{name}: lost {report.lost}, duplicates {report.duplicates}")
        rows.append((name, wall, report))
        print(f"{name}: {wall:.1f} s", flush=True)
    base = rows[0][1]
    print()
    print(
        f"{'run':<14}{'wall s':>9}{'x memory':>10}{'purchases/s':>13}{'re-sent':>10}{'faults':>9}"
    )
    for name, wall, report in rows:
        print(
            f"{name:<14}{wall:>9.1f}{wall / base:>10.2f}{report.purchases / wall:>13.0f}"
            f"{report.resent:>10}{report.faults:>9}"
        )


if __name__ == "__main__":
    main()
