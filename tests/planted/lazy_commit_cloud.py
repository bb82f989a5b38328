"""A planted bug: ``serve cloud`` over a store that commits lazily, every 16th step.

:class:`LazyCommitStore` is :class:`~actors.SqliteStore` whose ``commit_step`` leaves the
step's transaction open unless it is the 16th since the last commit: the steps in between
join it. The driver then sends each step's ``upload-ack`` and pushes while the writes they
announce are still uncommitted, so a ``kill -9`` loses up to 15 acknowledged steps (the
rollback SQLite makes of an open transaction when the process dies). Reads on the cloud's
own connection see its uncommitted writes: nothing else goes wrong while it runs.

Run as the cloud process (``python -m tests.planted.lazy_commit_cloud serve cloud ...``,
with the repository on ``PYTHONPATH``): the kill -9 field trial must catch it
(``tests/scenarios/test_kill_cloud_can_fail.py``).
"""

from __future__ import annotations

import sys

from actors import SqliteStore

__all__ = ["COMMIT_EVERY", "LazyCommitStore"]

COMMIT_EVERY = 16


class LazyCommitStore(SqliteStore):
    """Commits every :data:`COMMIT_EVERY`-th step; the others stay in the open transaction."""

    _steps = 0

    def commit_step(self) -> None:
        self._steps += 1
        if self._steps % COMMIT_EVERY:
            self._in_step = False  # BUG: acknowledged, not committed
            return
        super().commit_step()


if __name__ == "__main__":
    from scenarios._cli._main import main
    from scenarios._field import _serve

    setattr(_serve, "SqliteStore", LazyCommitStore)  # noqa: B010 -- the planted store, in serve cloud
    sys.exit(main())
