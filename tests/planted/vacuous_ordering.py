"""A planted bug: the scenario strategy's knobs ordered as they were, vacuous first.

Hypothesis draws the first item of a ``sampled_from`` list and the low end of a range most
often, and shrinks towards them. :func:`scenarios` was ``0.0`` first for ``wrong_id_rate``
and ``ask_probability``, ``purchases`` from 0 and ``push_timeout`` from its favoured 1 s
(every push due before its ask): in a review, 31 of 200 draws made no purchase, 145 of 300
faulty ones had nobody ask, and one in twelve runs dual-sent, so a fault-matrix search let
``scenarios.variants.no_dual_send`` through in 3 of 8 seeds, every test green.
``tests/scenarios/test_fault_matrix_exercises.py`` must catch it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from scenarios import Scenario
from scenarios.testing.strategies import faulty_scenarios, scenarios

__all__ = ["vacuous_faulty_scenarios", "vacuous_scenarios"]


def vacuous_scenarios() -> st.SearchStrategy[Scenario]:
    """:func:`~scenarios.testing.strategies.scenarios` with the old knobs (the bug)."""
    return scenarios(
        purchases=st.integers(0, 20),
        wrong_id_rate=st.sampled_from([0.0, 0.3, 1.0]),
        ask_probability=st.sampled_from([0.0, 0.5, 1.0]),
        push_timeout=st.floats(1.0, 1800.0),
    )


def vacuous_faulty_scenarios() -> st.SearchStrategy[Scenario]:
    """:func:`~scenarios.testing.strategies.faulty_scenarios` over :func:`vacuous_scenarios`."""
    return faulty_scenarios(vacuous_scenarios())
