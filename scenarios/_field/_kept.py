"""``assocsim pos`` and ``assocsim phone --state-dir DIR``: each party's durable part on disk.

A field POS or phone keeps what the simulation's crash says it keeps
(:class:`~protocol.PosState`, :class:`~protocol.PhoneState`: everything but its timers and
the messages in flight), one file per party in DIR. :class:`KeptParty` writes the party's
file after every step of its machine and before that step's sends leave: the actor hands
the sends to the transport only once the machine returns, and the file is written
atomically (a temporary file, fsync, rename; readable by its owner only) before it
returns. So a kill -9 at any moment loses at most the timers and what was in flight, as a
simulated crash does, and a process started again on the same DIR carries on from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

import orjson

from protocol import (
    Address,
    Effects,
    LocalProtocolError,
    Machine,
    Message,
    PhoneMachine,
    PhoneState,
    PosMachine,
    PosState,
)
from protocol.lowlevel import Part, decode_state, encode_part, encode_state
from scenarios._model._errors import ScenarioError

from ._common import read_private, write_private

__all__ = ["STATE_FORMAT", "STATE_VERSION", "KeptParty", "StateDir"]

M = TypeVar("M", PosMachine, PhoneMachine)

STATE_FORMAT: Final = "assocsim-party-state"
STATE_VERSION: Final = 1
"""Bumped when what a party keeps changes shape: an older file is then refused, not guessed."""


class StateDir:
    """The ``--state-dir``: one ``ROLE-ID.json`` per party (``pos-shop-01-pos-1.json``,
    ``phone-+8613800000001.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ScenarioError(f"--state-dir {path}: {exc.strerror or exc}") from None
        if not path.is_dir():
            raise ScenarioError(f"--state-dir {path}: not a directory")
        # per party file: the encoded parts of its last save, by the part's id
        self._memos: dict[Path, dict[int, tuple[Part, orjson.Fragment]]] = {}

    def file_of(self, machine: PosMachine | PhoneMachine) -> Path:
        if isinstance(machine, PosMachine):
            return self.path / f"pos-{machine.merchant_id}-{machine.pos_id}.json"
        return self.path / f"phone-{machine.phone_id}.json"

    def restored_pos(self, machine: PosMachine) -> tuple[PosMachine, bool]:
        """``machine`` rebuilt from its file if it has one (and whether it had)."""
        state = self._state(machine)
        if state is None:
            return machine, False
        assert isinstance(state, PosState)  # _read checked the kind
        return self._rebuilt(machine, lambda: machine.rebuilt(state)), True

    def restored_phone(self, machine: PhoneMachine) -> tuple[PhoneMachine, bool]:
        """``machine`` rebuilt from its file if it has one (and whether it had)."""
        state = self._state(machine)
        if state is None:
            return machine, False
        assert isinstance(state, PhoneState)  # _read checked the kind
        return self._rebuilt(machine, lambda: machine.rebuilt(state)), True

    def _state(self, machine: PosMachine | PhoneMachine) -> PosState | PhoneState | None:
        path = self.file_of(machine)
        return _read(path, machine) if path.exists() else None

    def _rebuilt(self, machine: PosMachine | PhoneMachine, rebuild: Callable[[], M]) -> M:
        try:
            return rebuild()
        except LocalProtocolError as exc:  # another party's state, a shorter schedule
            raise ScenarioError(f"--state-dir: {self.file_of(machine)}: {exc}") from None

    def save(self, machine: PosMachine | PhoneMachine) -> None:
        """Write ``machine``'s durable part to its file (atomically, fsynced)."""
        path = self.file_of(machine)
        before = self._memos.get(path, {})
        after: dict[int, tuple[Part, orjson.Fragment]] = {}

        def part(value: Part) -> orjson.Fragment:
            # A till or a phone keeps the same frozen messages, sales and deliveries from
            # step to step: each is encoded once, while the state holds it (the memo holds
            # it too, so its id is not reused meanwhile; the next memo drops the rest).
            found = before.get(id(value))
            if found is None or found[0] is not value:
                found = (value, orjson.Fragment(orjson.dumps(encode_part(value))))
            after[id(value)] = found
            return found[1]

        document = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "state": encode_state(machine.durable(), part),
        }
        # orjson: a till with 300 uploads in flight writes 177 kB a step, which the stdlib's
        # json took 10.5 ms to make (orjson 0.4 ms; the fsync takes 6-7 ms on any size)
        write_private(path, orjson.dumps(document).decode())
        self._memos[path] = after


def _read(path: Path, machine: PosMachine | PhoneMachine) -> PosState | PhoneState:
    """The state in ``path``, of ``machine``'s party; one-line ScenarioError if not."""
    where = f"--state-dir: {path}"
    text = read_private(path, "--state-dir file")
    try:
        document: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
        raise ScenarioError(f"{where}: not a state file of assocsim pos or phone")
    version = document.get("version")
    if version != STATE_VERSION:
        raise ScenarioError(
            f"{where}: state format version {version!r}, this assocsim reads "
            f"{STATE_VERSION} (written by another version: move it away to start afresh)"
        )
    try:
        state = decode_state(document.get("state"))
    except LocalProtocolError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    mine = isinstance(state, PosState) == isinstance(machine, PosMachine)
    if not mine:
        raise ScenarioError(f"{where}: the state of another kind of party")
    return state


class KeptParty:
    """``machine`` (a driver's wrapper of ``party``, or ``party`` itself) with ``party``'s
    durable part saved by ``save`` after each step, before its effects go back to the
    actor (and so before its sends leave)."""

    def __init__(
        self,
        machine: Machine,
        party: PosMachine | PhoneMachine,
        save: Callable[[PosMachine | PhoneMachine], None],
    ) -> None:
        self.machine = machine
        self.party = party
        self._save = save

    def start(self, now: float) -> Effects:
        effects = self.machine.start(now)
        self._save(self.party)
        return effects

    def handle(self, message: Message, sender: Address, now: float) -> Effects:
        effects = self.machine.handle(message, sender, now)
        self._save(self.party)
        return effects

    def timer_fired(self, key: object, now: float) -> Effects:
        effects = self.machine.timer_fired(key, now)
        self._save(self.party)
        return effects
