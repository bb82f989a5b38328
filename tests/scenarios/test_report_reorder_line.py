"""The report's reorder line says what it counts (reviewer B's F6, s31).

``network.reorder=0.5 reorder_delay=1ms`` printed ``faults: reordered 397`` while the idle
warning said reorder "reordered nothing": the report counts the messages the network held
back (``delay`` events), whether or not a later message overtook them. The line is now
``faults: held back (reorder)``; the JSON field keeps its name (``reordered``).
"""

from __future__ import annotations

from scenarios import apply_overrides, load_scenario
from scenarios.testing import run_checked


def test_the_reorder_line_says_held_back() -> None:
    scenario = apply_overrides(
        load_scenario("quickstart"),
        ["purchases=40", "network.reorder=0.5", "network.reorder_delay=1ms"],
    )
    outcome = run_checked(scenario)
    held = sum(1 for e in outcome.events if e.kind == "delay")
    assert held > 0 and outcome.report.reordered == held
    lines = outcome.report.format_table().splitlines()
    assert [line.split()[-1] for line in lines if "held back (reorder)" in line] == [str(held)]
    assert not any("faults: reordered" in line for line in lines)
