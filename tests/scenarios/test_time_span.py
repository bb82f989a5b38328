"""A run's time span is defined once: ``Scenario.horizon`` (issue 13's leftovers)."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from scenarios import load_scenario

ROOT = Path(__file__).resolve().parents[2]
_RECOMPUTED = re.compile(r"ask_delay\[1\]")  # the slowest ask: the span's last term


def recomputes_the_span(source: str) -> bool:
    return bool(_RECOMPUTED.search(source))


def test_the_horizon_is_the_day_then_the_later_of_the_push_deadline_and_the_slowest_ask() -> None:
    quickstart = load_scenario("quickstart")
    assert quickstart.horizon == quickstart.duration + max(
        quickstart.cloud.push_timeout, quickstart.ask_delay[1]
    )
    slow_asks = attrs.evolve(quickstart, duration=3600.0, ask_delay=(10.0, 7200.0))
    assert slow_asks.horizon == 3600.0 + 7200.0
    late_push = attrs.evolve(slow_asks, cloud=attrs.evolve(quickstart.cloud, push_timeout=9000.0))
    assert late_push.horizon == 3600.0 + 9000.0


def test_no_module_but_the_scenario_computes_the_span() -> None:
    assert recomputes_the_span(
        "horizon = s.duration + max(s.cloud.push_timeout, s.ask_delay[1])"
    )  # what the check looks for, planted
    computing = [
        str(path.relative_to(ROOT))
        for package in ("scenarios", "actors", "protocol")
        for path in sorted((ROOT / package).rglob("*.py"))
        if recomputes_the_span(path.read_text(encoding="utf-8"))
    ]
    assert computing == ["scenarios/_model/_scenario.py"]
