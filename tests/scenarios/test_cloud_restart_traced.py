"""A ``serve cloud`` started again on its store (after a kill -9) traces a ``restart``.

A killed process writes no ``crash`` event, so a merged field trace showed no crash of the
cloud at all: an upload that reached the cloud just before the kill, never answered, and
given up by its POS was judged lost (the ledger excuses such a give-up only after a crash
or restart of the cloud, ``PromiseLedger.down``). The restarted cloud knows it restarts
(its ``--db`` was there before it): its trace now begins with a ``restart`` of the cloud.

Planted: ``tests/planted/unsaid_restart_cloud.py`` (a cloud that never says so) is caught.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import attrs
import pytest

from actors import Crash, EventKind, TraceEvent
from protocol import CLOUD
from scenarios import apply_overrides, check_events, load_scenario, run_scenario
from tests.scenarios.field_processes import Procs

ARGS = ("--db", "cloud.db", "--merchant-keys", "keys.json", "--trace", "cloud.jsonl")


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def _restarts(path: Path) -> list[dict[str, object]]:
    return [e for e in _events(path) if e["event"] == "restart"]


def _kill_and_start_again(procs: Procs, tmp_path: Path, module: str) -> list[dict[str, object]]:
    """The restart events of the second cloud's trace (after checking the first has none)."""
    first, _ = procs.cloud("cloud-1", *ARGS)
    # It says it listens before it opens its trace: killed in between (a CI at a load of
    # 9 did), it left no trace for the second to keep as cloud.1.jsonl.
    first.wait_until("its trace", (tmp_path / "cloud.jsonl").exists)
    first.popen.send_signal(signal.SIGKILL)
    first.wait()
    second = procs.start(
        "cloud-2", "serve", "cloud", "--listen", "127.0.0.1:0", *ARGS, module=module
    )
    second.wait_until("listening line", lambda: "listening on" in second.out)
    assert second.interrupt() == 0, second.err
    assert _restarts(tmp_path / "cloud.1.jsonl") == []  # a first start on a new store
    return _restarts(tmp_path / "cloud.jsonl")


@pytest.mark.usefixtures("keys")
def test_a_cloud_started_again_on_its_store_traces_a_restart(procs: Procs, tmp_path: Path) -> None:
    restarts = _kill_and_start_again(procs, tmp_path, "scenarios")
    assert [(e["from"], e["to"]) for e in restarts] == [(CLOUD, CLOUD)]
    assert _events(tmp_path / "cloud.jsonl")[0]["event"] == "restart"  # before any step


@pytest.mark.usefixtures("keys")
def test_planted_a_cloud_never_saying_it_restarted_is_caught(procs: Procs, tmp_path: Path) -> None:
    assert _kill_and_start_again(procs, tmp_path, "tests.planted.unsaid_restart_cloud") == []


def test_the_restart_alone_excuses_a_give_up_after_a_kill() -> None:
    """What the checker makes of it: a cloud killed inside the step of an upload (received,
    never answered) and down until every POS gave up on it. With the simulation's crash and
    restart, or with the restart alone (all a field trace has), the give-up is excused;
    with neither (the field trace before), the upload is judged lost."""
    scenario = attrs.evolve(
        apply_overrides(load_scenario("quickstart"), ["purchases=3", "retry.max_attempts=2"]),
        crash=(Crash(CLOUD, at=0.0, restart=3600.0, after_writes=1, during="purchase-upload"),),
    )
    events: list[TraceEvent] = []
    run_scenario(scenario, observers=[events.append])
    kinds = [e.kind for e in events if e.sender == CLOUD]
    assert EventKind.CRASH in kinds and EventKind.RESTART in kinds
    gave_up = [e for e in events if e.note is not None and e.note.kind == "gave-up"]
    assert gave_up, "no POS gave up: the test would show nothing"

    def without(*kinds: EventKind) -> list[TraceEvent]:
        return [e for e in events if not (e.sender == CLOUD and e.kind in kinds)]

    assert check_events(events, settings=scenario).ok
    assert check_events(without(EventKind.CRASH), settings=scenario).ok
    lost = check_events(without(EventKind.CRASH, EventKind.RESTART), settings=scenario)
    assert {v.invariant for v in lost.violations} == {"no-delivery-lost"}
