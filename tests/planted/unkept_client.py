"""Planted: ``assocsim pos`` and ``assocsim phone`` that keep nothing across a kill -9 (the
clients before ``--state-dir``): given the option, they write no file, so a process
started again begins afresh. A push shown just before the kill whose ack never reached
the cloud is shown again when the cloud re-sends it; a till rings up again every sale of
its purchases, the acknowledged ones too.

Run as the client process (``python -m tests.planted.unkept_client phone ...``, with the
repository on ``PYTHONPATH``): ``tests/scenarios/test_field_client_kill.py`` catches both.
"""

from __future__ import annotations

import sys

from protocol import PhoneMachine, PosMachine
from scenarios._field._kept import StateDir

__all__ = ["UnkeptStateDir"]


class UnkeptStateDir(StateDir):
    """Accepts a directory and keeps nothing in it (the bug)."""

    def save(self, machine: PosMachine | PhoneMachine) -> None:
        return


if __name__ == "__main__":
    from scenarios._cli._main import main
    from scenarios._field import _clients

    # A child process (python -m): no pytest monkeypatch here; a plain assignment of another
    # class is a mypy error, setattr is the plant.
    setattr(_clients, "StateDir", UnkeptStateDir)  # noqa: B010 -- the plant, see above
    sys.exit(main())
