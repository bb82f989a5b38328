"""Planted: a phone app that keeps what it showed in memory only (``shown`` left out of
its :class:`~protocol.PhoneState`): after a crash, a push the cloud re-sends (its ack was
lost) is shown to the user a second time. As a real ``assocsim phone`` without ``--state``
did before the crash model was made real.

``tests/scenarios/test_client_crash.py`` catches it, and catches the old restart that kept
the whole live machine (:func:`whole_machine_restart`), under which this phone's loss
never shows.
"""

from __future__ import annotations

import attrs

from protocol import Machine, PhoneMachine, PhoneState

__all__ = ["UndurableShownPhone", "whole_machine_restart"]


class UndurableShownPhone(PhoneMachine):
    """Forgets what it showed at a crash (the bug)."""

    def durable(self) -> PhoneState:
        return attrs.evolve(super().durable(), shown=())


def whole_machine_restart(machine: Machine) -> Machine:
    """The restart before the crash model was real: the live machine kept as it was."""
    return machine
