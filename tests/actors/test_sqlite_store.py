"""SqliteStore: the file, its durability, crashes, exact round trips and refused files.

What every store must do is in ``test_store_conformance.py``; this file checks what only a
durable store has: the schema and pragmas, data surviving a restart and a crash, floats
coming back bit for bit, and typed errors for files that are not (or no longer) ours.
"""

from __future__ import annotations

import gc
import math
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from actors import SqliteStore, StoreError
from actors._sqlite_store import APPLICATION_ID, SCHEMA_VERSION
from protocol import (
    MAX_PRICE,
    AssociationPush,
    AssocsimError,
    Binding,
    CloudMachine,
    CloudStore,
    MatchingRelation,
    Offer,
    PendingPush,
    Promotions,
    PurchaseUpload,
    PushDue,
    RuleRecommender,
    Subscribe,
    Timer,
    UploadAck,
    encode_json,
    phone_address,
)
from tests.builders import ALICE, fill_store, stored, stored_push, stored_upload
from tests.strategies import association_pushes, purchase_uploads, timestamps

REPO = Path(__file__).resolve().parents[2]

# Floats that a careless store loses: the sign of zero, the smallest subnormal, the largest
# finite, an integral value (a REAL column would store it as an integer), and a value whose
# shortest repr has 17 digits.
AWKWARD_FLOATS = (-0.0, 5e-324, 1.7976931348623157e308, 3.0, 0.1 + 0.2)


def assert_filled(store: CloudStore) -> None:
    assert tuple(store.bindings()) == (
        Binding(stored_upload("R1"), stored_at=101.0),
        Binding(stored_upload("R2"), stored_at=102.0),
    )
    assert store.is_subscribed(ALICE)
    assert tuple(store.pending_pushes()) == (PendingPush(stored("R2"), ALICE, 702.0),)
    assert store.was_delivered(stored("R1"), ALICE)
    assert tuple(store.outgoing()) == (stored_push("R1"),)
    assert store.matching_relation(stored("R1")) == MatchingRelation(
        stored("R1"), ALICE, ("SKU-1",), ("SKU-2",), 150.0
    )
    assert store.promotions("M1") == Promotions("M1", ("SKU-2",), (Offer("SKU-2", "-10%", 11.5),))


def pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as db:
        return db.execute(f"PRAGMA {name}").fetchone()[0]


# --------------------------------------------------------------------------- the file


def test_a_new_store_creates_a_versioned_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path) as store:
        assert store.path == str(path)
        assert store.durable
    assert pragma(path, "application_id") == APPLICATION_ID
    assert pragma(path, "user_version") == SCHEMA_VERSION == 3
    assert pragma(path, "journal_mode") == "wal"
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {
        "bindings",
        "subscriptions",
        "pending_pushes",
        "deliveries",
        "outgoing",
        "matching_relations",
        "promotions",
    } <= tables


@pytest.mark.parametrize(("durable", "level"), [(True, 2), (False, 1)])  # FULL, NORMAL
def test_durable_selects_synchronous_full_and_not_durable_normal(
    tmp_path: Path, durable: bool, level: int
) -> None:
    with SqliteStore(tmp_path / "cloud.db", durable=durable) as store:
        (got,) = store._db.execute("PRAGMA synchronous").fetchone()
        assert got == level
        assert store.durable is durable
        assert repr(store) == f"SqliteStore({str(tmp_path / 'cloud.db')!r}, durable={durable})"


def test_a_subscription_keeps_its_first_time_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path) as store:
        store.subscribe(ALICE, 5.0)
        store.subscribe(ALICE, 9.0)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT phone_id, subscribed_at FROM subscriptions").fetchall()
    assert rows == [(ALICE, 5.0)]


def test_every_write_is_committed_when_its_method_returns(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path) as store:
        store.put_binding(Binding(stored_upload("R1"), stored_at=101.0))
        assert not store._db.in_transaction
        # Another connection (another process, in effect) sees it at once.
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT receipt_id FROM bindings").fetchall() == [("R1",)]
        store.remove_pending_push(stored("R1"))
        assert not store._db.in_transaction


# --------------------------------------------------------------------------- restart and crash


def test_a_store_reopened_after_close_sees_everything(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path) as store:
        fill_store(store)
    assert not Path(f"{path}-wal").exists()  # the last close folded the WAL into the file
    with SqliteStore(path) as again:
        assert_filled(again)


