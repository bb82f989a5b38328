"""A planted bug: a leftover copy taken for the store's when only its header matches.

:func:`headers_only_is_copy` accepts any SQLite file beside the store that says it is an
assocsim store of the same schema version, without comparing rows: a copy of the store from
before it changed (or of another store) would stand as its backup, and the migration would
go on with no copy of what it changes. ``tests/actors/test_store_migration.py`` must catch
it: a copy whose rows differ is refused.
"""

from __future__ import annotations

import sqlite3

from actors import SqliteStore
from actors._sqlite_store import APPLICATION_ID

__all__ = ["headers_only_is_copy"]


def headers_only_is_copy(store: SqliteStore, copy: str, version: int) -> bool:
    """The header's two pragmas compared; the rows are not (BUG)."""
    del store
    other = sqlite3.connect(copy)
    try:
        header = [
            other.execute(f"PRAGMA {name}").fetchone()
            for name in ("application_id", "user_version")
        ]
        return header == [(APPLICATION_ID,), (version,)]
    finally:
        other.close()
