"""A crash of a phone or a POS loses what a kill -9 loses: its timers, its mailbox and
whatever its durable part (:class:`~protocol.PhoneState`, :class:`~protocol.PosState`)
does not keep. The simulated restart rebuilds the machine from that part."""

from __future__ import annotations

import json

import pytest

from actors import Crash, EventKind, NetworkConfig, TraceEvent
from protocol import LocalProtocolError, PhoneMachine, PosMachine
from protocol.lowlevel import decode_state, encode_state
from scenarios import Scenario, check_events, explore, run_scenario
from scenarios._explore import _model
from scenarios._sim import _runner
from tests.planted.undurable_shown_phone import UndurableShownPhone, whole_machine_restart

# Nobody asks: every delivery is a timeout push, re-sent over a lossy network until its
# ack arrives; every phone crashes while pushes to it are being re-sent.
SCENARIO = Scenario(
    name="phones-crash-while-pushed",
    seed=5,
    shops=2,
    phones=6,
    purchases=40,
    duration=1800.0,
    ask_probability=0.0,
    network=NetworkConfig(latency=0.05, loss=0.3),
    crash=(
        Crash("phone:*", at=1360.0, restart=1362.0),
        Crash("phone:*", at=1420.0, restart=1422.0),
        Crash("pos:*", at=600.0, restart=640.0),
    ),
)


def _run() -> tuple[list[TraceEvent], bool]:
    events: list[TraceEvent] = []
    run_scenario(SCENARIO, observers=[events.append])
    return events, check_events(events, settings=SCENARIO).ok


def test_a_push_resent_to_a_restarted_phone_is_not_shown_twice() -> None:
    events, ok = _run()
    restarts = [e for e in events if e.kind is EventKind.RESTART]
    assert len(restarts) == 2 * 6 + 2  # every phone twice, every POS
    # The scenario has what it is for: pushes re-sent to a phone that had shown them.
    already = [
        e
        for e in events
        if e.kind is EventKind.NOTE
        and e.note is not None
        and e.note.kind == "already-shown"
        and e.t > 1362.0
    ]
    assert already, "no push re-sent after the phones' restart"
    assert ok


def test_a_phone_forgetting_what_it_showed_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_runner, "PhoneMachine", UndurableShownPhone)
    events, ok = _run()
    assert not ok
    result = check_events(events, settings=SCENARIO)
    assert {v.invariant for v in result.violations} == {"no-duplicate-shown"}


def test_a_restart_keeping_the_live_machine_would_hide_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: under the old restart the forgetful phone's loss never shows."""
    monkeypatch.setattr(_runner, "PhoneMachine", UndurableShownPhone)
    monkeypatch.setattr(_runner, "restarted", whole_machine_restart)
    _, ok = _run()
    assert ok


def test_what_a_party_keeps_reads_back_as_written() -> None:
    """The durable part of every POS and phone of a run, through its JSON form (what
    ``--state`` files hold) and a rebuilt machine, comes back equal."""
    result = run_scenario(SCENARIO)
    parties = 0
    for actor in result.world.actors.values():
        machine = actor.machine
        if isinstance(machine, PosMachine | PhoneMachine):
            kept = machine.durable()
            back = decode_state(json.loads(json.dumps(encode_state(kept))))
            assert back == kept
            rebuilt = _runner.restarted(machine)
            assert isinstance(rebuilt, type(machine))
            assert rebuilt is not machine
            assert rebuilt.durable() == kept
            parties += 1
    assert parties == 2 + 6


def test_a_kept_state_that_is_not_one_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="not a kept state"):
        decode_state({"kind": "phone", "phone_id": "+8613800000001"})
    with pytest.raises(LocalProtocolError, match="kind 'cloud'"):
        decode_state({"kind": "cloud"})


def test_the_explorer_crashes_a_phone_as_the_runner_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every crash of every party, the phone's too: the reference keeps its promises; a
    phone that does not keep what it showed is found (a push re-sent after its crash, its
    ack lost, shown twice), which the old restart keeping the live machine never found."""
    explore("push", loss=1, crashes=1).assert_ok()
    monkeypatch.setattr(_model, "PhoneMachine", UndurableShownPhone)
    found = explore("push", loss=1, crashes=1)
    assert not found.ok
    assert any("no-duplicate-shown" in v for v in found.violations), found.violations
    monkeypatch.setattr(_model, "restarted", whole_machine_restart)
    explore("push", loss=1, crashes=1).assert_ok()
