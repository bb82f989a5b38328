"""``assocsim sweep ... --scheduler tcp://HOST:PORT``: a sweep on an existing Dask cluster.

The cluster is real and separate: a ``dask scheduler`` process and two ``dask worker``
processes (one thread each) on loopback, started here. The sweep through the command line
on that cluster must write the same bytes as the same sweep run locally. Every way of not
getting a cluster is one line and exit status 2.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import distributed
import pytest

from scenarios import ScenarioError
from scenarios._sweep import _cluster
from tests.ports import restart_port
from tests.scenarios.cli_runs import run_main as _main

ROOT = Path(__file__).resolve().parents[2]
SMALL = """\
description = "a small world for the cluster sweep"
seed = 3
shops = 2
phones = 8
purchases = 30
duration = "1h"
wrong_id_rate = 0.1
ask_probability = 0.6
ask_delay = ["10s", "15m"]
"""
SWEEP = ["--vary", "cloud.push_timeout=1m,10m", "--vary", "network.loss=0,0.2", "--seeds", "2"]
# No dashboard, and its HTTP server (health checks) on a free port, not 8787.
SCHEDULER = (
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--no-dashboard",
    "--dashboard-address",
    "127.0.0.1:0",
)
WORKER = ("--nthreads", "1", "--no-nanny", "--no-dashboard", "--death-timeout", "60")
FILES = ("results.csv", "summary.csv", "latencies.csv")


def _free_port() -> int:
    """A port nothing listens on, which must stay so until the sweep connects: outside the
    kernel's ephemeral range, so no outgoing connection takes it, nor the sweep's own
    connect to it (a TCP self-connect would reach "a scheduler")."""
    return restart_port("127.0.0.1")


def _address_of(scheduler: subprocess.Popen[bytes], path: Path) -> str:
    """The address the scheduler wrote into its --scheduler-file (it picks its own port:
    a port picked here could be taken by another process before the scheduler binds)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {scheduler.returncode}")
        with contextlib.suppress(OSError, ValueError, KeyError):
            return str(json.loads(path.read_text())["address"])
        time.sleep(0.1)
    raise RuntimeError("dask scheduler wrote no address within 60 s")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes on loopback; its address."""
    work = tmp_path_factory.mktemp("dask")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DASK_TEMPORARY_DIRECTORY": str(work),
    }
    dask = [sys.executable, "-m", "dask"]
    logs = [(work / f"{name}.log").open("w") for name in ("scheduler", "worker1", "worker2")]
    scheduler_file = work / "scheduler.json"
    processes = [
        subprocess.Popen(
            [*dask, "scheduler", *SCHEDULER, "--scheduler-file", str(scheduler_file)],
            cwd=work,
            env=env,
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        address = _address_of(processes[0], scheduler_file)
        for log in logs[1:]:
            processes.append(
                subprocess.Popen(
                    [*dask, "worker", address, *WORKER, "--local-directory", str(work)],
                    cwd=work,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        with distributed.Client(address, timeout="60s", set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        # Workers first, each gone before the scheduler is stopped: a worker told to stop
        # while its scheduler is already going waits for it (20 s measured).
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


def test_a_sweep_on_the_cluster_writes_the_bytes_of_a_local_one(
    scheduler: str, tmp_path: Path
) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    local, remote = tmp_path / "local", tmp_path / "cluster"
    argv = ["sweep", str(scenario), *SWEEP, "--no-plots"]
    code, _, err = _main([*argv, "--jobs", "1", "--out", str(local)])
    assert code == 0, err
    code, out, err = _main([*argv, "--scheduler", scheduler, "--out", str(remote)])
    assert code == 0, err
    first = out.splitlines()[0]
    assert "= 8 runs in " in first, first
    assert first.endswith(f"2 threads on {scheduler})"), first
    for name in FILES:
        assert (remote / name).read_bytes() == (local / name).read_bytes(), name
    assert '"jobs": 2' in (remote / "sweep.json").read_text()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens there: the connection can only time out, so the wait is kept short
    # (the message's number is the timeout's, whatever it is).
    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT", 0.25)
    address = f"tcp://127.0.0.1:{_free_port()}"
    started = time.perf_counter()
    code, out, err = _main(["sweep", "quickstart", "--scheduler", address, "--out", str(tmp_path)])
    assert (code, out) == (2, "")
    assert err.startswith(
        f"assocsim: error: --scheduler {address}: "
        "cannot reach a Dask scheduler there within 0.25 s ("
    ), err
    assert err.endswith("is `dask scheduler` running and the port open?\n")
    assert err.count("\n") == 1
    assert time.perf_counter() - started < 30
    assert not (tmp_path / "results.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--scheduler", "127.0.0.1:8786"],
            "--scheduler 127.0.0.1:8786: expected a Dask scheduler address such as tcp://HOST:8786",
        ),
        (
            ["--scheduler", "tcp://127.0.0.1:8786", "--jobs", "2"],
            "--jobs and --scheduler: give one (the cluster sets the workers)",
        ),
    ],
)
def test_a_bad_scheduler_option_is_one_line_and_exit_2(
    extra: list[str], message: str, tmp_path: Path
) -> None:
    code, out, err = _main(["sweep", "quickstart", *extra, "--out", str(tmp_path)])
    assert (code, out, err) == (2, "", f"assocsim: error: {message}\n")


def test_without_dask_the_option_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # find_spec("distributed"): None
    code, _, err = _main(
        ["sweep", "quickstart", "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path)]
    )
    assert code == 2
    assert err == (
        "assocsim: error: --scheduler needs Dask's distributed: pip install 'assocsim[cluster]'\n"
    )


def test_a_scheduler_without_workers_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT", 1.0)
    with distributed.LocalCluster(
        n_workers=0,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        scheduler_kwargs={"dashboard": False},
    ) as cluster:
        address = cluster.scheduler_address
        code, out, err = _main(
            ["sweep", "quickstart", "--scheduler", address, "--out", str(tmp_path)]
        )
    assert (code, out) == (2, "")
    assert err == (
        f"assocsim: error: --scheduler {address}: the scheduler has had no worker for 1 s; "
        f"start one with `dask worker {address}`\n"
    )


def test_a_bad_vary_is_told_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT", 20.0)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    started = time.perf_counter()
    argv = ["sweep", "quickstart", "--vary", "wrong_id_rate=0,7", "--scheduler", address]
    code, out, err = _main([*argv, "--out", str(tmp_path)])
    assert (code, out) == (2, "")
    assert err.startswith("assocsim: error: --vary wrong_id_rate=7: ") and err.count("\n") == 1
    assert time.perf_counter() - started < 10  # not the 20 s of a connection attempt


@pytest.mark.parametrize(
    ("error", "told"),
    [
        (distributed.comm.core.CommClosedError("in <TCP (closed)>"), True),
        (concurrent.futures.CancelledError("lost"), True),
        (ValueError("a run's own bug"), False),
    ],
)
def test_a_cluster_lost_during_the_sweep_is_one_line(
    scheduler: str, error: Exception, told: bool
) -> None:
    """What the executor raises when the cluster goes away becomes a ScenarioError (one
    line from the CLI); any other error is the sweep's own and goes through unchanged."""
    expected = ScenarioError if told else type(error)
    with pytest.raises(expected) as caught, _cluster.connect_cluster(scheduler):
        raise error
    if told:
        assert str(caught.value) == (
            f"--scheduler {scheduler}: the cluster failed during the sweep "
            f"({type(error).__name__}: {error}); no file was written"
        )
