"""Each step of a machine is one store transaction: all of its writes, or none.

The driver brackets every step with ``begin_step`` / ``commit_step`` (``run_step``); a step
that raises, or whose process dies inside it, leaves the store as it was before the step.
These tests hold both stores to that, and the SQLite store to it across a real process
killed in mid-step.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actors import (
    CrashPoint,
    CrashPointStore,
    KilledInsideStep,
    SqliteStore,
    StoreProxy,
    durable_state,
    run_step,
    step_kind,
)
from protocol import (
    Binding,
    CloudMachine,
    CloudStore,
    Effects,
    InMemoryStore,
    PendingPush,
    PushDue,
    RuleRecommender,
    StepTransactions,
    Subscribe,
)
from tests.actors.test_sqlite_store import REPO, assert_filled
from tests.builders import ALICE, fill_store, stored, stored_upload


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CloudStore]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    with SqliteStore(tmp_path / "cloud.db") as made:
        yield made


def _contents(store: CloudStore) -> tuple[Any, ...]:
    return (
        store.bindings(),
        sorted(p.receipt for p in store.pending_pushes()),
        sorted((p.receipt_id, p.phone_id) for p in store.outgoing()),
        store.was_delivered(stored("R1"), ALICE),
        store.is_subscribed(ALICE),
        store.matching_relation(stored("R1")),
    )


def _boom() -> Effects:
    raise RuntimeError("a bug in the middle of a step")


def test_a_step_that_raises_leaves_the_store_as_it_was(store: CloudStore) -> None:
    fill_store(store)
    before = _contents(store)

    def half_a_step() -> Effects:
        store.put_binding(Binding(stored_upload("R9"), stored_at=5.0))
        store.remove_pending_push(stored("R2"))
        store.remove_outgoing(stored("R1"), ALICE)
        store.mark_delivered(stored("R9"), ALICE)
        store.put_pending_push(PendingPush(stored("R2"), ALICE, deadline=1.0))  # put back, changed
        store.subscribe("+8613800000009", 3.0)
        return _boom()

    with pytest.raises(RuntimeError):
        run_step(store, half_a_step)
    assert _contents(store) == before
    assert store.binding(stored("R9")) is None and not store.was_delivered(stored("R9"), ALICE)
    assert store.pending_push(stored("R2")) == PendingPush(stored("R2"), ALICE, 702.0)
    assert not store.is_subscribed("+8613800000009")


def test_a_step_that_returns_keeps_every_write(store: CloudStore) -> None:
    def step() -> Effects:
        fill_store(store)
        return Effects()

    run_step(store, step)
    assert_filled(store)


def test_a_rolled_back_step_then_a_committed_one(store: CloudStore) -> None:
    store.begin_step()
    store.put_binding(Binding(stored_upload("R1"), stored_at=1.0))
    store.rollback_step()
    store.begin_step()
    store.put_binding(Binding(stored_upload("R2"), stored_at=2.0))
    store.commit_step()
    assert [b.receipt_id for b in store.bindings()] == ["R2"]


def test_sqlite_commits_a_step_once_and_not_before_its_end(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    with SqliteStore(path) as store, sqlite3.connect(path) as other:
        store.begin_step()
        assert not store._db.in_transaction  # begun lazily: no write yet
        store.put_binding(Binding(stored_upload("R1"), stored_at=1.0))
        store.put_pending_push(PendingPush(stored("R1"), ALICE, deadline=2.0))
        assert store._db.in_transaction
        # Another connection (another process, in effect) sees nothing of the open step.
        assert other.execute("SELECT count(*) FROM bindings").fetchone() == (0,)
        store.commit_step()
        assert not store._db.in_transaction
        assert other.execute("SELECT count(*) FROM pending_pushes").fetchone() == (1,)


def test_a_step_that_writes_nothing_opens_no_transaction(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "cloud.db") as store:
        store.begin_step()
        assert store.binding(stored("R1")) is None
        store.commit_step()
        assert not store._db.in_transaction


KILLED_IN_MID_STEP = """
import os, sys
sys.path.insert(0, {repo!r})
from actors import SqliteStore
from protocol import Binding, PendingPush
from tests.builders import fill_store, stored_upload
store = SqliteStore({path!r})
store.begin_step()
fill_store(store)
store.commit_step()
store.begin_step()
store.put_binding(Binding(stored_upload("R3"), stored_at=103.0))
store.remove_pending_push("R2")
os._exit(0)  # a kill -9 inside the second step: no commit, no close, no finalizers
"""


def test_a_process_killed_inside_a_step_leaves_none_of_its_writes(tmp_path: Path) -> None:
    path = tmp_path / "cloud.db"
    script = textwrap.dedent(KILLED_IN_MID_STEP).format(repo=str(REPO), path=str(path))
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with SqliteStore(path) as restarted:
        assert_filled(restarted)  # the first step, whole
        assert restarted.binding(stored("R3")) is None  # the second, not at all
        assert restarted.pending_push(stored("R2")) is not None


def test_the_cloud_machine_found_by_its_driver_is_its_store(tmp_path: Path) -> None:
    store = InMemoryStore()
    cloud = CloudMachine(store=store, recommender=RuleRecommender())
    assert durable_state(cloud) is store
    assert durable_state(object()) is None
    assert isinstance(store, StepTransactions)


def test_a_crash_point_fires_after_the_kth_write_of_a_matching_step_only() -> None:
    crashed: list[float] = []
    point = CrashPoint(crashed.append)
    store = CrashPointStore(InMemoryStore(), point)
    cloud = CloudMachine(store=store, recommender=RuleRecommender())
    point.arm(1, "push-due")
    subscribe = Subscribe(ALICE)
    point.enter(subscribe)  # another kind of step: it writes unharmed
    run_step(store, cloud.handle, subscribe, f"phone:{ALICE}", 1.0)
    assert store.is_subscribed(ALICE) and point.armed
    point.enter(PushDue("R1", "shop-a"))

    def push_due() -> Effects:
        store.remove_pending_push(stored("R1"))
        raise AssertionError("the crash point did not fire after the first write")

    with pytest.raises(KilledInsideStep):
        run_step(store, push_due)
    assert not point.armed and point.fired == 1


def test_step_kinds_name_messages_timers_and_the_start() -> None:
    assert step_kind("start") == "start"
    assert step_kind(Subscribe(ALICE)) == "subscribe"
    assert step_kind(PushDue("R1", "shop-a")) == "push-due"


def test_the_store_proxy_forwards_every_method_of_the_store_interface() -> None:
    members = {name for name in dir(CloudStore) if not name.startswith("_")}
    proxied = {name for name in vars(StoreProxy) if not name.startswith("_")}
    assert members <= proxied, members - proxied
    written = {name for name in vars(CrashPointStore) if not name.startswith("_")}
    writes = {
        "put_binding",
        "subscribe",
        "put_pending_push",
        "remove_pending_push",
        "mark_delivered",
        "put_outgoing",
        "remove_outgoing",
        "save_matching_relation",
        "set_promotions",
    }
    assert written == writes  # every write is counted; reads and the transaction are not
