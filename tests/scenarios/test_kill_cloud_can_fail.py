"""The kill -9 field trial can fail: a ``serve cloud`` whose store commits lazily is caught.

``tests/scenarios/test_kill_cloud.py`` kills a real ``serve cloud`` with SIGKILL while a
POS uploads and finds no acknowledged upload lost. That says something only if a cloud
that acknowledges before its writes are durable loses uploads under the same kills. The
planted ``tests/planted/lazy_commit_cloud.py`` runs ``serve cloud`` over an
:class:`~actors.SqliteStore` that commits every 16th step only (the others' writes wait in
the open transaction, their acknowledgements already sent): three kills lose some, as a
real process's uncommitted transaction is lost, and the trial names them (two kills at
seed 12: 9 acknowledged uploads not bound and 7 never shown in one run, 2 and 1 in
another).

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
