"""A planted bug: ``serve cloud`` opening its store with ``durable=False``.

Its commits are then in the OS's page cache, not fsynced: a kill -9 loses nothing (the
kill -9 field trial passes), but a power loss can take back uploads the cloud had
acknowledged, which the README promises it never does. :class:`UndurableCloud` is
``serve cloud``'s ``_Cloud`` that opens so; ``tests/scenarios/test_serve_durable.py`` must
catch it.
"""

from __future__ import annotations

from actors import SqliteStore
from protocol import CloudMachine
from protocol.lowlevel import Gatekeeper
from scenarios._field._serve import _Cloud
from scenarios._sim._runner import recommender_named

__all__ = ["UndurableCloud"]


class UndurableCloud(_Cloud):
    def open(self) -> None:
        store = self.store = SqliteStore(self.options.db, durable=False)  # BUG: no fsync
        cloud = CloudMachine(
            store=store,
            recommender=recommender_named(self.options.recommender),
            config=self.options.config,
            device_tokens=self.tokens,
        )
        self.machine = Gatekeeper(cloud, store=store, holders=self.holders)
