"""Make trio's scheduler deterministic for one seed.

trio shuffles each batch of runnable tasks with a module-level ``random.Random`` and only
sorts the batch by task creation order first when ``_ALLOW_DETERMINISTIC_SCHEDULING`` is
set (importing hypothesis or pytest-trio sets it). Runs under ``MockClock`` are
byte-identical only with the flag on *and* that generator seeded before each ``trio.run``.
Both names are private to trio: the pinned trio range in pyproject.toml and
``tests/actors/test_determinism.py`` guard them.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import trio._core._run as _trio_run

__all__ = ["deterministic_scheduling"]


@contextlib.contextmanager
def deterministic_scheduling(seed: int) -> Iterator[None]:
    """Within the block, ``trio.run`` schedules tasks in an order fixed by ``seed``."""
    scheduler_random: random.Random = _trio_run._r
    saved_flag = _trio_run._ALLOW_DETERMINISTIC_SCHEDULING
    saved_state = scheduler_random.getstate()
    _trio_run._ALLOW_DETERMINISTIC_SCHEDULING = True  # type: ignore[misc]  # trio's private switch
    scheduler_random.seed(seed)
    try:
        yield
    finally:
        _trio_run._ALLOW_DETERMINISTIC_SCHEDULING = saved_flag  # type: ignore[misc]
        scheduler_random.setstate(saved_state)
