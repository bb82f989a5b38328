"""Older stores are migrated when opened, keeping every row (``actors/_store_migration.py``).

The fixtures in ``tests/actors/data/`` were written by the ``SqliteStore`` of the commits
their headers name, so these tests open what an older assocsim really left on disk: a schema
1 store (receipts keyed by id alone) and a schema 2 store whose messages are in wire version 2.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import actors._sqlite_store
from actors import SqliteStore, StoreError
from actors._sqlite_store import SCHEMA_VERSION
from actors._store_migration import MIGRATIONS, ROW_WIRE_VERSIONS
from protocol import (
    WIRE_VERSION,
    AssociatedProduct,
    AssociationPush,
    CloudMachine,
    Item,
    MatchingRelation,
    Offer,
    PendingPush,
    Promotions,
    PurchaseUpload,
    PushDue,
    PushReason,
    Reason,
    ReceiptKey,
    RuleRecommender,
    Send,
    Timer,
    phone_address,
)
from tests.builders import ALICE, BOB
from tests.planted.forgetful_migration import forgetful_two_from_one
from tests.planted.headers_only_copy import headers_only_is_copy

DATA = Path(__file__).parent / "data"
STRANGER = "+8613800000009"  # the asker whose id did not match: the dual-send's other phone


def _item(sku: str, name: str, category: str, price: float) -> Item:
    return Item(
        sku=sku, name=name, category=category, brand="Acme", colour="", quantity=1, price=price
    )


def _uploads(second_receipt: str) -> tuple[PurchaseUpload, PurchaseUpload]:
    face_wash = _item("face-wash", "Face wash", "skincare", 12.5)
    jacket = _item("jacket", "Jacket", "outerwear", 80.0)
    return (
        PurchaseUpload("R1", "shop-01", "pos-1", ALICE, (face_wash,), purchased_at=100.0),
        PurchaseUpload(second_receipt, "shop-02", "pos-9", BOB, (jacket,), purchased_at=101.0),
    )


MOISTURISER = AssociatedProduct(
    sku="moisturiser",
    name="Moisturiser",
    category="skincare",
    brand="Acme",
    colour="",
    price=15.0,
    reason=Reason.COMPLEMENT,
    score=0.75,
)
DUAL_SEND = AssociationPush("R1", "shop-01", STRANGER, PushReason.DUAL_SEND, (MOISTURISER,))


def _old_store(tmp_path: Path, version: int) -> Path:
    path = tmp_path / "cloud.db"
    with sqlite3.connect(path) as db:
        db.executescript((DATA / f"store-schema-{version}.sql").read_text())
    db.close()
    return path


def assert_everything_kept(store: SqliteStore, second_receipt: str) -> None:
    """Every row of the fixture, read back through today's store."""
    first, second = _uploads(second_receipt)
    bob_receipt = ReceiptKey("shop-02", second_receipt)
    assert [(b.upload, b.stored_at) for b in store.bindings()] == [(first, 100.5), (second, 101.5)]
    assert store.is_subscribed(ALICE) and not store.is_subscribed(BOB)
    assert store.pending_pushes() == (PendingPush(bob_receipt, BOB, deadline=401.5),)
    assert store.was_delivered(ReceiptKey("shop-01", "R1"), ALICE)
    assert not store.was_delivered(bob_receipt, BOB)
    assert store.outgoing() == (DUAL_SEND,)
    assert store.matching_relation(ReceiptKey("shop-01", "R1")) == MatchingRelation(
        ReceiptKey("shop-01", "R1"), ALICE, ("face-wash",), ("moisturiser",), saved_at=120.0
    )
    offer = Offer(sku="moisturiser", description="2 for 1", price=15.0)
    assert store.promotions("shop-01") == Promotions("shop-01", ("face-wash",), (offer,))


@pytest.mark.parametrize(("version", "second_receipt"), [(1, "R2"), (2, "R1")])
def test_an_older_store_is_migrated_keeping_every_row(
    tmp_path: Path, version: int, second_receipt: str
) -> None:
    path = _old_store(tmp_path, version)
    with SqliteStore(path) as store:
        assert store.migrated_from == version
        assert_everything_kept(store, second_receipt)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    db.close()
    with SqliteStore(path) as reopened:  # migrated once: opened as today's store
        assert reopened.migrated_from is None
        assert_everything_kept(reopened, second_receipt)


