"""Running the command line in the test's own process."""

from __future__ import annotations

import contextlib
import io

from scenarios._cli._main import main


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """``assocsim ARGV`` in this process: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()
