"""Running the command line in the test's own process."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest

from scenarios._cli._main import main


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """``assocsim ARGV`` in this process: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``assocsim ARGV`` that must fail in one line of stderr, no traceback: its exit
    status and that line (an argparse error's ``SystemExit`` included)."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return code, err


def run_forked(argv: Sequence[str], cwd: Path, timeout: float) -> tuple[int, str]:
    """``python -m scenarios ARGV`` in ``cwd``, as a child forked from this process: its
    exit status and stderr, as that command gives them (``sys.exit(main())``: an uncaught
    exception's traceback and status 1, a signal's negative status), stdout dropped. The
    child is a process of its own that starts with the modules imported (a new
    interpreter took 1.2 s of CPU to import them); one that runs on past ``timeout``
    seconds is killed and :class:`subprocess.TimeoutExpired` raised, a failure, not a hang.
    """
    with tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: leaves by os._exit only, never back into pytest
            _child(argv, cwd, err.fileno())
        deadline = time.monotonic() + timeout
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(["assocsim", *argv], timeout)
            time.sleep(0.005)
        err.seek(0)
        return os.waitstatus_to_exitcode(done[1]), err.read().decode(errors="replace")


def _child(argv: Sequence[str], cwd: Path, err: int) -> NoReturn:
    status = 1
    try:
        os.chdir(cwd)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 1)
        os.dup2(err, 2)
        # this process's streams are pytest's capture: the command's own, on its fds
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace"
        )
        try:
            status = main(list(argv))
        except SystemExit as exc:  # as the interpreter exits on it
            if exc.code is None or isinstance(exc.code, int):
                status = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
        except BaseException:  # the interpreter prints any, and exits 1
            traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)
