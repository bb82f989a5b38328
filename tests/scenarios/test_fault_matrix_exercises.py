"""The fault matrix's scenarios exercise the promises it claims to check.

A property that passes because its draws never reach a promise is a false all-clear: with
its knobs ordered vacuous first (``tests/planted/vacuous_ordering.py``), one in twelve
drawn runs dual-sent, and the fault matrix let a cloud that never dual-sends
(``scenarios.variants.no_dual_send``) through in 3 of 8 seeds. Here the 60 scenarios the
fault matrix draws (``faulty_scenarios()``, derandomized, its count) run on the reference
cloud, counted from their traces: every run must judge something, and the share of runs
with a dual-send push, a timeout push and a crash must reach its floor. The planted
ordering falls below them. Then the fault matrix's properties, run against
``no_dual_send``, must fail for fixed seeds (its property over mismatched worlds also
derandomized, as CI runs it), and so must the README's example (its 100 examples).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from actors import EventKind
from protocol import CLOUD, AssociationPush, PushReason
from scenarios import Scenario
from scenarios.testing import AssocsimRunner, ProtocolViolationError, RunOutcome, run_checked
from scenarios.testing.strategies import faulty_scenarios
from scenarios.variants import no_dual_send
from tests.planted.vacuous_ordering import vacuous_faulty_scenarios
from tests.scenarios import test_fault_matrix
from tests.scenarios.test_fault_matrix_fires import derandomized

RUNS = 60
FLOORS = {"dual-send push": 0.12, "timeout push": 0.50, "crash": 0.20}
"""The least share of the 60 runs that must exercise each. Measured (hypothesis 6, these
60 draws): 9 dual-send pushes, 48 timeout pushes, 29 crashes; the planted ordering 5
dual-sends and 3 runs without a purchase."""
NO_DUAL_SEND = "scenarios.variants.no_dual_send:make_cloud"
ROOT = Path(__file__).resolve().parents[2]


@attrs.define
class Exercised:
    """What the runs drawn so far exercised (each a count of runs)."""

    runs: int = 0
    judged_nothing: int = 0
    counts: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(FLOORS, 0))

    def share(self, what: str) -> float:
        return self.counts[what] / self.runs

    def short(self) -> list[str]:
        """What falls below its floor (a run judging nothing is always short)."""
        short = [w for w, floor in FLOORS.items() if self.share(w) < floor]
        return short + (["something judged"] if self.judged_nothing else [])


def _pushes(outcome: RunOutcome) -> set[PushReason]:
    return {
        e.message.reason
        for e in outcome.events
        if e.kind is EventKind.SEND and e.sender == CLOUD and isinstance(e.message, AssociationPush)
    }


def exercised(strategy: st.SearchStrategy[Scenario], failures: Path) -> Exercised:
    """Run :data:`RUNS` scenarios drawn (derandomized) from ``strategy`` on the reference
    cloud and count what they exercised."""
    seen = Exercised()

    @derandomized(RUNS)
    @given(strategy)
    def run(scenario: Scenario) -> None:
        outcome = run_checked(scenario, failures_dir=failures)
        assert not outcome.violations, outcome.describe()
        pushes = _pushes(outcome)
        seen.runs += 1
        seen.judged_nothing += outcome.checked == 0
        seen.counts["dual-send push"] += PushReason.DUAL_SEND in pushes
        seen.counts["timeout push"] += PushReason.TIMEOUT in pushes
        seen.counts["crash"] += any(e.kind is EventKind.CRASH for e in outcome.events)

    run()
    return seen


def test_the_fault_matrix_draws_exercise_every_promise(tmp_path: Path) -> None:
    seen = exercised(faulty_scenarios(), tmp_path)
    assert seen.runs == RUNS, seen
    assert seen.short() == [], seen


def test_the_vacuous_ordering_is_caught(tmp_path: Path) -> None:
    seen = exercised(vacuous_faulty_scenarios(), tmp_path)
    assert seen.runs == RUNS, seen
    # tests/planted/vacuous_ordering.py: runs without a purchase, and fewer dual-sends
    assert seen.short() == ["dual-send push", "something judged"], seen


# ---------------------------------------------------------------- no_dual_send is caught

SEEDS = (1, 2, 3, 4)
"""The first four seeds (none left out): the default profile's search is random, each
seed one search of it."""


class _VariantRunner:
    """The ``assocsim_run`` fixture, running ``cloud`` whatever the test asks for."""

    def __init__(self, cloud: str, failures: Path) -> None:
        self.cloud, self.failures = cloud, failures

    def __call__(self, scenario: Scenario, seed: int | None = None, **_: object) -> RunOutcome:
        return run_checked(scenario, seed, cloud=self.cloud, failures_dir=self.failures)


def _search(
    inner: Callable[..., None],
    max_examples: int,
    *,
    at_seed: int | None,
    strategy: st.SearchStrategy[Scenario] | None = None,
) -> Callable[..., None]:
    """``inner``'s property over ``strategy`` (default ``faulty_scenarios()``):
    derandomized or at a seed; finding the failure is the point, so no shrinking."""
    search = settings(
        max_examples=max_examples,
        derandomize=at_seed is None,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )(given(scenario=faulty_scenarios() if strategy is None else strategy)(inner))
    return search if at_seed is None else seed(at_seed)(search)


def _inner(test: Any) -> Callable[..., None]:
    """The undecorated body of a ``@given`` test (hypothesis's documented
    ``.hypothesis.inner_test``, untyped), to run the suite's own property under other
    settings."""
    return cast(Callable[..., None], test.hypothesis.inner_test)


@pytest.mark.parametrize("at_seed", SEEDS)
def test_the_fault_matrix_catches_no_dual_send(at_seed: int, tmp_path: Path) -> None:
    # The default profile's search of the fault matrix's first property. Its CI-profile
    # search (one derandomized sequence) judged a mismatch in 1 of its 60 examples and let
    # no_dual_send through: the property over mismatched worlds below is there for it.
    inner = _inner(
        test_fault_matrix.test_fault_matrix_every_promise_kept_nothing_lost_or_duplicated
    )
    search = _search(inner, RUNS, at_seed=at_seed)
    with pytest.raises(ProtocolViolationError, match=r"mismatch-dual-send \(safety\)"):
        search(assocsim_run=_VariantRunner(NO_DUAL_SEND, tmp_path))


@pytest.mark.parametrize("at_seed", [None, *SEEDS], ids=["derandomized", *map(str, SEEDS)])
def test_the_mismatch_property_catches_no_dual_send(at_seed: int | None, tmp_path: Path) -> None:
    inner = _inner(test_fault_matrix.test_fault_matrix_mismatches_are_dual_sent_over_faults)
    strategy = faulty_scenarios(test_fault_matrix.MISMATCHED)
    search = _search(inner, RUNS, at_seed=at_seed, strategy=strategy)
    with pytest.raises(ProtocolViolationError, match=r"mismatch-dual-send \(safety\)"):
        search(assocsim_run=_VariantRunner(NO_DUAL_SEND, tmp_path))


def _readme_property(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Callable[..., None], int]:
    """The README's example property (its body, its number of examples), with
    ``my_variant`` the shipped ``no_dual_send``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing your own variant", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README: no example under 'Testing your own variant'"
    example = match.group(1)
    assert "@given(scenario=strategies.faulty_scenarios())" in example  # as _search draws
    path = tmp_path / "readme_example.py"
    path.write_text(example, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("readme_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    test = module.test_my_variant_keeps_every_promise
    examples = test._hypothesis_internal_use_settings.max_examples
    monkeypatch.setitem(sys.modules, "my_variant", no_dual_send)
    return test.hypothesis.inner_test, examples


@pytest.mark.parametrize("at_seed", SEEDS)
def test_the_readme_example_catches_no_dual_send(
    at_seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner, examples = _readme_property(tmp_path, monkeypatch)
    assert examples == 100
    search = _search(inner, examples, at_seed=at_seed)
    with pytest.raises(ProtocolViolationError, match=r"mismatch-dual-send \(safety\)"):
        search(AssocsimRunner(tmp_path))  # the first argument, as pytest passes it
