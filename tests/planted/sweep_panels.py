"""A planted bug in the sweep's plots: every fault count is taken for 0 in every run.

:func:`scenarios._sweep._plots.sweep_panels` leaves out of the faults figure the counts
that are 0 in every run (named under its title instead). :func:`zero_everywhere` gets
that test wrong, so a loss sweep's ``dropped_by_loss``, which grows with the loss, would
get no panel: ``tests/scenarios/test_sweep_figures.py`` must see the panel missing.
"""

from __future__ import annotations

from scenarios._sweep._plots import SweepData

__all__ = ["zero_everywhere"]


def zero_everywhere(sweep: SweepData, name: str) -> bool:
    """Stands in for ``_plots._zero_everywhere``."""
    return True  # BUG: never looks at the runs
