"""A durable :class:`~protocol.CloudStore` in one SQLite file (stdlib ``sqlite3``, WAL mode).

:class:`SqliteStore` keeps exactly what :class:`~protocol.InMemoryStore` keeps, with the
same semantics and iteration orders, so a cloud restarted on the same file recovers its
bindings, subscriptions, pending and outgoing pushes, deliveries, matching relations and
promotions (see ``docs/store.md`` for the schema).

Atomic steps: between :meth:`SqliteStore.begin_step` and :meth:`SqliteStore.commit_step`
(the driver brackets every step of the cloud machine with them) the writes form one SQLite
transaction, begun at the step's first write and committed once: a process killed inside
the step leaves none of its writes behind, and a step that writes nothing costs no
transaction. Outside a step the connection is in autocommit mode, every write committed
before its method returns. With ``durable=True`` (the default) the database runs
``synchronous=FULL``: the WAL is fsynced at every commit (once per step), so an upload the
cloud has acknowledged survives a power loss. ``durable=False`` selects
``synchronous=NORMAL``: a commit survives a crash of the process but the last commits
before a power loss or OS crash may be rolled back; much faster, fine for simulations.

It lives in ``actors`` because it does I/O; ``protocol`` stays sans-I/O.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from protocol import (
    AssociationPush,
    Binding,
    MatchingRelation,
    PendingPush,
    Promotions,
    PurchaseUpload,
    ReceiptKey,
    RemoteProtocolError,
    decode_json,
    encode_json,
)
from protocol.lowlevel import (
    strict_converter,
)

from ._errors import StoreError
from ._store_migration import MIGRATIONS, migrate

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

SCHEMA_VERSION: Final = 3
"""The schema this code writes and reads, kept in ``PRAGMA user_version``.

