"""The kill -9 field trial can fail: a ``serve cloud`` whose store commits lazily is caught.

``tests/scenarios/test_kill_cloud.py`` kills a real ``serve cloud`` with SIGKILL while a
POS uploads and finds no acknowledged upload lost. That says something only if a cloud
that acknowledges before its writes are durable loses uploads under the same kills. The
planted ``tests/planted/lazy_commit_cloud.py`` runs ``serve cloud`` over an
:class:`~actors.SqliteStore` that commits at most every 0.5 s (the steps in between wait in
the open transaction, their acknowledgements already sent): three kills lose some, as a
real process's uncommitted transaction is lost, and the trial names them (149 to 740 of 750
acknowledged uploads never shown in three runs at seed 12). Counted in steps (every 16th),
the plant passed one CI run: all three kills found only push acknowledgements uncommitted.

Before the trial settled on "no progress for 30 s", such a cloud ended it in an assertion
without counts after 240 s: its committed state kept pushes it would never send.
"""

from __future__ import annotations

from pathlib import Path

from tests.scenarios.test_kill_cloud import KillPlan, run_kill_rounds


def test_the_kill_9_trial_catches_a_cloud_that_acknowledges_before_committing(
    tmp_path: Path,
) -> None:
    # Its committed state keeps pushes it never sends: nothing moves once the rest is
    # shown, so three re-send periods (4 s at most) without progress end it, not 30 s.
    plan = KillPlan(rounds=3, seed=12, cloud_module="tests.planted.lazy_commit_cloud", stalled=12.0)
    counts = run_kill_rounds(tmp_path, plan, say=lambda line: print(line, flush=True))
    print(counts.format(), flush=True)
    assert counts.acknowledged == counts.purchases  # the POS saw every upload acknowledged
    assert not counts.ok
    assert counts.unbound or counts.lost, "no acknowledged upload was lost"
    assert counts.details()  # names the receipts
