"""A ``serve cloud`` killed with SIGKILL has traced every message that left it.

The cloud's trace is held in a 64 KiB buffer and was flushed every 50 ms, so a kill -9 lost
the lines of the last moment: the ``upload-ack`` of uploads the POS saw acknowledged were in
no trace of the cloud, and ``assocsim check`` over the processes' traces then judged the
pushes of those receipts after the restart as pushes of receipts never bound, sent to
phones with no right to them (one kill at 100 of 450 acknowledged uploads: 6 ``binding``
and 6 ``privacy`` violations of a run that kept every promise). The driver now flushes the
trace at the end of each batch, after its messages are handed to the transport and before
any of them is written to a socket: a message on the wire is in the trace.

Planted: ``tests/planted/unflushed_cloud_trace.py`` (the driver without that flush).
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.ports import restart_port
from tests.scenarios.field_processes import WAIT, Proc, Procs, json_lines, purchases

ROOT = Path(__file__).resolve().parents[2]

KILL_AT = (40, 120, 200)  # acknowledgements seen by the POS before each kill
UPLOADS = 300


def _acknowledged(pos: Proc) -> set[str]:
    return {line["receipt"] for line in json_lines(pos.out) if line.get("event") == "acknowledged"}


def _seen(pos: Proc, count: int) -> bool:
    return len(_acknowledged(pos)) >= count


def _acks_traced(directory: Path) -> set[str]:
    traced: set[str] = set()
    for path in directory.glob("cloud*.jsonl"):
        for line in path.read_text().splitlines()[1:]:
            if not line.endswith("}"):
                continue  # a line the kill cut in the middle
            record = json.loads(line)
            if record.get("event") == "send" and record.get("type") == "upload-ack":
                traced.add(str(record["msg"]["receipt_id"]))
    return traced


class _Cloud(Proc):
    """``python -m MODULE serve cloud ARGS`` (a planted cloud's module, or ``scenarios``),
    with the repository on the path, killed at the end of the test with the others."""

    def __init__(self, module: str, name: str, args: list[str], directory: Path) -> None:
        self.name, self.args = name, args
        self.out_path, self.err_path = directory / f"{name}.out", directory / f"{name}.err"
        self._out, self._err = self.out_path.open("w"), self.err_path.open("w")
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.popen = subprocess.Popen(
            [sys.executable, "-m", module, "serve", "cloud", *args],
            cwd=directory,
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
        )


def _start_cloud(procs: Procs, module: str, name: str, args: list[str]) -> Proc:
    cloud = _Cloud(module, name, args, procs.directory)
    procs.started.append(cloud)
    cloud.wait_until("listening line", lambda: re.search(r"listening on", cloud.out) is not None)
    return cloud


def run_kills(
    procs: Procs, directory: Path, module: str = "scenarios"
) -> tuple[set[str], set[str]]:
    """A POS uploads while its cloud is killed at :data:`KILL_AT` and started again on the
    same --trace; (receipts the POS saw acknowledged, receipts the cloud traced an ack of)."""
    port = restart_port()
    args = ["--listen", f"127.0.0.1:{port}", "--db", "cloud.db", "--merchant-keys", "keys.json"]
    args += ["--trace", "cloud.jsonl"]
    sales = [
        {"receipt_id": f"K{n:04d}", "phone_id": "+8613800000001", "skus": ["SKIN-FW-001"],
         "at": round(n / 150, 4)}
        for n in range(UPLOADS)
    ]  # fmt: skip
    cloud = _start_cloud(procs, module, "cloud-0", args)
    pos = procs.pos(port, purchases(directory / "sales.jsonl", sales), "--notice-wait", "0")
    for number, count in enumerate(KILL_AT, 1):
        pos.wait_until(f"{count} acknowledgements", functools.partial(_seen, pos, count))
        cloud.popen.send_signal(signal.SIGKILL)
        cloud.wait()
        cloud = _start_cloud(procs, module, f"cloud-{number}", args)
    assert pos.wait(4 * WAIT) == 0, pos.err
    assert cloud.interrupt() == 0, cloud.err
    return _acknowledged(pos), _acks_traced(directory)


def test_every_acknowledgement_a_pos_got_is_in_the_killed_clouds_traces(
    procs: Procs, tmp_path: Path, keys: str
) -> None:
    acknowledged, traced = run_kills(procs, tmp_path)
    assert len(acknowledged) == UPLOADS
    missing = sorted(acknowledged - traced)
    assert not missing, f"{len(missing)} acknowledgements in no trace of the cloud: {missing}"


def test_planted_a_cloud_that_sends_before_tracing_is_caught(
    procs: Procs, tmp_path: Path, keys: str
) -> None:
    acknowledged, traced = run_kills(procs, tmp_path, "tests.planted.unflushed_cloud_trace")
    assert len(acknowledged) == UPLOADS
    assert acknowledged - traced  # acknowledgements the killed clouds never traced
