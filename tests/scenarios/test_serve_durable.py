"""``serve cloud`` fsyncs every commit: its store runs ``synchronous=FULL``.

The README promises that an upload is acknowledged only once its step is committed and
fsynced. The kill -9 field trial cannot see a cloud that commits without fsyncing (a killed
process's commits are in the OS's page cache and survive it; only a power loss takes them
back), so this checks the store the server opens (``open_store``, which ``serve cloud``
opens its store with before anything else). Planted:
``tests/planted/undurable_serve.py`` (``durable=False``) is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from actors import SqliteStore
from protocol import CloudConfig
from protocol.lowlevel import DeviceTokens, generate_secret
from scenarios._field._serve import CloudOptions, ReceiptHolders, _Cloud, open_store
from tests.planted.undurable_serve import undurable_open_store

FULL = 2  # PRAGMA synchronous


def check_serve_cloud_fsyncs(
    opener: Callable[[CloudOptions], SqliteStore], directory: Path
) -> None:
    options = CloudOptions(
        host="127.0.0.1",
        port=0,
        db=directory / "cloud.db",
        secret=directory / "cloud.db.secret",
        holders=directory / "cloud.db.holders",
        tls_cert=None,
        tls_key=None,
        merchant_keys=None,
        trace=None,
        config=CloudConfig(),
        recommender="rules",
        run=None,
        batch=64,
        epoch=0.0,
        speed=1.0,
        status_file=None,
        wait_for_go=False,
    )
    cloud = _Cloud(options, DeviceTokens(generate_secret()), ReceiptHolders(None))
    cloud.open(opener(options))
    try:
        assert cloud.store is not None
        (level,) = cloud.store._db.execute("PRAGMA synchronous").fetchone()
        assert cloud.store.durable and level == FULL, f"synchronous = {level}, not FULL (2)"
    finally:
        cloud.close()


def test_serve_cloud_opens_its_store_fsyncing_every_commit(tmp_path: Path) -> None:
    check_serve_cloud_fsyncs(open_store, tmp_path)


def test_planted_an_undurable_serve_cloud_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"synchronous = 1, not FULL"):
        check_serve_cloud_fsyncs(undurable_open_store, tmp_path)