def test_committed_writes_survive_a_store_dropped_without_close(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    # An onlooker connection keeps the WAL from being checkpointed and removed when the
    # store's connection goes away, as after a crash: the data is only in the WAL.
    onlooker = sqlite3.connect(path)
    try:
        store = SqliteStore(path)
        onlooker.execute("SELECT count(*) FROM bindings").fetchall()  # now it holds the WAL
        fill_store(store)
        del store
        gc.collect()
        assert Path(f"{path}-wal").stat().st_size > 0
        with SqliteStore(path) as restarted:
            assert_filled(restarted)
    finally:
        onlooker.close()


CRASH = """
import os, sys
sys.path.insert(0, {repo!r})
from actors import SqliteStore
from tests.builders import fill_store
store = SqliteStore({path!r})
fill_store(store)
os._exit(0)  # no close, no atexit, no finalizers: what a kill -9 leaves behind
"""


def test_committed_writes_survive_a_process_that_dies_without_closing(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    script = textwrap.dedent(CRASH).format(repo=str(REPO), path=str(path))
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert Path(f"{path}-wal").stat().st_size > 0  # nothing was checkpointed
    with SqliteStore(path) as restarted:
        assert_filled(restarted)
        restarted.put_binding(Binding(stored_upload("R3"), stored_at=103.0))  # and it writes on
        assert [b.receipt_id for b in restarted.bindings()] == ["R1", "R2", "R3"]


def test_a_cloud_restarted_on_the_same_file_re_arms_its_pending_push(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    pos = "pos:M1:POS1"
    with SqliteStore(path) as store:
        cloud = CloudMachine(store=store, recommender=RuleRecommender())
        cloud.handle(Subscribe(ALICE), sender=phone_address(ALICE), now=1.0)
        effects = cloud.handle(stored_upload("R1"), sender=pos, now=100.0)
        assert [s.message for s in effects.sends] == [UploadAck("R1", "M1")]
        (timer,) = effects.timers
    with SqliteStore(path) as store:
        restarted = CloudMachine(store=store, recommender=RuleRecommender())
        assert restarted.start(now=200.0).timers == (Timer(timer.at, PushDue("R1", "M1")),)
        assert store.is_subscribed(ALICE)
        assert store.binding(stored("R1")) == Binding(stored_upload("R1"), stored_at=100.0)


# --------------------------------------------------------------------------- exact round trips


@pytest.mark.parametrize("value", AWKWARD_FLOATS, ids=repr)
def test_floats_come_back_bit_for_bit(tmp_path: Path, value: float) -> None:
    path = tmp_path / "cloud.db"
    relation = MatchingRelation(stored("R1"), ALICE, (), (), value)
    # A message's price and time are bounded (MAX_PRICE < MAX_TIME): past the bound, the
    # largest float below it, as awkward a float as any.
    price = value if abs(value) <= MAX_PRICE else math.nextafter(MAX_PRICE, 0.0)
    with SqliteStore(path) as store:
        store.put_binding(Binding(stored_upload("R1", price=price, at=abs(price)), stored_at=value))
        store.put_pending_push(PendingPush(stored("R1"), ALICE, value))
        store.put_outgoing(stored_push("R1", price=abs(price), score=value))
        store.save_matching_relation(relation)
        store.set_promotions(Promotions("M1", (), (Offer("SKU-1", "offer", price),)))
    with SqliteStore(path) as store:
        # repr is exact for floats and tells -0.0 from 0.0, which == does not.
        assert repr(store.binding(stored("R1"))) == repr(
            Binding(stored_upload("R1", price=price, at=abs(price)), stored_at=value)
        )
        assert repr(store.pending_pushes()) == repr((PendingPush(stored("R1"), ALICE, value),))
        assert repr(store.outgoing()) == repr((stored_push("R1", price=abs(price), score=value),))
        assert repr(store.matching_relation(stored("R1"))) == repr(relation)
        assert repr(store.promotions("M1")) == repr(
            Promotions("M1", (), (Offer("SKU-1", "offer", price),))
        )


# One file for all examples (a fresh one per example would cost most of the time): each
# example writes under its own keys, which hypothesis may repeat, so it checks what it read
# right after it wrote.
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(found=purchase_uploads(), pushed=association_pushes(), at=timestamps())
def test_any_upload_and_push_come_back_equal_after_a_restart(
    tmp_path: Path, found: PurchaseUpload, pushed: AssociationPush, at: float
) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path, durable=False) as store:
        store.put_binding(Binding(found, stored_at=at))
        store.put_outgoing(pushed)
    with SqliteStore(path, durable=False) as store:
        assert repr(store.binding(found.receipt)) == repr(Binding(found, stored_at=at))
        kept = {(p.receipt, p.phone_id): p for p in store.outgoing()}
        assert repr(kept[(pushed.receipt, pushed.phone_id)]) == repr(pushed)


# --------------------------------------------------------------------------- refused files


def test_store_error_is_an_assocsim_error() -> None:
    assert issubclass(StoreError, AssocsimError)


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    content = b"shopping list: face wash, lotion\n" * 200
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"notes\.txt.*not a usable assocsim store"):
        SqliteStore(path)
    assert path.read_bytes() == content


def test_a_corrupted_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path) as store:
        fill_store(store)
    data = bytearray(path.read_bytes())
    data[:100] = b"\xff" * 100  # the header is gone
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="not a usable assocsim store"):
        SqliteStore(path)


