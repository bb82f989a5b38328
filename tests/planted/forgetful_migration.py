"""A planted bug: a schema 1 -> 2 step that carries over only the tables naming a receipt.

:func:`forgetful_two_from_one` rebuilds the tables whose rows name a receipt, with their
merchants, and recreates the others (subscriptions, promotions) empty: a migrated cloud would
forget which phones subscribed and every merchant's offers, and still open without an error.
``tests/actors/test_store_migration.py`` must catch it by comparing every row.
"""

from __future__ import annotations

import sqlite3

from actors._store_migration import MIGRATIONS

__all__ = ["forgetful_two_from_one"]

_RIGHT = MIGRATIONS[1]


def forgetful_two_from_one(db: sqlite3.Connection, schema: tuple[str, ...]) -> None:
    """The right step, then the tables without receipts emptied."""
    _RIGHT(db, schema)
    for table in ("subscriptions", "promotions"):
        db.execute(f"DELETE FROM {table}")  # BUG: rows without a receipt are not copied
