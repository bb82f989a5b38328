"""A planted bug: idle faults found from the network alone, blind to the crash entries.

``run_checked`` once kept no :class:`~actors.CrashTally`, so a ``[[crash]]`` that never
fell (``during = "purchase-upload"``, ``after_writes = 4``: an upload makes 2 writes) left
``ok`` true, ``crashes`` 0 and no word of it, where ``assocsim run`` warned.
``tests/scenarios/test_testing_outcome.py`` must catch it.
"""

from __future__ import annotations

from collections.abc import Sequence

from actors import Crash, CrashTally, IdleFault, World, idle_faults

__all__ = ["network_idle_faults"]


def network_idle_faults(
    world: World, crashes: Sequence[Crash] = (), tally: CrashTally | None = None
) -> list[IdleFault]:
    """:func:`actors.idle_faults` that never looks at the crashes (the bug)."""
    return idle_faults(world)
