"""The example protocol variants shipped in ``scenarios/variants`` (docs/variants.md).

Each runs with ``assocsim run SCENARIO --cloud scenarios.variants.MODULE:make_cloud
--check`` (in a fresh process, from a directory outside the repository, so the installed
package is what imports), and is judged in process on the scenarios where its difference
shows: the broken ones are caught by the promise they break, and only by it, while the
reference cloud passes the same runs; the honest one passes under both mismatch policies
and with the learning recommender, and its difference (no shopper profile) is checked on
its store.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from protocol import (
    AssociationRequest,
    CloudConfig,
    CloudMachine,
    InMemoryStore,
    PurchaseUpload,
    PushDue,
    RuleRecommender,
    Subscribe,
    phone_address,
)
from scenarios import Scenario, apply_overrides, load_scenario
from scenarios.testing import RunOutcome, run_checked
from scenarios.variants import early_push, no_dual_send, no_profile
from tests.builders import ALICE, BOB, POS, catalog_upload, receipt

ASSOCSIM = Path(sys.executable).parent / "assocsim"
EARLY = "scenarios.variants.early_push:make_cloud"
NO_DUAL = "scenarios.variants.no_dual_send:make_cloud"
NO_PROFILE = "scenarios.variants.no_profile:make_cloud"


def _scenario(name: str, *sets: str) -> Scenario:
    return apply_overrides(load_scenario(name), list(sets))


def _run(scenario: Scenario, cloud: str | None, tmp_path: Path) -> RunOutcome:
    return run_checked(scenario, cloud=cloud, failures_dir=tmp_path)


def _broken(outcome: RunOutcome) -> set[str]:
    return {v.invariant for v in outcome.violations}


@pytest.mark.parametrize(
    ("cloud", "scenario", "status", "expected"),
    [
        (EARLY, "quickstart", 1, "timeout-push (safety): receipt"),
        (NO_DUAL, "wrong-ids", 1, "mismatch-dual-send (safety): receipt"),
        (NO_PROFILE, "wrong-ids", 0, "no violations"),
    ],
)
def test_each_variant_runs_from_the_command_line(
    cloud: str, scenario: str, status: int, expected: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(ASSOCSIM), "run", scenario, "--cloud", cloud, "--check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the repository: the installed package imports
        check=False,
    )
    assert done.returncode == status, done.stdout + done.stderr
    assert done.stderr == ""
    assert expected in done.stdout


def test_pushing_early_breaks_the_timeout_push_promise_only(tmp_path: Path) -> None:
    scenario = _scenario("quickstart", "purchases=60", "phones=10")
    assert _run(scenario, None, tmp_path).ok
    outcome = _run(scenario, EARLY, tmp_path)
    assert _broken(outcome) == {"timeout-push"}
    assert all("before the deadline" in v.detail for v in outcome.violations)
    # Every push the early cloud made came at half the period: each one is a violation.
    assert len(outcome.violations) == outcome.report.pushes > 0


def test_dropping_the_dual_send_breaks_unit_8022_only_under_dual_send(tmp_path: Path) -> None:
    dual = _scenario("wrong-ids", "purchases=80")
    assert _run(dual, None, tmp_path).ok
    outcome = _run(dual, NO_DUAL, tmp_path)
    assert _broken(outcome) == {"mismatch-dual-send"}
    assert outcome.report.dual_sends == 0 < len(outcome.violations)
    assert outcome.report.lost == 0  # the named phones still get their timeout pushes
    # Under reject no dual-send is owed: the variant is the reference there.
    reject = _scenario("wrong-ids", "purchases=80", "cloud.mismatch_policy=reject")
    assert _run(reject, NO_DUAL, tmp_path).ok


@pytest.mark.parametrize(
    "sets",
    [
        (),
        ("cloud.mismatch_policy=reject",),
        ("cloud.recommender=engine", "purchases=120"),
    ],
)
def test_the_stricter_privacy_variant_keeps_every_promise(
    sets: tuple[str, ...], tmp_path: Path
) -> None:
    outcome = _run(_scenario("wrong-ids", *sets), NO_PROFILE, tmp_path)
    assert outcome.ok, outcome.check.format_text()
    assert outcome.report.delivered > 0


def test_the_faults_scenario_judges_the_variants_as_the_quiet_runs_do(tmp_path: Path) -> None:
    faults = _scenario("faults", "purchases=150", "phones=20")
    assert _run(faults, NO_PROFILE, tmp_path).ok
    assert "timeout-push" in _broken(_run(faults, EARLY, tmp_path))


class _Counting(RuleRecommender):
    def __init__(self) -> None:
        super().__init__()
        self.observed: list[PurchaseUpload] = []

    def observe(self, purchase: PurchaseUpload) -> None:
        self.observed.append(purchase)


def _serve_alice(make: type[CloudMachine]) -> tuple[CloudMachine, _Counting]:
    recommender = _Counting()
    cloud = make(store=InMemoryStore(), recommender=recommender, config=CloudConfig())
    cloud.handle(Subscribe(ALICE), phone_address(ALICE), 0.0)
    cloud.handle(Subscribe(BOB), phone_address(BOB), 0.0)
    cloud.handle(catalog_upload("r-1", ALICE), POS, 1.0)
    cloud.handle(AssociationRequest(1, "r-1", "shop-a", ALICE), phone_address(ALICE), 2.0)
    cloud.handle(catalog_upload("r-2", ALICE), POS, 3.0)
    cloud.handle(AssociationRequest(2, "r-2", "shop-a", BOB), phone_address(BOB), 4.0)  # dual-send
    cloud.handle(catalog_upload("r-3", ALICE), POS, 5.0)
    cloud.timer_fired(PushDue("r-3", "shop-a"), 1000.0)
    cloud.start(2000.0)  # a restart relearns every binding
    return cloud, recommender


def test_the_stricter_privacy_variant_keeps_no_profile() -> None:
    reference, learned = _serve_alice(CloudMachine)
    assert len(learned.observed) == 6  # three uploads, then relearned at the restart
    assert all(
        reference.store.matching_relation(receipt(r)) is not None for r in ("r-1", "r-2", "r-3")
    )
    private, nothing = _serve_alice(no_profile.NoProfile)
    assert nothing.observed == []
    assert all(private.store.matching_relation(receipt(r)) is None for r in ("r-1", "r-2", "r-3"))


def test_the_variants_are_the_factories_their_modules_name() -> None:
    for module, cls in [
        (early_push, early_push.PushesEarly),
        (no_dual_send, no_dual_send.NoDualSend),
        (no_profile, no_profile.NoProfile),
    ]:
        cloud = module.make_cloud(InMemoryStore(), RuleRecommender(), CloudConfig())
        assert type(cloud) is cls
