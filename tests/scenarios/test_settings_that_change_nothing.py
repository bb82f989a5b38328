"""Settings that validated and changed nothing, or changed the wrong thing (reviewer B's
F3, F7, F8, F9, s31): each is now taken from the data, or refused in one line of ours.

* F3: with a ``[source]`` dataset the purchases' times come from the data and ignore
  ``duration``, but the fault phase and the run's horizon still ended at ``duration``: an
  onlineretail run of 300 purchases lasting 54 h had its faults over after the default 8 h
  (113 of 300 purchases in it). Both now follow the last basket's time.
* F7: ``source.data``, ``start``, ``end``, ``households`` without ``source.dataset``:
  refused. (``--set seed=5`` with ``--seed 3`` is left: a given seed overrides the
  scenario's by design, ``tests/scenarios/test_runspec.py``, and the header's ``seed`` is
  the one run.)
* F8: ``seed=-1`` (``random.Random`` takes its absolute value: seed 1 again): refused.
* F9: ``--set crash=[1]`` said Python's "argument of type 'int' is not iterable".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import Scenario, apply_overrides, load_scenario
from scenarios._model._workload import generate_workload
from tests.scenarios.cli_runs import one_line_error

DATA = Path(__file__).resolve().parent.parent / "data"


def test_a_datasets_fault_phase_and_horizon_follow_its_last_basket() -> None:
    scenario = apply_overrides(
        Scenario(),
        ["source.dataset=onlineretail", f"source.data={DATA}", "purchases=300"],
    )
    last = max(p.at for p in generate_workload(scenario, scenario.seed).purchases)
    assert last > scenario.duration  # the data outlasts `duration`: the case in question
    assert scenario.purchases_end == last
    assert scenario.faults_until == last
    tail = max(scenario.cloud.push_timeout, scenario.ask_delay[1])
    assert scenario.horizon == last + tail
    given = apply_overrides(scenario, ['network.faults_until="1h"'])
    assert given.faults_until == 3600.0  # a fault phase given is kept


def test_generated_purchases_keep_duration() -> None:
    scenario = load_scenario("faults")
    assert scenario.purchases_end == scenario.duration
    assert scenario.horizon == scenario.duration + max(
        scenario.cloud.push_timeout, scenario.ask_delay[1]
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--set", "seed=-1"], "seed: must be at least 0, got -1"),
        (["--seed", "-1"], "seed: must be at least 0, got -1"),
        (["--set", "source.data=/tmp"], "source.data: only with dataset"),
        (["--set", "source.start=2011-01-01"], "source.start: only with dataset"),
        (["--set", "source.households=5"], "source.households: only with dataset"),
        (["--set", "crash=[1]"], "crash: expected a table {key = value, ...}, got 1"),
        (["--set", "partition=[2]"], "partition: expected a table {key = value, ...}, got 2"),
    ],
)
def test_a_setting_that_would_change_nothing_is_refused(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, line = one_line_error(["run", "quickstart", "--set", "purchases=3", *argv], capsys)
    assert code == 2 and says in line
