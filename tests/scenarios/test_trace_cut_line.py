"""A trace whose writer stopped mid-line (a process killed while its buffer went to disk)
ends with a line that has no line ending and is no whole record. Every tool reads it as
incomplete from that line, as a trace with a gap record: ``check``, ``find`` and ``diagram``
exit 2 in one line saying the line is cut, ``replay`` names the cut line as the first
difference (it compares lines as text), never all clear; ``check``
lists what the events before it already break. Against the planted reader that drops such
a line (``tests/planted/cut_line_dropping_reader.py``), check says all clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios._cli._main import main
from scenarios._trace._reader import TraceReader
from tests.planted.cut_line_dropping_reader import drop_cut_line
from tests.scenarios.cli_runs import one_line_error
from tests.scenarios.test_trace_gap import _leak_before_the_gap

CUT = "the line is cut (no line ending"


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole trace of the quickstart scenario at 60 purchases."""
    path = tmp_path_factory.mktemp("whole") / "whole.jsonl"
    assert main(["run", "quickstart", "--set", "purchases=60", "--trace", str(path)]) == 0
    return path


def _cut_mid_last_line(source: Path, target: Path) -> int:
    """``source`` with its last line cut in its middle, as a kill leaves it; its number."""
    text = source.read_text()
    lines = text.splitlines(keepends=True)
    last = lines[-1]
    assert last.endswith("}\n") and len(last) > 20
    target.write_text("".join(lines[:-1]) + last[: len(last) // 2])
    return len(lines)


@pytest.mark.parametrize("command", ["check", "find", "diagram"])
def test_a_trace_cut_mid_line_is_incomplete_to_every_tool(
    command: str, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.jsonl"
    line = _cut_mid_last_line(whole, cut)
    argv = [command, str(cut)]
    if command == "diagram":
        argv += ["--receipt", "R000001", "-o", str(tmp_path / "d.svg")]
    code, err = one_line_error(argv, capsys)
    assert code == 2
    assert f"line {line}: the trace is incomplete from its last line" in err and CUT in err


def test_replay_names_the_cut_line_as_its_first_difference(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.jsonl"
    line = _cut_mid_last_line(whole, cut)
    capsys.readouterr()
    assert main(["replay", str(cut)]) == 1
    out = capsys.readouterr().out
    assert f"NOT reproduced: the first difference is at line {line}" in out


def test_a_last_record_without_its_line_ending_is_whole(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer stopped just before the line ending wrote its last record whole."""
    kept = tmp_path / "kept.jsonl"
    kept.write_text(whole.read_text().removesuffix("\n"))
    assert main(["check", str(kept)]) == 0
    assert "no violations" in capsys.readouterr().out


def test_a_bad_line_inside_the_trace_is_still_not_valid_json(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = whole.read_text().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join([*lines[:5], lines[5][:30] + "\n", *lines[6:]]))
    code, err = one_line_error(["check", str(broken)], capsys)
    assert code == 2 and "line 6: not valid JSON" in err and "cut" not in err


def test_a_merge_holding_a_cut_trace_is_incomplete(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.jsonl"
    _cut_mid_last_line(whole, cut)
    code, err = one_line_error(["check", str(whole), str(cut)], capsys)
    assert code == 2 and f"{cut}: line" in err and CUT in err


def test_check_lists_what_the_events_before_the_cut_break(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A timeout push sent again to a stranger among the first events: privacy broken,
    listed with the cut after it; the judgements of the trace's end are not made."""
    cut = tmp_path / "cut.jsonl"
    _cut_mid_last_line(whole, cut)
    receipt = _leak_before_the_gap(cut)  # lines before the cut one: it stays the last
    capsys.readouterr()
    assert main(["check", str(cut)]) == 1
    out = capsys.readouterr().out
    assert "privacy" in out and receipt in out
    assert f"incomplete: {cut}: line" in out and CUT in out
    assert "judgements made at the trace's end" in out


def test_planted_a_reader_that_drops_the_cut_line_says_all_clear(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = tmp_path / "cut.jsonl"
    _cut_mid_last_line(whole, cut)
    monkeypatch.setattr(TraceReader, "lines", drop_cut_line)
    capsys.readouterr()
    assert main(["check", str(cut)]) == 0  # the bug: a killed writer's trace judged whole
    assert "no violations" in capsys.readouterr().out
