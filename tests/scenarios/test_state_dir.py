"""``--state-dir`` files: what is not one of ours, of another version or of another party
is refused in one line; a party's file reads back as the party it kept, after every step
of a lossy run (the writer's memo of encoded parts included: planted
``tests/planted/receipt_keyed_state_memo.py`` is caught)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import trio
import trio.testing

from actors import NetworkConfig
from protocol import PhoneMachine, PosMachine
from scenarios import Scenario, ScenarioError, build_world, generate_workload
from scenarios._field._kept import STATE_FORMAT, STATE_VERSION, KeptParty, StateDir
from tests.planted.receipt_keyed_state_memo import ReceiptKeyedStateDir

PHONE = "+8613800000001"


def _saved(tmp_path: Path) -> tuple[StateDir, Path]:
    state = StateDir(tmp_path / "state")
    phone = PhoneMachine(PHONE)
    KeptParty(phone, phone, state.save).start(0.0)
    return state, state.file_of(phone)


def test_a_party_reads_back_from_its_file(tmp_path: Path) -> None:
    state, path = _saved(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    phone, restored = state.restored_phone(PhoneMachine(PHONE))
    assert restored and phone.durable().started
    fresh, restored = state.restored_phone(PhoneMachine("+8613800000002"))
    assert not restored and not fresh.durable().started


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not a state file of assocsim pos or phone"),
        ('{"format": "something-else"}', "not a state file of assocsim pos or phone"),
        (json.dumps({"format": STATE_FORMAT, "version": 99}), "state format version 99"),
        (json.dumps({"format": STATE_FORMAT, "version": STATE_VERSION, "state": {"kind": "x"}}),
         "not a kept state"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_ours_is_refused_in_one_line(
    tmp_path: Path, text: str, says: str
) -> None:
    state, path = _saved(tmp_path)
    path.write_text(text)
    with pytest.raises(ScenarioError, match=says) as refused:
        state.restored_phone(PhoneMachine(PHONE))
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("started", 1, "expected true or false, got 1"),  # a number is never a flag
        ("next_request_id", True, "expected a whole number, got True"),  # nor a flag a number
        ("next_request_id", -1, "expected a whole number of at least 0, got -1"),
        ("phone_id", 8613800000001, "expected text, got 8613800000001"),
        ("asks_due", [[["shop-01", "r-1"], True]], "expected a number, got True"),
        ("asks_due", [[["shop-01", "r-1"], "5"]], "expected a number, got '5'"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(
    tmp_path: Path, field: str, value: object, says: str
) -> None:
    # One kit decodes a state's plain values, as it decodes messages: the strict
    # converter's hooks (float() took True and "5" as times).
    state, path = _saved(tmp_path)
    document = json.loads(path.read_text())
    document["state"][field] = value
    path.write_text(json.dumps(document))
    with pytest.raises(ScenarioError, match=f"not a kept state: {re.escape(says)}"):
        state.restored_phone(PhoneMachine(PHONE))


def test_another_partys_state_is_refused(tmp_path: Path) -> None:
    state, path = _saved(tmp_path)
    till = PosMachine("shop-01", "pos-1")
    state.file_of(till).write_text(path.read_text())  # a phone's state under a till's name
    with pytest.raises(ScenarioError, match="another kind of party"):
        state.restored_pos(till)
    other = PhoneMachine("+8613800000002")
    state.file_of(other).write_text(path.read_text())  # another phone's
    with pytest.raises(ScenarioError, match=r"the state of \+8613800000001"):
        state.restored_phone(other)


SCENARIO = Scenario(
    name="kept-parties",
    seed=4,
    shops=1,
    phones=3,
    purchases=12,
    duration=600.0,
    ask_probability=0.5,
    network=NetworkConfig(latency=0.05, loss=0.3, duplicate=0.1),
)


def _steps_read_back(state: StateDir) -> int:
    """Run SCENARIO with every POS and phone saved to ``state`` after each step; each file
    must read back, right then, as its party's durable part. Returns the saves."""
    world = build_world(SCENARIO, generate_workload(SCENARIO, SCENARIO.seed))
    saves = [0]

    def save(party: PosMachine | PhoneMachine) -> None:
        state.save(party)
        if isinstance(party, PosMachine):
            assert state.restored_pos(party)[0].durable() == party.durable()
        else:
            assert state.restored_phone(party)[0].durable() == party.durable()
        saves[0] += 1

    for actor in world.actors.values():
        machine = actor.machine
        if isinstance(machine, PosMachine | PhoneMachine):
            actor.machine = KeptParty(machine, machine, save)
    trio.run(world.run, clock=trio.testing.MockClock(autojump_threshold=0))
    return saves[0]


def test_every_step_of_a_lossy_run_reads_back(tmp_path: Path) -> None:
    assert _steps_read_back(StateDir(tmp_path)) > 100


def test_planted_a_memo_keyed_by_receipt_is_caught(tmp_path: Path) -> None:
    with pytest.raises((AssertionError, ScenarioError)):
        _steps_read_back(ReceiptKeyedStateDir(tmp_path))
