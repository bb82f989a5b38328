"""Bringing an older assocsim store up to the schema this code reads, keeping every row.

A store's ``PRAGMA user_version`` says which schema it has; :data:`MIGRATIONS` holds one step
per older version, each taking a store of version ``v`` to version ``v + 1``:

* **1 -> 2** (issue 14: a receipt is (merchant, receipt id)): every table that named a
  receipt by its id alone gains its ``merchant_id``. Version 1 ids were unique across
  merchants, and every row names a receipt that has a binding, whose upload says its
  merchant. The outgoing pushes' wire JSON gains the ``merchant_id`` field too.
* **2 -> 3** (wire version 3): the messages in rows (``bindings.upload``,
  ``outgoing.push``) move from wire version 2 (merchant ids included) to 3, whose bodies are
  the same but for tighter bounds.

:func:`migrate` runs the steps in one transaction the caller opened and then decodes every
stored message with today's codec, so a row today's assocsim could not read (one over a
bound that version 3 added) fails the whole migration and leaves the file as it was. It
lives in ``actors`` with the store: it reads and writes SQLite.

A new wire version changes what the rows hold, so it needs a new schema version and a step
here: ``tests/actors/test_store_migration.py`` fails until both exist.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Final

from protocol import RemoteProtocolError, decode_json

from ._errors import StoreError

__all__ = ["MIGRATIONS", "ROW_WIRE_VERSIONS", "migrate"]

ROW_WIRE_VERSIONS: Final[Mapping[int, int]] = {1: 2, 2: 2, 3: 3}
"""Schema version -> the wire version of the messages its rows hold."""

# The tables whose messages are wire JSON: table -> (the message column, the key columns).
_MESSAGE_COLUMNS: Final = {
    "bindings": ("upload", ("merchant_id", "receipt_id")),
    "outgoing": ("push", ("merchant_id", "receipt_id", "phone_id")),
}


class _Refused(Exception):
    """A row the migration cannot carry over; its message names the row and why."""


def _merchants(db: sqlite3.Connection) -> dict[str, str]:
    """Version 1: receipt id -> the merchant its binding's upload names."""
    merchants: dict[str, str] = {}
    for receipt_id, upload in db.execute("SELECT receipt_id, upload FROM bindings"):
        try:
            merchant = json.loads(upload)["body"]["merchant_id"]
        except (ValueError, TypeError, KeyError) as exc:
            raise _Refused(
                f"the binding of receipt {receipt_id!r} does not decode ({exc})"
            ) from exc
        if not isinstance(merchant, str):
            raise _Refused(f"the binding of receipt {receipt_id!r} names no merchant")
        merchants[receipt_id] = merchant
    return merchants


def _with_merchant(push: str, merchant: str) -> str:
    """A version 1 push's wire JSON with the ``merchant_id`` version 2 bodies carry."""
    data = json.loads(push)
    body = data["body"]
    data["body"] = {"receipt_id": body["receipt_id"], "merchant_id": merchant} | body
    return json.dumps(data, separators=(",", ":"))


def _two_from_one(db: sqlite3.Connection, schema: tuple[str, ...]) -> None:
    """Version 1 -> 2: every receipt's rows gain its merchant; the rest is copied as is."""
    merchants = _merchants(db)
    # Only assocsim's own tables are rebuilt: SQLite's (sqlite_stat1 after an ANALYZE, which
    # may not be renamed) and any a user added are left as they are.
    ours = {statement.split()[2] for statement in schema}  # "CREATE TABLE name (...)"
    found = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    tables = [name for (name,) in found if name in ours]
    for table in tables:
        db.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
    for statement in schema:
        db.execute(statement)
    for table in tables:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info(old_{table})")]
        listed = ", ".join(columns)
        named = "receipt_id" in columns
        marks = ", ".join("?" * (len(columns) + named))
        into = f"merchant_id, {listed}" if named else listed
        for row in db.execute(f"SELECT {listed} FROM old_{table}").fetchall():
            values = list(row)
            if named:
                receipt_id = values[columns.index("receipt_id")]
                merchant = merchants.get(receipt_id)
                if merchant is None:
                    raise _Refused(
                        f"a row of table {table} names receipt {receipt_id!r}, which has no "
                        "binding to tell its merchant"
                    )
                if table == "outgoing":
                    at = columns.index("push")
                    try:
                        values[at] = _with_merchant(values[at], merchant)
                    except (ValueError, TypeError, KeyError) as exc:
                        raise _Refused(
                            f"the outgoing push of receipt {receipt_id!r} to phone "
                            f"{values[columns.index('phone_id')]!r} does not decode ({exc})"
                        ) from exc
                values.insert(0, merchant)
            db.execute(f"INSERT INTO {table} ({into}) VALUES ({marks})", values)
        db.execute(f"DROP TABLE old_{table}")


def _three_from_two(db: sqlite3.Connection, schema: tuple[str, ...]) -> None:
    """Version 2 -> 3: the rows' messages move from wire version 2 to 3 (same bodies)."""
    del schema  # the tables keep their shape
    for table, (column, key) in _MESSAGE_COLUMNS.items():
        keys = ", ".join(key)
        rows = db.execute(f"SELECT {keys}, {column} FROM {table}").fetchall()
        for *names, raw in rows:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("v") != 2:
                raise _Refused(
                    f"the row {'/'.join(names)!r} of table {table} is not a wire version 2 "
                    f"message (its 'v' is {data.get('v') if isinstance(data, dict) else None!r})"
                )
            data["v"] = 3
            where = " AND ".join(f"{name} = ?" for name in key)
            db.execute(
                f"UPDATE {table} SET {column} = ? WHERE {where}",
                (json.dumps(data, separators=(",", ":")), *names),
            )


MIGRATIONS: Final[Mapping[int, Callable[[sqlite3.Connection, tuple[str, ...]], None]]] = {
    1: _two_from_one,
    2: _three_from_two,
}
"""Schema version ``v`` -> the step taking a store from ``v`` to ``v + 1``."""


def _check_messages(db: sqlite3.Connection) -> None:
    """Every stored message decodes with today's codec (the steps wrote what it reads)."""
    for table, (column, key) in _MESSAGE_COLUMNS.items():
        keys = ", ".join(key)
        for *names, raw in db.execute(f"SELECT {keys}, {column} FROM {table}"):
            try:
                decode_json(raw)
            except RemoteProtocolError as exc:
                raise _Refused(
                    f"the row {'/'.join(names)!r} of table {table} is not a message today's "
                    f"assocsim reads ({exc})"
                ) from exc


def migrate(
    db: sqlite3.Connection, *, version: int, target: int, schema: tuple[str, ...], path: str
) -> None:
    """Take the store in ``db`` from schema ``version`` to ``target``, inside the caller's
    transaction (which it rolls back on error: the file is then as it was).

    ``schema`` is the target schema's ``CREATE TABLE`` statements. Raises
    :class:`~actors.StoreError` naming the first row that cannot be carried over.
    """
    try:
        for step in range(version, target):
            MIGRATIONS[step](db, schema)
        _check_messages(db)
    except (_Refused, sqlite3.Error, ValueError, TypeError, KeyError) as exc:
        raise StoreError(
            f"{path!r} holds an assocsim store of schema version {version} that cannot be "
            f"brought to version {target}: {exc}; the file was left as it was: finish its "
            "pushes with the assocsim that wrote it, then start this one on a new --db path"
        ) from exc
