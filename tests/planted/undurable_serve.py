"""A planted bug: ``serve cloud`` opening its store with ``durable=False``.

Its commits are then in the OS's page cache, not fsynced: a kill -9 loses nothing (the
kill -9 field trial passes), but a power loss can take back uploads the cloud had
acknowledged, which the README promises it never does. :func:`undurable_open_store` is
``serve cloud``'s ``open_store`` that opens so; ``tests/scenarios/test_serve_durable.py``
must catch it.
"""

from __future__ import annotations

from actors import SqliteStore
from scenarios._field._serve import CloudOptions

__all__ = ["undurable_open_store"]


def undurable_open_store(options: CloudOptions) -> SqliteStore:
    return SqliteStore(options.db, durable=False)  # BUG: no fsync
