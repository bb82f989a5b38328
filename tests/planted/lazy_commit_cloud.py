"""A planted bug: ``serve cloud`` over a store that commits lazily, at most every 0.5 s.

:class:`LazyCommitStore` is :class:`~actors.SqliteStore` whose ``commit_step`` leaves the
step's transaction open unless :data:`COMMIT_EVERY` seconds have passed since the last
commit (a group commit, as ``appendfsync everysec`` is for Redis): the steps in between
join it. The driver then sends each step's ``upload-ack`` and pushes while the writes they
announce are still uncommitted, so a ``kill -9`` loses the acknowledged steps of up to the
last half second (the rollback SQLite makes of an open transaction when the process dies).
Reads on the cloud's own connection see its uncommitted writes: nothing else goes wrong
while it runs.

Counted in time, not in steps: a kill lands in an open transaction holding uploads unless
it falls in the few milliseconds after a commit, so the trial catches it at every kill but
by rare chance. (Committing every 16th step, the earlier plant, let three kills in a row
fall where the open transaction held only push acknowledgements, whose loss re-sends a push
the phone already showed: one CI run of several passed it.)

Run as the cloud process (``python -m tests.planted.lazy_commit_cloud serve cloud ...``,
with the repository on ``PYTHONPATH``): the kill -9 field trial must catch it
(``tests/scenarios/test_kill_cloud_can_fail.py``).
"""

from __future__ import annotations

import sys
import time

from actors import SqliteStore

__all__ = ["COMMIT_EVERY", "LazyCommitStore"]

COMMIT_EVERY = 0.5  # seconds


class LazyCommitStore(SqliteStore):
    """Commits once :data:`COMMIT_EVERY` seconds have passed since the last commit; the
    steps in between stay in the open transaction."""

    _last_commit = 0.0

    def commit_step(self) -> None:
        now = time.monotonic()
        if now - self._last_commit < COMMIT_EVERY:
            self._in_step = False  # BUG: acknowledged, not committed
            return
        self._last_commit = now
        super().commit_step()


if __name__ == "__main__":
    from scenarios._cli._main import main
    from scenarios._field import _serve

    setattr(_serve, "SqliteStore", LazyCommitStore)  # noqa: B010 -- the planted store, in serve cloud
    sys.exit(main())
