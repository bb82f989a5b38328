"""A field process started again on its ``--trace`` keeps the earlier trace.

``serve cloud``, ``pos`` and ``phone`` opened ``--trace FILE`` truncating it. A cloud killed
with SIGKILL and started again by the same command (as an operator or a supervisor does)
erased the record of everything before the kill, and ``assocsim check`` then judged half a
run: with the planted cloud that acknowledges before committing
(``tests/planted/lazy_commit_cloud.py``, one kill at 100 acknowledged of 450 uploads), the
acknowledged uploads it lost were no longer flagged (``no-delivery-lost`` 0 violations; 12
in a run with the earlier trace kept, and nothing else), and with the reference cloud the
pushes re-sent after the restart were flagged as pushes of receipts never bound and sent to
strangers (104 ``binding`` and 104 ``privacy`` violations of a run that kept every promise;
6 and 6 with the earlier trace kept: the uploads acknowledged in the last moment before
the kill, whose lines the killed process never flushed).

Now the earlier file is moved aside (``cloud.jsonl`` -> ``cloud.1.jsonl``, then
``cloud.2.jsonl``, ...) with one line on stderr naming both, and the files check together.
Planted: ``tests/planted/truncating_trace.py`` (the old opener) is caught.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from actors import EventKind, Observer, TraceEvent
from protocol import CLOUD
from scenarios import ScenarioError
from scenarios._field._common import open_trace
from tests.builders import catalog_upload
from tests.planted.truncating_trace import open_truncating_trace
from tests.scenarios.field_processes import Procs

POS = "pos:shop-01:pos-1"
SUBSCRIBE_ACK = '"type":"subscribe-ack"'
Opener = Callable[..., tuple[IO[str] | None, Observer | None]]


def _trace_once(opener: Opener, path: Path, receipt: str) -> None:
    file, write = opener(path, {"format": "assocsim-trace/2", "process": "cloud"})
    assert file is not None and write is not None
    write(TraceEvent(1.0, EventKind.RECEIVE, POS, CLOUD, catalog_upload(receipt)))
    file.close()


def _receipts(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        for line in path.read_text().splitlines()[1:]:
            record: dict[str, Any] = json.loads(line)
            found.add(str(record["msg"]["receipt_id"]))
    return found


def check_restarts_keep_every_trace(opener: Opener, directory: Path) -> list[Path]:
    """Three starts of a process on one --trace path: every start's events are in a file
    of the directory afterwards, the latest at the path itself. Returns the files."""
    path = directory / "cloud.jsonl"
    for receipt in ("R1", "R2", "R3"):
        _trace_once(opener, path, receipt)
    files = sorted(directory.glob("cloud*.jsonl"))
    assert _receipts([path]) == {"R3"}
    assert _receipts(files) == {"R1", "R2", "R3"}, f"a start erased an earlier trace: {files}"
    return files


def test_starting_again_on_a_trace_moves_the_earlier_one_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = check_restarts_keep_every_trace(open_trace, tmp_path)
    assert [f.name for f in files] == ["cloud.1.jsonl", "cloud.2.jsonl", "cloud.jsonl"]
    assert _receipts([tmp_path / "cloud.1.jsonl"]) == {"R1"}  # the oldest gets the lowest
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0] == (
        f"assocsim: {tmp_path / 'cloud.jsonl'} held an earlier trace: kept as "
        f"{tmp_path / 'cloud.1.jsonl'} (check the files together)"
    )


def test_an_empty_file_is_written_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cloud.jsonl").touch()
    _trace_once(open_trace, tmp_path / "cloud.jsonl", "R1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cloud.jsonl"]
    assert capsys.readouterr().err == ""


def test_planted_a_truncating_trace_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="a start erased an earlier trace"):
        check_restarts_keep_every_trace(open_truncating_trace, tmp_path)


def test_a_cloud_killed_and_started_again_on_its_trace_keeps_what_came_before(
    procs: Procs, tmp_path: Path
) -> None:
    """The field case: serve cloud with --trace, a phone enrols, kill -9, the same command
    again; the phone's subscription is still in a trace of the cloud's."""
    args = ["--db", "cloud.db", "--trace", "cloud.jsonl"]
    cloud, port = procs.cloud("cloud-1", *args)
    phone = procs.start(
        "phone", "phone", "--cloud", f"127.0.0.1:{port}", "--id", "+8613800000001",
        "--token-file", "alice.json",
    )  # fmt: skip
    phone.wait_until("subscribed", lambda: '"subscribed"' in phone.out)
    trace = tmp_path / "cloud.jsonl"
    cloud.wait_until("its trace flushed", lambda: SUBSCRIBE_ACK in trace.read_text())
    cloud.popen.send_signal(signal.SIGKILL)
    cloud.wait()
    again, _ = procs.cloud("cloud-2", *args)
    assert again.interrupt() == 0, again.err
    assert "cloud.jsonl held an earlier trace: kept as cloud.1.jsonl" in again.err
    assert SUBSCRIBE_ACK in (tmp_path / "cloud.1.jsonl").read_text()
    assert SUBSCRIBE_ACK not in trace.read_text()  # enrolled, the phone does not subscribe again


def test_what_is_not_a_regular_file_is_not_moved(tmp_path: Path) -> None:
    """A directory given as --trace stays where it is and is refused as before; a device
    (/dev/null) is written to as before."""
    directory = tmp_path / "traces"
    directory.mkdir()
    (directory / "keep").write_text("x")
    with pytest.raises(ScenarioError, match="cannot write trace"):
        open_trace(directory, {"process": "cloud"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces"]
    file, _ = open_trace(Path(os.devnull), {"process": "cloud"})
    assert file is not None
    file.close()
    assert Path(os.devnull).exists()
