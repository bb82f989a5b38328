"""``run --transport tcp``'s ``--keep`` and its temporary directory (reviewer W's F3): a
``--keep`` that cannot take the run's files is refused before any process starts (found
after the run, it lost the report in a traceback); the temporary directory (the store,
the merchants' keys) is removed whatever happens: a failed copy, a SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scenarios import ScenarioError
from scenarios._cli._main import main
from scenarios._field._tcprun import TcpRunOptions, _TcpRun
from scenarios._model._runspec import RunSpec
from tests.scenarios.field_processes import ROOT


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory a run makes its temporary directory in, this test's own."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.mark.parametrize("keep", ["a-file", "a-file/below"])
def test_a_keep_that_is_a_file_is_refused_before_the_run(
    keep: str,
    tmp_path: Path,
    temporary: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("mine\n")
    started = time.monotonic()
    code = main(["run", "quickstart", "--transport", "tcp", "--keep", keep])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and f"--keep {keep}" in err and "Traceback" not in err, err
    assert time.monotonic() - started < 30  # refused up front, not after the run
    assert (tmp_path / "a-file").read_text() == "mine\n"
    assert list(temporary.iterdir()) == []


def test_a_failed_copy_to_keep_still_removes_the_temporary_directory(
    tmp_path: Path, temporary: Path
) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "logs").write_text("a file where the run has a directory")
    run = _TcpRun(RunSpec.load("quickstart", [], None), TcpRunOptions(keep=keep))
    (run.directory / "logs").mkdir()
    (run.directory / "cloud.db").write_text("the store")
    with pytest.raises(ScenarioError, match=r"--keep .*cannot copy the run's files") as caught:
        run.close()
    assert "\n" not in str(caught.value)
    assert list(temporary.iterdir()) == []


def test_sigterm_stops_the_run_and_removes_its_temporary_directory(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    run = subprocess.Popen(
        [sys.executable, "-m", "scenarios", "run", "quickstart", "--transport", "tcp"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path, "TMPDIR": str(temporary)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(temporary.glob("assocsim-tcp-*/cloud.db")):
            assert run.poll() is None and time.monotonic() < deadline, "no run started"
            time.sleep(0.1)
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130, err
    assert "Traceback" not in err, err
    assert list(temporary.iterdir()) == []  # the store and the keys went with it