@pytest.mark.parametrize("version", [1, 2])
def test_the_store_is_copied_as_it_was_before_migrating(tmp_path: Path, version: int) -> None:
    path = _old_store(tmp_path, version)
    before = sorted(sqlite3.connect(path).iterdump())
    with SqliteStore(path) as store:
        copy = Path(store.copy_path(version))
    assert copy == tmp_path / f"cloud.db.schema-{version}"
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600  # it holds purchases and phone ids
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (version,)
        assert sorted(db.iterdump()) == before
    db.close()


def test_a_cloud_restarted_on_a_migrated_store_keeps_its_promises(tmp_path: Path) -> None:
    """The pending timeout push is re-armed and the unacknowledged dual-send sent again."""
    with SqliteStore(_old_store(tmp_path, 1)) as store:
        cloud = CloudMachine(store=store, recommender=RuleRecommender())
        effects = cloud.start(now=200.0)
    assert Timer(401.5, PushDue("R2", "shop-02")) in effects.timers
    assert Send(phone_address(STRANGER), DUAL_SEND) in effects.sends


def test_a_row_today_cannot_read_stops_the_migration_and_leaves_the_file(
    tmp_path: Path,
) -> None:
    """A quantity over the bound wire version 3 added: refused in one line, nothing changed."""
    path = _old_store(tmp_path, 2)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE bindings SET upload = replace(upload, '\"quantity\":1', '\"quantity\":2000000')"
        )
    db.close()
    before = sorted(sqlite3.connect(path).iterdump())
    with pytest.raises(StoreError) as refused:
        SqliteStore(path)
    message = str(refused.value)
    assert "schema version 2 that cannot be brought to version 3" in message
    assert "table bindings" in message and "left as it was" in message and "\n" not in message
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        assert sorted(db.iterdump()) == before
    db.close()
    assert not (tmp_path / "cloud.db.schema-2").exists()  # not needed: the store is as it was


def test_a_schema_1_row_without_a_binding_is_refused(tmp_path: Path) -> None:
    path = _old_store(tmp_path, 1)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO deliveries VALUES ('R9', ?)", (ALICE,))
    db.close()
    with pytest.raises(StoreError, match=r"receipt 'R9', which has no binding"):
        SqliteStore(path)


def test_an_existing_copy_is_never_overwritten(tmp_path: Path) -> None:
    path = _old_store(tmp_path, 2)
    (tmp_path / "cloud.db.schema-2").write_text("someone's file")
    with pytest.raises(StoreError, match="already exists: move that file away"):
        SqliteStore(path)
    assert (tmp_path / "cloud.db.schema-2").read_text() == "someone's file"


def test_a_step_that_forgets_rows_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted step empties subscriptions and promotions: the row check sees it."""
    monkeypatch.setitem(MIGRATIONS, 1, forgetful_two_from_one)
    with SqliteStore(_old_store(tmp_path, 1)) as store, pytest.raises(AssertionError):
        assert_everything_kept(store, "R2")


def test_every_older_schema_has_a_step_and_the_rows_speak_todays_wire() -> None:
    """A new wire version changes what rows hold: it needs a schema version and a step."""
    assert set(MIGRATIONS) == set(range(1, SCHEMA_VERSION))
    assert ROW_WIRE_VERSIONS[SCHEMA_VERSION] == WIRE_VERSION


@pytest.mark.parametrize("version", [1, 2])
def test_sqlites_statistics_and_a_users_own_table_are_kept(tmp_path: Path, version: int) -> None:
    """A store after ANALYZE (sqlite_stat1, which SQLite will not rename) and with a table
    its user added: migrated, both tables kept as they were."""
    path = _old_store(tmp_path, version)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (note TEXT)")
        db.execute("INSERT INTO notes VALUES ('keep me')")
        db.execute("ANALYZE")
    db.close()
    with SqliteStore(path) as store:
        assert store.migrated_from == version
        assert_everything_kept(store, "R2" if version == 1 else "R1")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT note FROM notes").fetchall() == [("keep me",)]
        assert db.execute("SELECT count(*) FROM sqlite_stat1").fetchone() != (0,)
    db.close()


def _open_killed_before_commit(path: Path) -> int:
    """Open the store in a child process killed after the migration's steps, before COMMIT."""
    code = (
        "import os, sys\n"
        "import actors._sqlite_store as s\n"
        "steps = s.migrate\n"
        "def killed(db, **kw):\n"
        "    steps(db, **kw)\n"
        "    os._exit(9)\n"
        "s.migrate = killed\n"
        "s.SqliteStore(sys.argv[1])\n"
    )
    root = Path(__file__).parents[2]
    return subprocess.run([sys.executable, "-c", code, str(path)], check=False, cwd=root).returncode


