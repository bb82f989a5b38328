"""Field-trial processes for tests: real ``assocsim`` processes (``serve cloud``, ``pos``,
``phone``) with their output in files; the ``procs`` fixture (``conftest.py``) kills every
one of them at the end of a test, whatever it does."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["WAIT", "Proc", "Procs", "json_lines", "purchases"]

WAIT = 30.0  # seconds any one expected thing may take on a loaded 2-core machine
# The tree these tests are in, first on the children's path: a git worktree's tests must
# run its own code, not the checkout the environment's editable install points at.
ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """One assocsim process with its stdout and stderr in files."""

    def __init__(
        self, name: str, args: list[str], directory: Path, *, module: str = "scenarios"
    ) -> None:
        self.name = name
        self.args = args
        self.out_path = directory / f"{name}.out"
        self.err_path = directory / f"{name}.err"
        self._out = self.out_path.open("w")
        self._err = self.err_path.open("w")
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.popen = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=directory,
            env={**os.environ, "PYTHONPATH": path},
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            text=True,
        )

    @property
    def out(self) -> str:
        return self.out_path.read_text()

    @property
    def err(self) -> str:
        return self.err_path.read_text()

    def json_lines(self) -> list[dict[str, Any]]:
        return json_lines(self.out)

    def wait_until(self, what: str, ready: Callable[[], bool], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.popen.poll() is not None and not ready():
                raise AssertionError(
                    f"{self.name} exited ({self.popen.returncode}) before {what}:\n{self.err}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {what} in {timeout} s:\n{self.err}")
            time.sleep(0.05)

    def wait(self, timeout: float = WAIT) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit:\n{self.err}") from None

    def interrupt(self) -> int:
        self.popen.send_signal(signal.SIGINT)
        return self.wait()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
        self._out.close()
        self._err.close()


class Procs:
    """Starts processes; the fixture kills every one of them at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Proc] = []

    def start(self, name: str, *args: str, module: str = "scenarios") -> Proc:
        """``python -m MODULE ARGS...`` (a planted module runs as assocsim does)."""
        proc = Proc(name, list(args), self.directory, module=module)
        self.started.append(proc)
        return proc

    def cloud(
        self, name: str = "cloud", *args: str, listen: str = "127.0.0.1:0"
    ) -> tuple[Proc, int]:
        proc = self.start(name, "serve", "cloud", "--listen", listen, *args)
        found: list[int] = []

        def listening() -> bool:
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", proc.out)
            if match:
                found.append(int(match.group(1)))
            return bool(found)

        proc.wait_until("listening line", listening)
        return proc, found[0]

    def pos(self, port: int, sales: Path, *args: str, name: str = "pos") -> Proc:
        """shop-01's till (its key in shop.key, see the keys fixture) uploading ``sales``."""
        return self.start(
            name,
            "pos",
            "--cloud",
            f"127.0.0.1:{port}",
            "--merchant",
            "shop-01",
            "--key-file",
            "shop.key",
            "--purchases",
            str(sales),
            *args,
        )


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON lines of a process's output read so far, complete lines only: a reader may
    catch the process's write of a line half done (the kernel copies a write into the file
    page by page, and a polling test reads at any moment)."""
    complete = text.rpartition("\n")[0]
    return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]


def purchases(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path
