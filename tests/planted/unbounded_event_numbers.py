"""Planted: the explorer's events numbered on and on, never from 0 again.

A checker move is cached under one int, ``monitor << _EVENTS_BITS | events' number``
(``scenarios/_explore/_model.py``): two keys are distinct only while every number is
below ``2 ** _EVENTS_BITS``. The explorer numbers events anew when their cache is cleared,
so a number stays below ``_MOVES_KEPT``. :class:`UnboundedEventNumbersModel` keeps
counting across clears (as the first version did): a number past the bound reads as
another monitor's key, and a state gets another state's checker.
``tests/scenarios/test_explore_monitor.py`` must tell, with the bounds made small.
"""

from __future__ import annotations

from actors import TraceEvent
from scenarios._explore import _model
from scenarios._explore._model import ProtocolModel

__all__ = ["UnboundedEventNumbersModel"]


class UnboundedEventNumbersModel(ProtocolModel):
    def _events_number(self, events: tuple[TraceEvent, ...]) -> int:
        number = self._event_numbers.get(events)
        if number is None:
            if len(self._event_numbers) >= _model._MOVES_KEPT:
                self._event_numbers.clear()  # the bug: the count goes on, the moves stay
                self._records.clear()
            number = self._event_numbers[events] = next(self._numbers)
            self._records[number] = self._parsed(events)
        return number
