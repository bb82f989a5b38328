"""The toolkit finds a planted bug, shrinks it, and its replay command reproduces it.

``tests/planted/buggy_cloud.py`` is the reference cloud with one bug: its timeout push
ignores answered pulls. The property below (every invariant holds over a run drawn from
the toolkit's scenario strategy) must fail for it, with a shrunk scenario written to a
file and a message ending in the command that replays it; running that command in a
fresh process must fail again, naming the same violations. The reference cloud passes
the same property.

The search uses fixed settings (derandomized, no example database) rather than the
profile's, so it is the same search in every profile.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from scenarios import Scenario, load_scenario
from scenarios.testing import ProtocolViolationError, run_checked
from scenarios.testing.strategies import scenarios
from tests.planted.buggy_cloud import buggy_cloud

BUGGY = "tests.planted.buggy_cloud:buggy_cloud"
ROOT = Path(__file__).resolve().parents[2]
SEARCH = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)


def _protocol_holds(
    cloud: str | None, failures_dir: Path, ran: list[Scenario]
) -> Callable[[], None]:
    """The property, as a user would write it: every invariant holds for ``cloud``."""

    @SEARCH
    @given(scenario=scenarios())
    def protocol_holds(scenario: Scenario) -> None:
        ran.append(scenario)
        run_checked(scenario, cloud=cloud, failures_dir=failures_dir).assert_ok()

    return protocol_holds


def _find_the_bug(tmp_path: Path) -> ProtocolViolationError:
    with pytest.raises(ProtocolViolationError) as caught:
        _protocol_holds(BUGGY, tmp_path, [])()
    return caught.value


def test_the_toolkit_finds_shrinks_and_replays_the_planted_bug(tmp_path: Path) -> None:
    error = _find_the_bug(tmp_path / "failures")
    message = str(error)
    assert "timeout-push (safety)" in message
    assert "after the cloud answered" in message
    # The failure names the shrunk scenario's file and ends with the one replay command.
    assert error.scenario_file is not None and error.command is not None
    assert message.splitlines()[-1] == error.command
    words = shlex.split(error.command)
    seed = error.outcome.seed
    file = str(error.scenario_file)
    assert words == ["assocsim", "run", file, "--seed", str(seed), "--cloud", BUGGY, "--check"]
    # Only the final example was written, and it loads back as the scenario that failed.
    assert list((tmp_path / "failures").iterdir()) == [error.scenario_file]
    shrunk = load_scenario(file)
    assert shrunk == error.outcome.scenario
    assert shrunk.purchases <= 3 and shrunk.shops == 1  # shrunk to a tiny world

    script = Path(sys.executable).parent / words[0]
    done = subprocess.run(
        [str(script), *words[1:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 1, done.stderr
    # nothing but warnings of knobs the shrunk world left idle (a wrong_id_rate that drew no
    # wrong id in its one purchase): no error, no traceback
    assert all(line.startswith("assocsim: warning: ") for line in done.stderr.splitlines())
    for violation in error.outcome.violations:  # the same violations, at the same times
        assert violation.format_line() in done.stdout


def test_the_reference_cloud_passes_the_same_property(tmp_path: Path) -> None:
    ran: list[Scenario] = []
    _protocol_holds(None, tmp_path, ran)()
    assert len(ran) == SEARCH.max_examples
    assert sum(s.purchases for s in ran) > 0
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_the_reference_cloud_by_factory_passes_where_the_bug_fails(tmp_path: Path) -> None:
    # One scenario where the buyer asks before the push: the bug's signature.
    scenario = Scenario(name="asks-in-time", seed=3, phones=2, purchases=3, ask_delay=(10, 20))
    assert run_checked(scenario, failures_dir=tmp_path).ok
    broken = run_checked(scenario, cloud=buggy_cloud, failures_dir=tmp_path)
    assert broken.cloud == BUGGY  # a module-level factory is named for the replay
    assert {v.invariant for v in broken.violations} == {"timeout-push"}
    assert len(broken.violations) == 3
    assert broken.report.duplicates == 3
