"""Shared test configuration: hypothesis profiles.

* ``default``: quick enough for every local run.
* ``ci``: what ``.ci/run`` uses (``CI=true``): derandomized, so CI is reproducible.
* ``long``: many more examples, for hunting bugs: ``HYPOTHESIS_PROFILE=long pytest``
  (2,000 per property; the fault matrix, ``tests/scenarios/test_fault_matrix.py``, caps
  its scenarios at 1,000).
"""

from __future__ import annotations

import os

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
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "default")
)
