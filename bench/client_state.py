"""What ``--state-dir`` costs a field POS and phone: one fsynced file per step.

Run from the repository root::

    .venv/bin/python bench/client_state.py [--purchases N] [--repeat R] [--rate FLOWS_PER_S]

Each run starts a fresh ``serve cloud`` (durable store, its own temporary directory) and,
beside it, an ``assocsim phone`` with the phone every purchase names (subscribed first,
``--token-file``), then times ``assocsim pos`` uploading N purchases (each handed to the
phone, which asks: a pull flow) from its start to its exit: all at once (a burst: the
till's state holds every sale in flight, so each step writes them all), or ``--rate`` a
second (a till's steady day: a few in flight). The two variants, without and with
``--state-dir`` on both clients, alternate R times in one process on the same machine; the
ratio is the median of the per-repeat ratios (with / without: above 1 is the cost). Every
run is printed, not the best one. Each client step writes its party's file (temporary
file, fsync, rename) before the step's messages leave.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHONE = "+8613800000001"
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}


def _assocsim(
    directory: Path, *args: str, stdout: IO[str] | int, stderr: int
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scenarios", *args],
        cwd=directory,
        env=ENV,
        text=True,
        stdout=stdout,
        stderr=stderr,
    )


def _wait_for(path: Path, pattern: str, timeout: float = 60.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, path.read_text()) if path.exists() else None
        if found:
            return found
        time.sleep(0.02)
    raise SystemExit(f"no {pattern!r} in {path} after {timeout} s")


def one_run(purchases: int, kept: bool, rate: float | None) -> float:
    """Seconds from the POS's start to its exit."""
    with tempfile.TemporaryDirectory(prefix="bench-state-") as name:
        directory = Path(name)
        key = subprocess.run(
            [sys.executable, "-m", "scenarios", "serve", "add-merchant",
             "--merchant-keys", "keys.json", "--merchant", "shop-01"],
            cwd=directory, env=ENV, text=True, capture_output=True, check=True,
        ).stdout.strip()  # fmt: skip
        (directory / "shop.key").write_text(key + "\n")
        sales = "".join(
            json.dumps(
                {
                    "receipt_id": f"R{n}",
                    "phone_id": PHONE,
                    "skus": ["FOOD-PA-001"],
                    "at": 0.0 if rate is None else n / rate,
                }
            )
            + "\n"
            for n in range(purchases)
        )
        (directory / "sales.jsonl").write_text(sales)
        state = ["--state-dir", "state"] if kept else []
        with (directory / "cloud.out").open("w") as out:
            cloud = _assocsim(
                directory, "serve", "cloud", "--listen", "127.0.0.1:0", "--db", "cloud.db",
                "--merchant-keys", "keys.json", stdout=out, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        try:
            port = _wait_for(directory / "cloud.out", r"listening on 127\.0\.0\.1:(\d+)")[1]
            with (directory / "phone.out").open("w") as out:
                phone = _assocsim(
                    directory, "phone", "--cloud", f"127.0.0.1:{port}", "--id", PHONE,
                    "--token-file", "tokens.json", *state, stdout=out,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            try:
                _wait_for(directory / "phone.out", '"subscribed"')
                started = time.perf_counter()
                pos = _assocsim(
                    directory, "pos", "--cloud", f"127.0.0.1:{port}", "--merchant", "shop-01",
                    "--key-file", "shop.key", "--purchases", "sales.jsonl",
                    "--notice-wait", "30", *state,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                if pos.wait(600) != 0:
                    raise SystemExit("the POS failed")
                return time.perf_counter() - started
            finally:
                phone.kill()
                phone.wait()
        finally:
            cloud.kill()
            cloud.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=float, help="flows a second (default: all at once)")
    args = parser.parse_args()
    offered = "at once" if args.rate is None else f"{args.rate:g} a second"
    print(f"# {args.purchases} pull flows {offered}; load {os.getloadavg()[0]:.2f}")
    ratios = []
    for repeat in range(1, args.repeat + 1):
        plain = one_run(args.purchases, kept=False, rate=args.rate)
        kept = one_run(args.purchases, kept=True, rate=args.rate)
        ratios.append(kept / plain)
        print(
            f"repeat {repeat}: without --state-dir {plain:.2f} s, with {kept:.2f} s: "
            f"{kept / plain:.2f}x (load {os.getloadavg()[0]:.2f})",
            flush=True,
        )
    print(f"median ratio (with / without): {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
