"""Planted: a ``--state-dir`` writer whose memo of encoded parts is keyed by the part's
receipt id instead of the part itself: a till's sale awaiting its acknowledgement and the
upload it re-sends name the same receipt, so one is written as the other. The file no
longer reads back as the party (``tests/scenarios/test_state_dir.py`` catches it).
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

import orjson

from protocol import PhoneMachine, PosMachine
from protocol.lowlevel import Part, encode_part, encode_state
from scenarios._field._common import write_private
from scenarios._field._kept import STATE_FORMAT, STATE_VERSION, StateDir

__all__ = ["ReceiptKeyedStateDir"]


class ReceiptKeyedStateDir(StateDir):
    """Memoizes encoded parts by receipt id (the bug)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._by_receipt: dict[Hashable, orjson.Fragment] = {}

    def save(self, machine: PosMachine | PhoneMachine) -> None:
        def part(value: Part) -> orjson.Fragment:
            key = getattr(value, "receipt_id", None) or id(value)
            if key not in self._by_receipt:
                self._by_receipt[key] = orjson.Fragment(orjson.dumps(encode_part(value)))
            return self._by_receipt[key]

        state = encode_state(machine.durable(), part)
        document = {"format": STATE_FORMAT, "version": STATE_VERSION, "state": state}
        write_private(self.file_of(machine), orjson.dumps(document).decode())
