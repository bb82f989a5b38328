"""Issue 14 in the field-trial processes: a restart serves new uploads between bounded
batches of the pushes that fell due while it was down; a client whose TLS verification
fails exits 2 naming the reason; a trace is created 0600 and held in bounded memory;
``serve cloud --max-connections-per-peer`` refuses the extra connections as ``overloaded``.
Each check also runs against the bug it exists for (``tests/planted/hostile_field.py``).
"""

from __future__ import annotations

import json
import os
import stat
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
import trio
import trustme

from actors import EventKind, MemoryTransport, Observer, SqliteStore, TraceEvent
from protocol import (
    CLOUD,
    AssociationPush,
    CloudConfig,
    CloudMachine,
    ErrorCode,
    RuleRecommender,
    Subscribe,
    UploadAck,
    phone_address,
)
from scenarios._field._common import CloudDriver, StoreThread, open_trace
from tests.actors.test_tcp import Raw, codes
from tests.builders import ALICE, MERCHANT, POS, catalog_upload
from tests.planted import hostile_field as planted
from tests.scenarios.field_processes import Procs, purchases
from tests.scenarios.test_field_inputs_files import assocsim

DUE = 200  # pushes that fell due while the cloud was down


@pytest.fixture
def procs(tmp_path: Path) -> object:
    started = Procs(tmp_path)
    try:
        yield started
    finally:
        for proc in started.started:
            proc.kill()


# --------------------------------------------------------------------------- restart


async def _restart(tmp_path: Path, driver_class: type[CloudDriver]) -> tuple[int, int]:
    """A cloud that stored ``DUE`` uploads for a subscribed phone, with a 1 s push timeout,
    restarts long after: every push is due. A POS uploads as the restarted cloud starts.
    Returns (due pushes sent before the new upload's ack, due pushes sent in all)."""
    db = tmp_path / "cloud.db"
    config = CloudConfig(push_timeout=1.0)
    with SqliteStore(db) as store:
        before = CloudMachine(store=store, recommender=RuleRecommender(), config=config)
        before.start(0.0)
        before.handle(Subscribe(ALICE), phone_address(ALICE), 0.0)
        for n in range(DUE):
            before.handle(catalog_upload(f"R{n}"), POS, 0.0)
    thread = StoreThread()
    opened: list[SqliteStore] = []

    def open_cloud() -> CloudMachine:
        opened.append(SqliteStore(db, durable=True))
        return CloudMachine(store=opened[0], recommender=RuleRecommender(), config=config)

    machine = await thread.call(open_cloud)
    transport = MemoryTransport()
    cloud = transport.open_endpoint(CLOUD)
    till = transport.open_endpoint(POS)
    transport.open_endpoint(phone_address(ALICE))  # the pushes arrive; nobody reads them
    pushes = 0
    pushes_before_ack = -1

    def observe(event: TraceEvent) -> None:
        nonlocal pushes, pushes_before_ack
        message = event.message
        if event.kind is EventKind.SEND and isinstance(message, AssociationPush):
            pushes += message.receipt_id != "NEW"  # the new upload's own push comes later
        if event.kind is EventKind.SEND and isinstance(event.message, UploadAck):
            pushes_before_ack = pushes

    driver = driver_class(machine, cloud, thread, observer=observe, batch=8)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(driver.run)  # the start arms every due push
            till.send(CLOUD, catalog_upload("NEW"))
            assert (await till.receive()).message == UploadAck("NEW", MERCHANT)
            while pushes < DUE:  # the catch-up goes on to its end
                await trio.sleep(0.01)
            driver.stop()
    await thread.call(opened[0].close)
    thread.close()
    return pushes_before_ack, pushes


async def test_after_a_restart_uploads_are_served_between_batches_of_due_pushes(
    tmp_path: Path,
) -> None:
    before_ack, sent = await _restart(tmp_path, CloudDriver)
    assert sent == DUE
    assert 0 <= before_ack <= 8  # at most one batch of the catch-up went first


