"""README, ``assocsim run``: "On a terminal, runs longer than half a second show a
progress line (virtual time reached, purchases done) on stderr; pipes and files get only
the report." The run's wall clock is a fake one here, so the test does not depend on how
fast the machine is."""

from __future__ import annotations

import io
import itertools
import sys
from types import SimpleNamespace

import pytest

from scenarios._cli._main import main
from scenarios._sim import _progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_with_clock(
    step: float,
    stderr: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """``assocsim run quickstart`` with stderr ``stderr`` and a wall clock that moves
    ``step`` seconds at each look; its report."""
    ticks = itertools.count()
    clock = SimpleNamespace(perf_counter=lambda: next(ticks) * step)  # the line's clock only
    monkeypatch.setattr(_progress, "time", clock)
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["run", "quickstart"]) == 0
    return capsys.readouterr().out


def test_a_long_run_on_a_terminal_shows_its_progress_then_clears_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    report = _run_with_clock(1.0, terminal, monkeypatch, capsys)  # each look 1 s later
    shown = terminal.getvalue()
    assert "virtual time " in shown and "purchases " in shown and "/500" in shown
    assert shown.endswith("\r" + " " * 79 + "\r")  # cleared: the report stands alone
    assert report.startswith("scenario quickstart, seed 7\n")
    assert "virtual time" not in report.split("\n", 1)[0]


@pytest.mark.parametrize(("later", "shown"), [(0.49, False), (0.5, True)])
def test_the_line_comes_from_half_a_second_on(
    later: float, shown: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's "longer than half a second": a run whose every look at the clock after
    the first is *later* s on shows the line from 0.5 s, not before."""
    looks = itertools.chain([0.0], itertools.repeat(later))
    monkeypatch.setattr(_progress, "time", SimpleNamespace(perf_counter=lambda: next(looks)))
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["run", "quickstart"]) == 0
    assert ("virtual time " in terminal.getvalue()) is shown
    capsys.readouterr()


def test_a_short_run_on_a_terminal_stays_quiet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    _run_with_clock(0.0, terminal, monkeypatch, capsys)  # the clock never reaches 0.5 s
    assert terminal.getvalue() == ""


def test_a_pipe_gets_only_the_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = io.StringIO()  # not a terminal
    report = _run_with_clock(1.0, pipe, monkeypatch, capsys)
    assert pipe.getvalue() == ""
    assert report.startswith("scenario quickstart, seed 7\n")