@pytest.mark.parametrize("version", [1, 2])
def test_a_migration_killed_before_its_commit_leaves_the_store_and_can_be_run_again(
    tmp_path: Path, version: int
) -> None:
    """The killed opening's copy is the store as it still is: the next opening migrates."""
    path = _old_store(tmp_path, version)
    before = sorted(sqlite3.connect(path).iterdump())
    assert _open_killed_before_commit(path) == 9
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (version,)
        assert sorted(db.iterdump()) == before
    db.close()
    with SqliteStore(path) as store:
        assert store.migrated_from == version
        assert_everything_kept(store, "R2" if version == 1 else "R1")
    with sqlite3.connect(tmp_path / f"cloud.db.schema-{version}") as copy:
        assert sorted(copy.iterdump()) == before
    copy.close()


def _copy_then_change(tmp_path: Path) -> Path:
    """A schema 2 store with a copy beside it taken before one of its rows changed."""
    path = _old_store(tmp_path, 2)
    with sqlite3.connect(path) as db:
        db.execute("VACUUM INTO ?", (str(tmp_path / "cloud.db.schema-2"),))
        db.execute("DELETE FROM subscriptions")
    db.close()
    return path


def test_a_copy_of_the_store_as_it_was_before_is_never_taken_for_its_copy(
    tmp_path: Path,
) -> None:
    path = _copy_then_change(tmp_path)
    with pytest.raises(StoreError, match="already exists: move that file away"):
        SqliteStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
    db.close()


def test_a_copy_taken_by_its_header_alone_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SqliteStore, "_is_copy", headers_only_is_copy)
    with pytest.raises(pytest.fail.Exception):
        test_a_copy_of_the_store_as_it_was_before_is_never_taken_for_its_copy(tmp_path)


def test_a_copy_that_cannot_be_written_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only directory (simulated: the tests may run as root, who may write anyway)."""
    path = _old_store(tmp_path, 2)
    before = sorted(sqlite3.connect(path).iterdump())
    create = actors._sqlite_store._create_private

    def read_only_directory(name: str) -> None:
        if name.endswith(".schema-2"):
            raise PermissionError(13, "Permission denied", name)
        create(name)

    monkeypatch.setattr(actors._sqlite_store, "_create_private", read_only_directory)
    with pytest.raises(StoreError) as refused:
        SqliteStore(path)
    message = str(refused.value)
    assert "its copy could not be written" in message and "Permission denied" in message
    assert "\n" not in message
    with sqlite3.connect(path) as db:
        assert sorted(db.iterdump()) == before
    db.close()
    assert not (tmp_path / "cloud.db.schema-2").exists()


@pytest.mark.parametrize("push", ["[1, 2]", '{"v": 2, "body": "text"}', "not json"])
def test_a_schema_1_push_that_is_not_a_message_is_refused_naming_its_row(
    tmp_path: Path, push: str
) -> None:
    path = _old_store(tmp_path, 1)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE outgoing SET push = ?", (push,))
    db.close()
    with pytest.raises(StoreError) as refused:
        SqliteStore(path)
    message = str(refused.value)
    assert f"the outgoing push of receipt 'R1' to phone {STRANGER!r} does not decode" in message
    assert "left as it was" in message and "\n" not in message
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT push FROM outgoing").fetchall() == [(push,)]
    db.close()
