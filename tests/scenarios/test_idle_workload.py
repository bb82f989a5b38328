"""A workload rate set above 0 that drew nothing is said (reviewer B's F7, s31).

``unsubscribed_rate = 0.01`` of 50 phones rounds to no unsubscribed phone, and
``wrong_id_rate = 0.001`` draws no wrong id in 200 purchases: a run configured to study
them studied neither, and said nothing. ``assocsim run`` now warns, one line each, as it
does of a network fault that injected nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import apply_overrides, load_scenario
from scenarios._model._workload import generate_workload, idle_workload_knobs
from tests.scenarios.cli_runs import run_forked


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        (["unsubscribed_rate=0.01", "phones=50"], ["unsubscribed_rate = 0.01 made no phone"]),
        (["wrong_id_rate=0.001"], ["wrong_id_rate = 0.001 drew no wrong id in 200 purchases"]),
        (["unsubscribed_rate=0.1", "wrong_id_rate=0.1"], []),  # both drew: nothing said
        ([], []),
    ],
    ids=["unsubscribed-rounds-to-0", "wrong-id-rare", "both-drew", "defaults"],
)
def test_a_rate_that_drew_nothing_is_said(overrides: list[str], said: list[str]) -> None:
    scenario = apply_overrides(load_scenario("quickstart"), ["purchases=200", *overrides])
    idle = idle_workload_knobs(scenario, generate_workload(scenario, 7))
    assert len(idle) == len(said)
    for line, words in zip(idle, said, strict=True):
        assert words in line


def test_the_run_command_warns_in_one_line(tmp_path: Path) -> None:
    status, stderr = run_forked(
        ["run", "quickstart", "--set", "purchases=200", "--set", "wrong_id_rate=0.001"],
        tmp_path,
        timeout=120,
    )
    assert status == 0
    warnings = [line for line in stderr.splitlines() if "wrong_id_rate" in line]
    assert warnings == [
        "assocsim: warning: wrong_id_rate = 0.001 drew no wrong id in 200 purchases"
    ]
