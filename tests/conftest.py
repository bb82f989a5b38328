"""Shared test configuration: hypothesis profiles, and the ``slow`` marker.

* ``default``: quick enough for every local run.
* ``ci``: what ``.ci/run`` uses (``CI=true``): derandomized, so CI is reproducible.
* ``ci-versions``: ``.ci/run``'s second Python: derandomized, 15 examples a property (a
  version changes what every example meets; the 60 of ``ci`` ran on the first Python).
* ``long``: many more examples, for hunting bugs: ``HYPOTHESIS_PROFILE=long pytest``
  (2,000 per property; the fault matrix, ``tests/scenarios/test_fault_matrix.py``, caps
  its scenarios at 1,000).

``slow`` marks the tests listed in :data:`SLOW` (real processes, TCP servers, a Dask
cluster, kill -9 rounds, wheel installs: together about a third of the suite's time), so
``pytest -m "not slow"`` is the quicker loop the README offers and ``.ci/run`` runs on its
second Python. ``tests/test_slow_marker.py`` fails on a name that matches no test.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("ci-versions", settings.get_profile("ci"), max_examples=15)
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "default")
)

# Test ids (a file, or a file::test prefix) of the slowest tests, from --durations on a shared
# 2-core machine: each took 7-38 s where the median test takes 0.02 s.
SLOW = (
    "tests/scenarios/test_kill_cloud.py",
    "tests/scenarios/test_kill_cloud_can_fail.py",
    "tests/scenarios/test_field_trace_kill.py",
    "tests/scenarios/test_field_client_kill.py",
    "tests/scenarios/test_serve.py",
    "tests/scenarios/test_sweep_scheduler.py",
    "tests/scenarios/test_fresh_project.py",
    "tests/scenarios/test_variants_guide.py::test_the_walkthrough_prints_what_the_guide_shows",
    "tests/scenarios/test_testing_toolkit.py::test_the_readme_example_finds_a_bug_through_the_",
    "tests/scenarios/test_reco_scorer.py::test_fit_engine_learns_every_basket_with_weights_fr",
    "tests/scenarios/test_fault_matrix.py::test_the_fault_matrix_catches_the_planted_per_wri",
    "tests/scenarios/test_promises_agree.py::test_the_readme_template_fails_once_with_the_fil",
    "tests/scenarios/test_sweep_figures.py::test_report_says_when_it_draws",
    "tests/scenarios/test_trace_gap.py::test_a_flooded_serve_cloud_stops_its_trace_at_its_bo",
)


# Files of many quick tests that add up (20-130 s of worker time each, junit times of a
# whole run on 2026-12-07), longest first: handed to the workers right after the files
# SLOW names. An order hint only: a file missing here runs later, never not at all.
LONG_FILES = (
    "tests/scenarios/test_promises_agree.py",
    "tests/protocol/test_codec_fast.py",
    "tests/scenarios/test_promises_spec.py",
    "tests/scenarios/test_checks_ignored.py",
    "tests/scenarios/test_plots_html.py",
    "tests/scenarios/test_checks.py",
    "tests/test_browser.py",
    "tests/scenarios/test_sweep.py",
    "tests/scenarios/test_cli.py",
    "tests/protocol/test_messages_codec.py",
    "tests/scenarios/test_field_hostile.py",
)


def slow_tests(nodeids: list[str], slow: tuple[str, ...] = SLOW) -> tuple[set[str], list[str]]:
    """The test ids ``slow`` names, and each name that matches no test of its file although
    that file was collected (a renamed test: fix :data:`SLOW`)."""
    marked = {nodeid for nodeid in nodeids if nodeid.startswith(slow)}
    files = {nodeid.split("::")[0] for nodeid in nodeids}
    stale = [
        name
        for name in slow
        if name.split("::")[0] in files and not any(n.startswith(name) for n in marked)
    ]
    return marked, stale


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Stale names are tests/test_slow_marker.py's to report: a run of one test of a file
    # collects the file without the others SLOW names.
    marked, _ = slow_tests([item.nodeid for item in items])
    for item in items:
        if item.nodeid in marked:
            item.add_marker(pytest.mark.slow)
    # pytest -n (--dist loadfile, pyproject) hands whole files to the workers in this order:
    # the files holding the slowest tests first, then LONG_FILES longest first, then the
    # rest as collected (a stable sort), so that no long file starts last and runs on
    # while the other core idles.
    slow_files = {nodeid.split("::")[0] for nodeid in marked}
    rank = {name: place for place, name in enumerate(LONG_FILES, 1)}

    def order(item: pytest.Item) -> int:
        file = item.nodeid.split("::")[0]
        return 0 if file in slow_files else rank.get(file, len(rank) + 1)

    items.sort(key=order)
