"""A sender's give-up excuses only what the network (or a crash) could have lost.

A cloud that receives every upload and never acknowledges or refuses one, on a network
without faults: each POS re-sends until its ``max_attempts`` and notes ``gave-up``. The
ledger excused every upload by that note, so ``assocsim run quickstart --cloud ...
--check`` said all clear: 0 acknowledged, 0 delivered, 0 lost, 30 given up. Each upload
reached the cloud, which sent nothing back: lost, whether or not the POS gave up. The
same rule for a request a phone gave up on, the cloud's answer sent and lost, and a crash
of the cloud after the message reached it (still excused) are held to the specification
in ``tests/scenarios/test_promises_spec.py`` (``promise_runs.GAVE_UP``).
"""

from __future__ import annotations

import pytest

from scenarios import apply_overrides, check_events, load_scenario
from scenarios._trace import _checks
from scenarios.testing import run_checked
from tests.planted.deaf_to_uploads import deaf_to_uploads
from tests.planted.give_up_excuses_all import GiveUpExcusesAll

GIVING_UP = ["purchases=30", "retry.max_attempts=3"]


def test_an_upload_the_cloud_received_and_never_answered_is_lost() -> None:
    scenario = apply_overrides(load_scenario("quickstart"), GIVING_UP)
    outcome = run_checked(scenario, cloud=deaf_to_uploads)
    assert outcome.report.delivered == 0 and outcome.report.gave_up == 30
    assert not outcome.ok
    assert outcome.report.lost == 30
    assert len(outcome.violations) == 30
    assert all("never acknowledged or refused" in v.detail for v in outcome.violations)
    assert all("and sent no answer" in v.detail for v in outcome.violations)


def test_the_reference_cloud_keeps_the_promise_when_senders_give_up() -> None:
    # not vacuous: the same settings give up nothing against the reference cloud
    outcome = run_checked(apply_overrides(load_scenario("quickstart"), GIVING_UP))
    assert outcome.ok and outcome.report.gave_up == 0 and outcome.report.delivered > 0


def test_a_ledger_excusing_every_give_up_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # planted: tests/planted/give_up_excuses_all.py brings the false all-clear back
    scenario = apply_overrides(load_scenario("quickstart"), GIVING_UP)
    events = run_checked(scenario, cloud=deaf_to_uploads).events
    assert not check_events(events, settings=scenario).ok
    monkeypatch.setattr(_checks, "PromiseLedger", GiveUpExcusesAll)
    assert check_events(events, settings=scenario).ok  # what the first test would see
