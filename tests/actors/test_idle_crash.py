"""A crash that lost nothing is an idle fault (reviewer B's F2, s31).

quickstart with 60 purchases and a crash of the cloud at 100 h (the day's last message at
8 h): "faults: crashes 1", no warning, exit 0; the same for ``phone:*`` at 100 h and
``pos:*`` at 8h30m. A partition at 100 h already got "cut no message". Now a crash entry
each of whose crashes found no timer armed and no message waiting, and during which no
message arrived, is named ("lost nothing"), as an idle partition is. Planted: the check
without it (``tests/planted/lossless_crashes_counted.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actors import Crash, CrashTally, EventKind, TraceEvent
from actors._fault_plan import _crashes_that_lost_nothing
from actors._world import FallenCrash
from protocol import CLOUD, Subscribe
from scenarios import apply_overrides, load_scenario
from scenarios.testing import _outcome as outcome_module
from scenarios.testing import run_checked
from tests.planted.lossless_crashes_counted import lossless_crashes_counted


def _named(crash: str, tmp_path: Path) -> list[str]:
    scenario = apply_overrides(load_scenario("quickstart"), ["purchases=60", f"crash=[{crash}]"])
    outcome = run_checked(scenario, failures_dir=tmp_path)
    assert outcome.report.crashes > 0  # it fell: only what it lost is in question
    return [str(f) for f in outcome.idle_faults if f.what.startswith("[[crash]]")]


@pytest.mark.parametrize(
    "crash",
    [
        '{actor="cloud", at="100h", restart="101h"}',
        '{actor="phone:*", at="100h", restart="101h"}',
        '{actor="pos:*", at="8h30m", restart="9h"}',
    ],
    ids=["cloud-100h", "phones-100h", "poses-8h30m"],
)
def test_a_crash_after_the_work_is_named(crash: str, tmp_path: Path) -> None:
    (named,) = _named(crash, tmp_path)
    assert "lost nothing" in named


@pytest.mark.parametrize(
    "crash",
    [
        '{actor="cloud", at="1h", restart="1h5m"}',
        '{actor="phone:*", at="1h", restart="1h5m"}',
    ],
    ids=["cloud-1h", "phones-1h"],
)
def test_a_crash_in_the_work_is_not(crash: str, tmp_path: Path) -> None:
    assert _named(crash, tmp_path) == []


def test_the_check_without_it_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outcome_module, "idle_faults", lossless_crashes_counted)
    assert _named('{actor="cloud", at="100h", restart="101h"}', tmp_path) == []


def _crash(at: float, *dropped_at: float) -> CrashTally:
    tally = CrashTally()
    tally(TraceEvent(at, EventKind.CRASH, CLOUD, CLOUD, None, None, "between-steps"))
    for t in dropped_at:
        message = Subscribe("+8613800000001")
        tally(TraceEvent(t, EventKind.DROP, "phone:+8613800000001", CLOUD, message, None, "down"))
    tally(TraceEvent(at + 10, EventKind.RESTART, CLOUD, CLOUD))
    return tally


def test_a_timer_lost_or_a_message_dropped_while_down_is_something_lost() -> None:
    crashes = [Crash("cloud", at=5.0, restart=15.0)]
    assert _crashes_that_lost_nothing([FallenCrash(1, CLOUD, 5.0, 0)], crashes, _crash(5.0), [])
    assert not _crashes_that_lost_nothing(
        [FallenCrash(1, CLOUD, 5.0, 1)], crashes, _crash(5.0), []
    )  # a timer armed at the crash
    assert not _crashes_that_lost_nothing(
        [FallenCrash(1, CLOUD, 5.0, 0)], crashes, _crash(5.0, 7.0), []
    )  # a message arrived while it was down
