"""Running the command line in the test's own process."""

from __future__ import annotations

import contextlib
import io

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