Version 2 keys every receipt by (merchant_id, receipt_id): each merchant has its own
namespace of receipt ids (issue 14). Version 3 has the same tables with the messages in
wire version 3. An older store is migrated when opened, after a copy of it is written
beside it (``actors/_store_migration.py``)."""

APPLICATION_ID: Final = int.from_bytes(b"asoc", "big")
"""``PRAGMA application_id`` of an assocsim store: tells it apart from other SQLite files."""

# Times (stored_at, subscribed_at, deadline, saved_at) are columns without a declared type:
# SQLite then keeps a Python float bit-exact (a REAL column stores integral values as
# integers on disk and gives -0.0 back as 0.0). NOT NULL refuses NaN, which SQLite would
# store as NULL. ``seq INTEGER PRIMARY KEY`` is the insertion order the iterations follow:
# an upsert keeps its row (a dict replaces a value in place), a delete then insert gets a
# larger seq (a dict appends the key again). VACUUM never renumbers an explicit INTEGER
# PRIMARY KEY.
_SCHEMA: Final = (
    """CREATE TABLE bindings (
        seq INTEGER PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        stored_at NOT NULL,
        upload TEXT NOT NULL,
        UNIQUE (merchant_id, receipt_id)
    )""",
    """CREATE TABLE subscriptions (
        phone_id TEXT PRIMARY KEY,
        subscribed_at NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE pending_pushes (
        seq INTEGER PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        deadline NOT NULL,
        UNIQUE (merchant_id, receipt_id)
    )""",
    """CREATE TABLE deliveries (
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        PRIMARY KEY (merchant_id, receipt_id, phone_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE outgoing (
        seq INTEGER PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        push TEXT NOT NULL,
        UNIQUE (merchant_id, receipt_id, phone_id)
    )""",
    """CREATE TABLE matching_relations (
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        goods TEXT NOT NULL,
        associated TEXT NOT NULL,
        saved_at NOT NULL,
        PRIMARY KEY (merchant_id, receipt_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE promotions (
        merchant_id TEXT PRIMARY KEY,
        promotions TEXT NOT NULL
    ) WITHOUT ROWID""",
)

_PUT_BINDING: Final = """
    INSERT INTO bindings (merchant_id, receipt_id, phone_id, stored_at, upload)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (merchant_id, receipt_id) DO UPDATE SET
        phone_id = excluded.phone_id, stored_at = excluded.stored_at, upload = excluded.upload
"""
_PUT_PENDING: Final = """
    INSERT INTO pending_pushes (merchant_id, receipt_id, phone_id, deadline) VALUES (?, ?, ?, ?)
    ON CONFLICT (merchant_id, receipt_id) DO UPDATE SET
        phone_id = excluded.phone_id, deadline = excluded.deadline
"""
_PUT_OUTGOING: Final = """
    INSERT INTO outgoing (merchant_id, receipt_id, phone_id, push) VALUES (?, ?, ?, ?)
    ON CONFLICT (merchant_id, receipt_id, phone_id) DO UPDATE SET push = excluded.push
"""
_SAVE_RELATION: Final = """
    INSERT OR REPLACE INTO matching_relations
        (merchant_id, receipt_id, phone_id, goods, associated, saved_at)
    VALUES (?, ?, ?, ?, ?, ?)
"""


def _create_private(path: str) -> None:
    """Create the store's file, empty, readable by its owner only (0600), if missing.

    The store holds purchases and phone numbers; SQLite creates the ``-wal``, ``-shm`` and
    ``-journal`` files beside it with the database file's permissions, so they are 0600
    too. A file that exists keeps its permissions (its owner chose them).
    """
    if path == ":memory:" or path.startswith("file:"):
        return  # not a file name (SQLite refuses WAL mode for it below)
    # An existing store, or a directory SQLite then refuses with its own message: as is.
    with contextlib.suppress(FileExistsError, IsADirectoryError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))


_converter = strict_converter()
_DECODED_UPLOADS: Final = 65_536  # the most decoded uploads a store keeps at once


class SqliteStore:
    """A :class:`~protocol.CloudStore` in the SQLite file at ``path``, created if missing.

    Raises :class:`~actors.StoreError` if ``path`` cannot be opened, is not an SQLite
    database, is another program's database, or holds a store of another schema version.
    Any later SQLite failure (disk full, I/O error, use after :meth:`close`) and any row
    that no longer decodes is a :class:`~actors.StoreError` too.

    ``durable=True`` (default): ``synchronous=FULL``, every write is on disk when its method
    returns, at the cost of an fsync per write. ``durable=False``: ``synchronous=NORMAL``,
    writes survive a crash of the process but maybe not a power loss.

    One object per thread (``sqlite3``'s rule); other processes may open the same file
    (WAL lets readers run beside the writer), but only one cloud should write it.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = True) -> None:
        self._path = os.fspath(path)
        self._durable = durable
        self._closed = False
        self._in_step = False  # between begin_step and commit_step/rollback_step
        # A binding's row text -> its decoded upload: the cloud reads a binding at every
        # request and push, and decoding its JSON cost more than the query. Keyed by the
        # text itself, so a row changed outside assocsim is decoded (and judged) afresh.
        self._uploads: dict[str, PurchaseUpload] = {}
        self._migrated_from: int | None = None
        try:
            _create_private(self._path)
            # isolation_level=None: autocommit, each statement is its own transaction.
            self._db = sqlite3.connect(self._path, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot open the store at {self._path!r}: {exc}; "
                "pass the path of a writable file in an existing directory"
            ) from exc
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------------ lifecycle

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def durable(self) -> bool:
        """Whether writes are fsynced at every commit (``synchronous=FULL``)."""
        return self._durable

    def close(self) -> None:
        """Close the database (the last connection to close folds the WAL into the file).

        A step still open is rolled back, as a killed process's would be; closing twice is
        harmless.
        """
        self._closed = True
        self._in_step = False
        self._db.close()

    # ------------------------------------------------------------------ atomic steps

    def begin_step(self) -> None:
        """The writes until :meth:`commit_step` form one transaction (begun lazily)."""
        self._in_step = True

    def commit_step(self) -> None:
        """Commit the step's writes together (one fsync when durable)."""
        self._in_step = False
        if self._db.in_transaction:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc

    def rollback_step(self) -> None:
        """Discard every write of the step."""
        self._in_step = False
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self._path!r}, durable={self._durable})"

    def _open(self) -> None:
        try:
            fresh = self._check_identity()
            older = 0 if fresh else self._inspect()[1]
            if older and older < SCHEMA_VERSION:
                self._copy_before_migrating(older)
            # Only now, once the file is known to be ours (or empty), change its header.
            (mode,) = self._db.execute("PRAGMA journal_mode = WAL").fetchone()
            if str(mode).lower() != "wal":
                raise StoreError(
                    f"{self._path!r}: SQLite refused WAL mode (journal_mode is {mode!r}); "
                    "SqliteStore needs a database file on a local filesystem"
                )
            self._db.execute(f"PRAGMA synchronous = {'FULL' if self._durable else 'NORMAL'}")
            if self._durable:
                self._db.execute("PRAGMA fullfsync = ON")  # macOS: flush the drive's cache
            if fresh or older < SCHEMA_VERSION:
                self._create_schema()
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self._path!r} is not a usable assocsim store ({exc}); pass the path of "
                "an assocsim store, or a path that does not exist yet to create one"
            ) from exc

    def _inspect(self) -> tuple[int, int, int]:
        """``(application_id, user_version, number of schema objects)`` of the file."""
        db = self._db
        (app_id,) = db.execute("PRAGMA application_id").fetchone()
        (version,) = db.execute("PRAGMA user_version").fetchone()
        (objects,) = db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return int(app_id), int(version), int(objects)

    def _check_identity(self) -> bool:
        """True for an empty database; raises :class:`StoreError` unless it is our store."""
        app_id, version, objects = self._inspect()
        if app_id == 0 and version == 0 and objects == 0:
            return True
        self._refuse_unless_ours(app_id, version, objects)
        return False

    def _refuse_unless_ours(self, app_id: int, version: int, objects: int) -> None:
        if app_id != APPLICATION_ID:
            raise StoreError(
                f"{self._path!r} is an SQLite database of another program, not an assocsim "
                f"store (application_id {app_id:#010x}, {objects} schema objects); it was "
                "left untouched: pass a new path to create a store"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self._path!r} holds an assocsim store of schema version {version}, newer "
                f"than this assocsim reads (version {SCHEMA_VERSION}); upgrade assocsim to "
                "open it, or pass another path"
            )
        if version != SCHEMA_VERSION and version not in MIGRATIONS:
            raise StoreError(
                f"{self._path!r} holds an assocsim store of unknown schema version {version} "
                f"(this assocsim reads version {SCHEMA_VERSION}); it may be damaged: restore "
                "it from a backup, or pass another path"
            )

    def _copy_before_migrating(self, version: int) -> None:
        """Write the store as it is to ``PATH.schema-VERSION`` (0600) before migrating it."""
        copy = self.copy_path(version)
        if os.path.exists(copy) and os.path.getsize(copy) > 0:
            if self._is_copy(copy, version):
                # An earlier opening's copy (it was killed before its migration committed,
                # or another process is migrating the store now): the store as it still is.
                return
            raise StoreError(
                f"{self._path!r} holds an assocsim store of schema version {version} to "
                f"migrate to version {SCHEMA_VERSION}, but {copy!r} (where its copy goes) "
                "already exists: move that file away, then open the store again"
            )
        created = not os.path.exists(copy)
        try:
            _create_private(copy)
            self._db.execute("VACUUM INTO ?", (copy,))
        except (OSError, sqlite3.Error) as exc:
            if created:  # only a file this opening made (another process may be writing one)
                with contextlib.suppress(OSError):
                    os.remove(copy)
            raise StoreError(
                f"{self._path!r} holds an assocsim store of schema version {version} to "
                f"migrate to version {SCHEMA_VERSION}, but its copy could not be written to "
                f"{copy!r} ({exc}); the store was left as it was: make its directory "
                "writable with room for a copy, then open it again"
            ) from exc

    def _is_copy(self, copy: str, version: int) -> bool:
        """Whether the SQLite file ``copy`` holds this store's version and rows exactly."""
        try:
            other = sqlite3.connect(f"{Path(copy).absolute().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error:
            return False
        try:
            header = "PRAGMA application_id", "PRAGMA user_version"
            if [other.execute(pragma).fetchone() for pragma in header] != [
                (APPLICATION_ID,),
                (version,),
            ]:
                return False
            mine, theirs = self._db.iterdump(), other.iterdump()
            return all(a == b for a, b in itertools.zip_longest(mine, theirs))
        except sqlite3.Error:
            return False
        finally:
            other.close()

    def copy_path(self, version: int) -> str:
        """Where the copy of this store at schema ``version`` is written before migrating."""
        return f"{self._path}.schema-{version}"

    @property
    def migrated_from(self) -> int | None:
        """The schema version this store was migrated from when opened, or None."""
        return self._migrated_from

    def _create_schema(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")  # another process may be creating it right now
        try:
            app_id, version, objects = self._inspect()
            if app_id == 0 and version == 0 and objects == 0:
                for statement in _SCHEMA:
                    db.execute(statement)
                # Both pragmas write the file header inside this transaction.
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            else:
                self._refuse_unless_ours(app_id, version, objects)
                if version < SCHEMA_VERSION:  # another process may have migrated it meanwhile
                    try:
                        migrate(
                            db,
                            version=version,
                            target=SCHEMA_VERSION,
                            schema=_SCHEMA,
                            path=self._path,
                        )
                    except StoreError:
                        # The store stays as it was, so its copy is not needed (and would
                        # stop the next attempt).
                        with contextlib.suppress(OSError):
                            os.remove(self.copy_path(version))
                        raise
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    self._migrated_from = version
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ------------------------------------------------------------------ plumbing

    def _failed(self, exc: sqlite3.Error) -> StoreError:
        if self._closed:
            return StoreError(
                f"store {self._path!r} is closed; open a new SqliteStore on that path"
            )
        return StoreError(f"store {self._path!r}: {type(exc).__name__}: {exc}")

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        try:
            if self._in_step and not self._db.in_transaction:
                self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        try:
            return self._db.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def _all(self, sql: str) -> list[Any]:
        try:
            return self._db.execute(sql).fetchall()
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def _corrupt(self, table: str, key: object, exc: Exception) -> StoreError:
        return StoreError(
            f"store {self._path!r}: the row {key!r} of table {table} does not decode ({exc}); "
            "the file was changed outside assocsim: restore it from a backup"
        )

    def _upload(self, key: str, raw: str) -> PurchaseUpload:
        known = self._uploads.get(raw)
        if known is not None:
            return known
        try:
            upload = decode_json(raw)
        except RemoteProtocolError as exc:
            raise self._corrupt("bindings", key, exc) from exc
        if not isinstance(upload, PurchaseUpload):
            raise self._corrupt("bindings", key, TypeError(f"a {type(upload).__name__}"))
        if len(self._uploads) >= _DECODED_UPLOADS:
            self._uploads.clear()  # bounded: a long-running server holds no growing cache
        self._uploads[raw] = upload
        return upload

    def _push(self, key: tuple[str, str], raw: str) -> AssociationPush:
        try:
            push = decode_json(raw)
        except RemoteProtocolError as exc:
            raise self._corrupt("outgoing", key, exc) from exc
        if not isinstance(push, AssociationPush):
            raise self._corrupt("outgoing", key, TypeError(f"a {type(push).__name__}"))
        return push

    def _strings(self, key: str, raw: str) -> tuple[str, ...]:
        try:
            strings: tuple[str, ...] = _converter.structure(json.loads(raw), tuple[str, ...])
        except Exception as exc:
            raise self._corrupt("matching_relations", key, exc) from exc
        return strings

    # ------------------------------------------------------------------ bindings

    def binding(self, receipt: ReceiptKey) -> Binding | None:
        row = self._one(
            "SELECT stored_at, upload FROM bindings WHERE merchant_id = ? AND receipt_id = ?",
            receipt,
        )
        if row is None:
            return None
        return Binding(self._upload(str(receipt), row[1]), stored_at=row[0])

    def put_binding(self, binding: Binding) -> None:
        upload = binding.upload
        self._write(
            _PUT_BINDING,
            (
                upload.merchant_id,
                upload.receipt_id,
                upload.phone_id,
                binding.stored_at,
                encode_json(upload).decode(),
            ),
        )

    def bindings(self) -> tuple[Binding, ...]:
        """Every binding, in the order they were first stored."""
        rows = self._all(
            "SELECT merchant_id || '/' || receipt_id, stored_at, upload FROM bindings ORDER BY seq"
        )
        return tuple(Binding(self._upload(key, raw), stored_at=at) for key, at, raw in rows)

    # ------------------------------------------------------------------ subscriptions

    def is_subscribed(self, phone_id: str) -> bool:
        return self._one("SELECT 1 FROM subscriptions WHERE phone_id = ?", (phone_id,)) is not None

    def subscribe(self, phone_id: str, at: float) -> None:
        """Subscribe ``phone_id``; a phone already subscribed keeps its first time."""
        self._write(
            "INSERT OR IGNORE INTO subscriptions (phone_id, subscribed_at) VALUES (?, ?)",
            (phone_id, at),
        )

    # ------------------------------------------------------------------ pending pushes

    def pending_push(self, receipt: ReceiptKey) -> PendingPush | None:
        row = self._one(
            "SELECT phone_id, deadline FROM pending_pushes "
            "WHERE merchant_id = ? AND receipt_id = ?",
            receipt,
        )
        return None if row is None else PendingPush(receipt, row[0], row[1])

    def put_pending_push(self, push: PendingPush) -> None:
        self._write(_PUT_PENDING, (*push.receipt, push.phone_id, push.deadline))

    def remove_pending_push(self, receipt: ReceiptKey) -> None:
        self._write("DELETE FROM pending_pushes WHERE merchant_id = ? AND receipt_id = ?", receipt)

    def pending_pushes(self) -> tuple[PendingPush, ...]:
        """Every pending push, in the order first put (since it was last removed)."""
        rows = self._all(
            "SELECT merchant_id, receipt_id, phone_id, deadline FROM pending_pushes ORDER BY seq"
        )
        return tuple(
            PendingPush(ReceiptKey(merchant, receipt), phone, deadline)
            for merchant, receipt, phone, deadline in rows
        )

    # ------------------------------------------------------------------ deliveries

    def was_delivered(self, receipt: ReceiptKey, phone_id: str) -> bool:
        row = self._one(
            "SELECT 1 FROM deliveries WHERE merchant_id = ? AND receipt_id = ? AND phone_id = ?",
            (*receipt, phone_id),
        )
        return row is not None

    def mark_delivered(self, receipt: ReceiptKey, phone_id: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO deliveries (merchant_id, receipt_id, phone_id) VALUES (?, ?, ?)",
            (*receipt, phone_id),
        )

    # ------------------------------------------------------------------ outgoing pushes

    def put_outgoing(self, push: AssociationPush) -> None:
        """Keep ``push`` until its phone acknowledges it (re-sent after a restart)."""
        self._write(
            _PUT_OUTGOING,
            (push.merchant_id, push.receipt_id, push.phone_id, encode_json(push).decode()),
        )

    def remove_outgoing(self, receipt: ReceiptKey, phone_id: str) -> None:
        self._write(
            "DELETE FROM outgoing WHERE merchant_id = ? AND receipt_id = ? AND phone_id = ?",
            (*receipt, phone_id),
        )

    def outgoing(self) -> tuple[AssociationPush, ...]:
        """Pushes sent and not yet acknowledged, in the order they were first sent."""
        rows = self._all(
            "SELECT merchant_id || '/' || receipt_id, phone_id, push FROM outgoing ORDER BY seq"
        )
        return tuple(self._push((receipt, phone), raw) for receipt, phone, raw in rows)

    # ------------------------------------------------------------------ matching relations

    def save_matching_relation(self, relation: MatchingRelation) -> None:
        self._write(
            _SAVE_RELATION,
            (
                *relation.receipt,
                relation.phone_id,
                json.dumps(relation.goods),
                json.dumps(relation.associated),
                relation.saved_at,
            ),
        )

    def matching_relation(self, receipt: ReceiptKey) -> MatchingRelation | None:
        row = self._one(
            "SELECT phone_id, goods, associated, saved_at FROM matching_relations "
            "WHERE merchant_id = ? AND receipt_id = ?",
            receipt,
        )
        if row is None:
            return None
        phone_id, goods, associated, saved_at = row
        return MatchingRelation(
            receipt,
            phone_id,
            self._strings(str(receipt), goods),
            self._strings(str(receipt), associated),
            saved_at,
        )

    # ------------------------------------------------------------------ promotions

    def promotions(self, merchant_id: str) -> Promotions | None:
        row = self._one("SELECT promotions FROM promotions WHERE merchant_id = ?", (merchant_id,))
        if row is None:
            return None
        try:
            promotions: Promotions = _converter.structure(json.loads(row[0]), Promotions)
        except Exception as exc:
            raise self._corrupt("promotions", merchant_id, exc) from exc
        return promotions

    def set_promotions(self, promotions: Promotions) -> None:
        self._write(
            "INSERT OR REPLACE INTO promotions (merchant_id, promotions) VALUES (?, ?)",
            (promotions.merchant_id, json.dumps(_converter.unstructure(promotions))),
        )
