"""A planted bug: a cloud whose store commits each write on its own, as ours did.

:class:`CommitsEachWrite` ignores the step's transaction (``begin_step``, ``commit_step``
and ``rollback_step`` do nothing), so under a :class:`~actors.SqliteStore` every write is
durable the moment it is made. A kill -9 inside a step then leaves the step half done: a
timeout push whose pending entry was removed but which was never kept as outgoing is
never sent. The fault matrix with crashes inside steps must catch it
(``tests/scenarios/test_crash_inside_step.py``).

Load it like any variant:
``assocsim run FILE --cloud tests.planted.per_write_store:per_write_cloud``.
"""

from __future__ import annotations

from actors import StoreProxy
from protocol import CloudConfig, CloudMachine, CloudStore, Machine, Recommender

__all__ = ["CommitsEachWrite", "per_write_cloud"]


class CommitsEachWrite(StoreProxy):
    """A store whose steps are no transactions: each write commits alone."""

    def begin_step(self) -> None:
        pass  # BUG: the writes of the step are not made one transaction

    def commit_step(self) -> None:
        pass

    def rollback_step(self) -> None:
        pass  # BUG: a step that dies half-way keeps its first writes


def per_write_cloud(store: CloudStore, recommender: Recommender, config: CloudConfig) -> Machine:
    """The :data:`~scenarios.CloudFactory` of the reference cloud over :class:`CommitsEachWrite`."""
    return CloudMachine(store=CommitsEachWrite(store), recommender=recommender, config=config)
