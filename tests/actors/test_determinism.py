"""Same scenario and seed, same trace, byte for byte; and the trio internals we rely on."""

from __future__ import annotations

import hashlib
import io
import random
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
import trio._core._run as trio_run

from actors import JsonlTraceWriter, Scheduling, deterministic_scheduling
from scenarios import load_scenario, run_scenario


def test_trio_still_has_the_private_scheduler_knobs_we_use() -> None:
    # If this fails, trio changed its scheduler internals: revisit actors/_determinism.py.
    assert isinstance(trio_run._r, random.Random)
    assert isinstance(trio_run._ALLOW_DETERMINISTIC_SCHEDULING, bool)


def test_deterministic_scheduling_restores_trio_state() -> None:
    before = (trio_run._ALLOW_DETERMINISTIC_SCHEDULING, trio_run._r.getstate())
    with deterministic_scheduling(123):
        assert trio_run._ALLOW_DETERMINISTIC_SCHEDULING is True
    assert (trio_run._ALLOW_DETERMINISTIC_SCHEDULING, trio_run._r.getstate()) == before


def _trace(name: str, seed: int, scheduling: Scheduling) -> str:
    buffer = io.StringIO()
    scenario = attrs.evolve(load_scenario(name), purchases=150)
    observers = [JsonlTraceWriter(buffer, {"seed": seed})]
    run_scenario(scenario, seed, observers=observers, scheduling=scheduling)
    return buffer.getvalue()


@pytest.mark.parametrize("scheduling", ["tasks", "inline"])
@pytest.mark.parametrize("name", ["wrong-ids", "faults"])
def test_the_same_seed_gives_the_same_trace_in_one_process(
    name: str, scheduling: Scheduling
) -> None:
    first = _trace(name, 3, scheduling)
    assert first == _trace(name, 3, scheduling)
    assert first != _trace(name, 4, scheduling)


@pytest.mark.parametrize("scheduling", ["tasks", "inline"])
def test_the_same_seed_gives_a_byte_identical_trace_file_across_processes(
    tmp_path: Path, scheduling: str
) -> None:
    # The two processes run at once (neither reads the other's file).
    paths = [tmp_path / f"trace{run}.jsonl" for run in range(2)]
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scenarios",
                "run",
                "faults",  # the simulated network, faults and a crash: seeded too
                "--set",
                "purchases=150",
                "--seed",
                "9",
                "--scheduling",
                scheduling,
                "--trace",
                str(path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
            cwd=Path(__file__).parents[2],
        )
        for path, hash_seed in zip(paths, ("1", "2"), strict=True)
    ]
    for process in started:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]
    assert digests[0] == digests[1]