async def test_planted_a_catch_up_ahead_of_every_upload_is_caught(tmp_path: Path) -> None:
    before_ack, _ = await _restart(tmp_path, planted.CatchUpFirstDriver)
    assert before_ack == DUE


# --------------------------------------------------------------------------- TLS


def test_a_client_whose_tls_verification_fails_exits_2_naming_the_reason(
    tmp_path: Path, procs: Procs
) -> None:
    server = trustme.CA().issue_cert("127.0.0.1", "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))  # not the cloud's CA
    tls = ("--tls-cert", "server.pem", "--tls-key", "server.pem")
    _, port = procs.cloud("cloud", "--db", "cloud.db", *tls)
    pos = procs.start(
        "pos",
        "pos",
        "--cloud",
        f"127.0.0.1:{port}",
        "--tls-ca",
        "other-ca.pem",
        "--merchant",
        "shop-01",
        "--key",
        "k" * 32,
        "--purchases",
        str(
            purchases(
                tmp_path / "sales.jsonl",
                [{"receipt_id": "R1", "phone_id": ALICE, "skus": ["SKIN-FW-001"]}],
            )
        ),
    )
    assert pos.wait(timeout=15) == 2, pos.err
    assert pos.err.count("\n") == 1 and "Traceback" not in pos.err, pos.err
    assert "cannot verify the cloud's TLS certificate" in pos.err
    assert "unable to get local issuer certificate" in pos.err  # the reason, as OpenSSL says


# --------------------------------------------------------------------------- traces


def test_a_trace_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    fresh, existing = tmp_path / "fresh.jsonl", tmp_path / "existing.jsonl"
    existing.write_text("old\n")
    existing.chmod(0o644)
    for path in (fresh, existing):
        file, _ = open_trace(path, {"process": "cloud"})
        assert file is not None
        file.close()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert json.loads(path.read_text().splitlines()[0])["process"] == "cloud"


TraceOpener = Callable[[Path, dict[str, Any]], tuple[IO[str] | None, Observer | None]]


def _peak_while_tracing(tmp_path: Path, writer_of: TraceOpener) -> int:
    """Peak Python memory while 30,000 events (about 4 MB) are traced."""
    file, write = writer_of(tmp_path / "t.jsonl", {"process": "cloud"})
    assert file is not None and write is not None
    upload = catalog_upload("R1")
    tracemalloc.start()
    try:
        for n in range(30_000):
            write(TraceEvent(float(n), EventKind.RECEIVE, POS, CLOUD, upload))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        file.close()
    assert (tmp_path / "t.jsonl").stat().st_size > 3_000_000
    return int(peak)


def test_a_long_trace_is_held_in_bounded_memory(tmp_path: Path) -> None:
    assert _peak_while_tracing(tmp_path, open_trace) < 1_000_000


def test_planted_a_trace_writer_that_keeps_its_lines_is_caught(tmp_path: Path) -> None:
    assert _peak_while_tracing(tmp_path, planted.open_hoarding_trace) > 1_000_000


# --------------------------------------------------------------------------- per-peer cap


async def test_serve_cloud_refuses_connections_over_its_per_peer_cap(
    tmp_path: Path, procs: Procs
) -> None:
    _, port = procs.cloud("cloud", "--db", "cloud.db", "--max-connections-per-peer", "2")
    kept = [await Raw.connect(port) for _ in range(2)]
    await trio.sleep(0.2)  # both accepted before the third
    third = await Raw.connect(port)
    with trio.fail_after(5):
        assert codes(await third.until_closed()) == [ErrorCode.OVERLOADED]
    for raw in kept:
        await raw.aclose()


def test_serve_cloud_refuses_a_bad_per_peer_cap_in_one_line(tmp_path: Path) -> None:
    serve = ["serve", "cloud", "--listen", "127.0.0.1:0", "--db", "x.db"]
    code, err = assocsim(tmp_path, *serve, "--max-connections-per-peer", "0")
    assert code == 2
    assert err.count("\n") == 1 and "--max-connections-per-peer" in err