def test_another_programs_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program, not an assocsim store") as caught:
        SqliteStore(path)
    assert "pass a new path" in str(caught.value)
    assert path.read_bytes() == before  # not even switched to WAL
    assert pragma(path, "journal_mode") == "delete"


def test_a_store_of_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match=r"schema version 4, newer .* upgrade assocsim"):
        SqliteStore(path)


def test_a_store_of_an_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.close()
    with pytest.raises(StoreError, match="unknown schema version 0"):
        SqliteStore(path)


def test_a_path_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        SqliteStore(tmp_path / "no-such-directory" / "cloud.db")
    with pytest.raises(StoreError, match="cannot open the store"):
        SqliteStore(tmp_path)  # a directory


def test_an_in_memory_database_is_refused_for_it_cannot_be_durable() -> None:
    with pytest.raises(StoreError, match=r"refused WAL mode .* on a local filesystem"):
        SqliteStore(":memory:")


def test_a_row_changed_outside_assocsim_is_a_store_error_on_read(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path) as store:
        fill_store(store)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE bindings SET upload = '{\"v\": 1}' WHERE receipt_id = 'R2'")
            db.execute("UPDATE promotions SET promotions = '[]'")
            # Valid wire JSON, but of an upload where a push belongs.
            db.execute("UPDATE outgoing SET push = ?", (encode_json(stored_upload("R9")).decode(),))
        db.close()
        assert store.binding(stored("R1")) == Binding(stored_upload("R1"), stored_at=101.0)
        with pytest.raises(StoreError, match=r"row 'M1/R2' of table bindings .* restore it"):
            store.binding(stored("R2"))
        with pytest.raises(StoreError, match="table bindings"):
            store.bindings()
        with pytest.raises(StoreError, match="table promotions"):
            store.promotions("M1")
        with pytest.raises(StoreError, match="table outgoing"):
            store.outgoing()


def test_a_nan_time_is_refused_not_stored_as_null(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "cloud.db") as store:
        with pytest.raises(StoreError, match="NOT NULL"):
            store.put_pending_push(PendingPush(stored("R1"), ALICE, float("nan")))
        assert store.pending_push(stored("R1")) is None


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "cloud.db")
    store.close()
    store.close()  # harmless
    with pytest.raises(StoreError, match="is closed; open a new SqliteStore"):
        store.put_binding(Binding(stored_upload("R1"), stored_at=1.0))
    with pytest.raises(StoreError, match="is closed"):
        store.bindings()


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_store_and_its_sidecar_files_are_created_readable_by_their_owner_only(
    tmp_path: Path, umask: int
) -> None:
    """Issue 14, item 8: cloud.db and its -wal/-shm were created 0644 (anyone could read
    the purchases and phone numbers). Whatever the umask, they are 0600 now."""
    path = tmp_path / "cloud.db"
    old = os.umask(umask)
    try:
        with SqliteStore(path) as store:
            fill_store(store)  # the WAL and shared-memory files exist while the store is open
            files = [path, *(tmp_path / f"cloud.db{s}" for s in ("-wal", "-shm"))]
            assert all(f.exists() for f in files)
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    finally:
        os.umask(old)
    assert modes == {"cloud.db": 0o600, "cloud.db-wal": 0o600, "cloud.db-shm": 0o600}


def test_a_rollback_journal_has_the_store_files_mode(tmp_path: Path) -> None:
    """SQLite gives a -journal the database file's mode: opened with 0600 first, the
    journal of a store being created is 0600 too (seen by holding a write open)."""
    path = tmp_path / "cloud.db"
    SqliteStore(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO subscriptions VALUES ('+8613800000001', 1.0)")
        journal = tmp_path / "cloud.db-journal"
        assert journal.exists()
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    finally:
        db.execute("ROLLBACK")
        db.close()
