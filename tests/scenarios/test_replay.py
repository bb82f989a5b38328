"""Seeded replay and the run-twice determinism check: a trace replays to identical events
(and the same sha256), a tampered or truncated trace is caught at its first differing
event, and ``assocsim replay`` / ``assocsim run --check-determinism`` through the CLI."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from actors import Observer, Scheduling
from scenarios import (
    CloudFactory,
    Difference,
    RunResult,
    Scenario,
    TraceError,
    builtin_scenarios,
    check_determinism,
    first_difference,
    load_scenario,
    replay_trace,
    run_scenario,
    scenario_from_dict,
    scenario_from_header,
    scenario_to_dict,
)
from scenarios._cli._main import main
from scenarios._trace._replay import other_hash_seed

from .test_checks import _assocsim, builtin_trace, run_with_trace


@functools.cache
def small_trace() -> str:
    """A short run with an override recorded in its header: quick to replay."""
    return run_with_trace("wrong-ids", "purchases=60")


def test_first_difference() -> None:
    assert first_difference(["a\n", "b\n"], ["a", "b"]) is None  # line endings do not count
    assert first_difference(["a", "b", "c"], ["a", "x", "c"]) == Difference(2, "b", "x")
    assert first_difference(["a"], ["a", "b"], first_line=2) == Difference(3, None, "b")
    assert first_difference(["a", "b"], ["a"]) == Difference(2, "b", None)
    text = Difference(5, "x", None).describe("trace", "replay")
    assert text.splitlines() == [
        "replay ends before line 5; trace goes on:",
        "  trace:  x",
        "  replay: (end)",
    ]


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_settings_round_trip_to_the_same_scenario(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario_from_dict(scenario_to_dict(scenario)) == scenario
    header = {"seed": 3, "scheduling": "tasks", "settings": scenario_to_dict(scenario)}
    assert scenario_from_header(header) == (scenario, 3, "tasks")


def test_a_trace_replays_identically(tmp_path: Path) -> None:
    trace = tmp_path / "wrong-ids.jsonl"
    trace.write_text(builtin_trace("wrong-ids"))
    result = replay_trace(trace)
    assert result.reproduced
    assert result.events == len(trace.read_text().splitlines()) - 1
    assert result.sha256 == hashlib.sha256(trace.read_bytes()).hexdigest()
    assert (result.scenario, result.seed, result.scheduling) == ("wrong-ids", 11, "inline")
    assert f"reproduced: {result.events} events identical (sha256 {result.sha256})" in (
        result.format_text(trace)
    )


def test_a_tampered_trace_is_caught_at_its_first_differing_event(tmp_path: Path) -> None:
    lines = small_trace().splitlines(keepends=True)
    record = json.loads(lines[200])
    record["t"] += 0.5  # one event, half a second late
    tampered_line = json.dumps(record, separators=(",", ":"))
    trace = tmp_path / "tampered.jsonl"
    trace.write_text("".join([*lines[:200], tampered_line + "\n", *lines[201:]]))
    result = replay_trace(trace)
    assert not result.reproduced
    assert result.difference == Difference(201, tampered_line, lines[200].rstrip("\n"))
    text = result.format_text(trace)
    assert "NOT reproduced: the first difference is at line 201 (event 200):" in text
    assert f"  trace:  {tampered_line}" in text

    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("".join(lines[:100]))
    cut = replay_trace(truncated)
    assert cut.difference == Difference(101, None, lines[100].rstrip("\n"))


def test_a_trace_of_the_tasks_scheduling_with_overrides_replays(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    argv = ["run", "quickstart", "--seed", "3", "--set", "purchases=40", "--set", "phones=8"]
    assert main([*argv, "--scheduling", "tasks", "--trace", str(trace), "--json"]) == 0
    header = json.loads(trace.read_text().splitlines()[0])
    assert header["scheduling"] == "tasks" and header["overrides"] == ["purchases=40", "phones=8"]
    result = replay_trace(trace)
    assert result.reproduced, result.format_text(trace)
    assert (result.seed, result.scheduling) == (3, "tasks")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"seed": 1}, "the header has no scenario 'settings' to replay"),
        ({"seed": "x", "settings": {}}, "the header's 'seed' must be a whole number"),
        ({"seed": 1, "settings": {}, "scheduling": "async"}, "unknown scheduling 'async'"),
        ({"seed": 1, "settings": {"phones": -1}}, "header settings: phones: must be at least 1"),
        ({"seed": 1, "settings": {"warp": 9}}, "header settings"),
    ],
)
def test_a_header_that_cannot_be_replayed_is_a_typed_error(
    tmp_path: Path, header: dict[str, Any], message: str
) -> None:
    trace = tmp_path / "h.jsonl"
    trace.write_text(json.dumps({"format": "assocsim-trace/2", **header}) + "\n")
    with pytest.raises(TraceError, match=message):
        replay_trace(trace)


def test_replay_cli(tmp_path: Path) -> None:
    text = small_trace()
    trace = tmp_path / "wrong-ids.jsonl"
    trace.write_text(text)
    done = _assocsim("replay", str(trace))
    assert done.returncode == 0, done.stderr
    sha = hashlib.sha256(trace.read_bytes()).hexdigest()
    events = len(text.splitlines()) - 1
    assert done.stdout.splitlines() == [
        f"replayed {trace}: scenario wrong-ids, seed 11, inline",
        f"reproduced: {events} events identical (sha256 {sha})",
    ]
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(text.replace('"seed":11,"scheduling"', '"seed":12,"scheduling"', 1))
    differs = _assocsim("replay", str(tampered))
    assert differs.returncode == 1
    assert "NOT reproduced: the first difference is at line 2 (event 1):" in differs.stdout


def test_replay_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "none.jsonl")]) == 2
    missing = capsys.readouterr()
    assert missing.out == ""
    assert missing.err == (
        f"assocsim: error: cannot read trace {tmp_path / 'none.jsonl'}: No such file or directory\n"
    )
    header = {"format": "assocsim-trace/2", "seed": 1, "settings": {"phones": 0}}
    (tmp_path / "bad.jsonl").write_text(json.dumps(header) + "\n")
    assert main(["replay", str(tmp_path / "bad.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("assocsim: error: ") and "phones: must be at least 1" in err
    assert err.count("\n") == 1


def test_check_determinism_passes_and_matches_the_trace_file(tmp_path: Path) -> None:
    trace = tmp_path / "d.jsonl"
    argv = ["run", "wrong-ids", "--set", "purchases=40", "--trace", str(trace)]
    done = _assocsim(*argv, "--check-determinism")
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("deterministic")]
    events = len(trace.read_text().splitlines()) - 1
    sha = hashlib.sha256(trace.read_bytes()).hexdigest()
    where = f"the second in a child process with PYTHONHASHSEED={other_hash_seed()}"
    assert line == f"deterministic: 2 runs, {where}, {events} events identical (sha256 {sha})"


def test_check_determinism_names_the_first_differing_event(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = run_scenario
    runs: list[int] = []

    def second_run_differs(
        scenario: Scenario,
        seed: int | None = None,
        *,
        observers: Sequence[Observer] = (),
        scheduling: Scheduling = "inline",
        cloud: CloudFactory | None = None,
    ) -> RunResult:
        runs.append(1)
        seed = (scenario.seed if seed is None else seed) + (len(runs) - 1)  # as if unseeded
        return real(scenario, seed, observers=observers, scheduling=scheduling)

    # The second run in this process (the command line's is a child process, where the
    # hash seed differs: tests/scenarios/test_determinism_hash_seed.py).
    monkeypatch.setattr("scenarios._trace._replay.run_scenario", second_run_differs)
    scenario = Scenario(purchases=20, phones=5, wrong_id_rate=0.3)
    _, found = check_determinism(scenario, scenario.seed)
    out = found.format_text()
    assert not found.deterministic
    assert "NOT deterministic (in this process, the order of sets of strings not varied): " in out
    assert "the first difference is at line 2 (event 1):" in out
    assert "  run 1: {" in out and "  run 2: {" in out
    assert len(runs) == 2

    runs.clear()
    _, result = check_determinism(scenario, 1)
    assert not result.deterministic and result.difference is not None
    assert result.difference.line == 2

    monkeypatch.setattr("scenarios._trace._replay.run_scenario", real)
    _, same = check_determinism(scenario, 5, scheduling="tasks")
    assert same.deterministic and same.events > 20
