"""A trace whose events are of kinds, or carry message types, that the trace format does
not have is refused by every tool reading it (``assocsim check``, ``find``, ``diagram``,
merged checks, the in-process checker): one line naming the file, the line and the kind,
exit 2. Before, the reader took any kind and the checkers skipped what they did not know:
a trace whose every event was of an unknown kind (``"xsend"``), or whose every message
type was unknown, was judged as if it had no events, ``no violations``, exit 0, with 8,683
events read and 500 receipts counted. Against the planted reader that takes any kind
(``tests/planted/kind_blind_reader.py``) the bug shows again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from actors import GAP_EVENT, TRACE_FORMAT
from scenarios._cli._main import main
from scenarios._trace import _reader
from scenarios._trace._checks import check_trace
from scenarios._trace._reader import MESSAGE_EVENTS, TraceError
from tests.planted.gapless_reader import ignore_gap
from tests.planted.kind_blind_reader import ANYTHING

Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole trace of the wrong-ids scenario (mismatches, dual-sends, timeout pushes)."""
    path = tmp_path_factory.mktemp("whole") / "whole.jsonl"
    assert main(["run", "wrong-ids", "--set", "purchases=60", "--trace", str(path)]) == 0
    return path


def _rewritten(whole: Path, target: Path, rewrite: Rewrite) -> Path:
    """``whole`` with every event record passed through ``rewrite`` (the header kept)."""
    header, *events = whole.read_text(encoding="utf-8").splitlines()
    lines = [header] + [json.dumps(rewrite(json.loads(line))) for line in events]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _every_kind_unknown(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "event": "x" + record["event"]}


def _every_message_type_unknown(record: dict[str, Any]) -> dict[str, Any]:
    if record["event"] not in MESSAGE_EVENTS:
        return record
    return {**record, "type": "x" + record["type"]}


def _pushes_renamed(record: dict[str, Any]) -> dict[str, Any]:
    if record.get("type") != "association-push":
        return record
    return {**record, "type": "association-push2"}


def _notes_misspelt(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "event": "Note"} if record["event"] == "note" else record


REWRITES = {
    "every kind unknown": (_every_kind_unknown, "unknown event kind 'x"),
    "every message type unknown": (_every_message_type_unknown, "unknown message type 'x"),
    "pushes renamed": (_pushes_renamed, "unknown message type 'association-push2'"),
    "notes misspelt": (_notes_misspelt, "unknown event kind 'Note'"),
}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", list(REWRITES))
@pytest.mark.parametrize(
    "command",
    [["check"], ["check", "--json"], ["find", "--violations"], ["diagram", "-o", "{svg}"]],
)
def test_a_trace_of_unknown_kinds_is_refused(
    case: str,
    command: list[str],
    whole: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rewrite, words = REWRITES[case]
    trace = _rewritten(whole, tmp_path / "unknown.jsonl", rewrite)
    argv = [command[0], str(trace), *(w.format(svg=tmp_path / "d.svg") for w in command[1:])]
    code, out, err = _run(argv, capsys)
    assert code == 2, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and f"{trace}: line " in err and words in err, err


def test_a_merged_check_with_one_trace_of_unknown_kinds_is_refused(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = _rewritten(whole, tmp_path / "unknown.jsonl", _every_kind_unknown)
    code, out, err = _run(["check", str(whole), str(trace)], capsys)
    assert code == 2 and out == "" and "unknown event kind 'x" in err, err


def test_the_in_process_checker_refuses_an_unknown_kind(whole: Path) -> None:
    header, *events = (json.loads(line) for line in whole.read_text().splitlines())
    with pytest.raises(TraceError, match=f"line 2: unknown event kind 'x{events[0]['event']}'"):
        check_trace([header, _every_kind_unknown(events[0])])
    message = next(e for e in events if e["event"] in MESSAGE_EVENTS)
    with pytest.raises(TraceError, match=f"line 2: unknown message type 'x{message['type']}'"):
        check_trace([header, _every_message_type_unknown(message)])


def test_the_whole_trace_is_read_and_judged(
    whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["check", str(whole)], capsys)
    assert code == 0 and "no violations" in out
    lines = whole.read_text().splitlines()
    kinds = {json.loads(line)["event"] for line in lines[1:]}
    assert kinds == {"send", "recv", "timer", "note"}  # the kinds this trace refuses renamed


@pytest.mark.parametrize(
    "case", ["every message type unknown"]
)  # pushes renamed, notes misspelt: their loss shows as violations; every kind: below
def test_planted_a_reader_that_takes_any_kind_says_all_clear(
    case: str,
    whole: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_reader, "OTHER_EVENTS", ANYTHING)
    monkeypatch.setattr(_reader, "KNOWN_MESSAGE_TYPES", ANYTHING)
    rewrite, _ = REWRITES[case]
    trace = _rewritten(whole, tmp_path / "unknown.jsonl", rewrite)
    code, out, _ = _run(["check", "--json", str(trace)], capsys)
    result = json.loads(out)
    # the bug: every event read, nothing judged, all clear
    assert code == 0 and result["ok"] and result["events"] > 1000 and not result["violations"]
    assert sum(i["checked"] for i in result["invariants"].values()) <= result["events"] // 2


def test_a_reader_passing_over_the_gap_still_refuses_the_cut_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gap record is not an event kind either: a reader that no longer stops at it
    (``tests/planted/gapless_reader.py``) still does not say all clear on a cut trace."""
    monkeypatch.setattr(_reader.TraceReader, "_refuse_gap", ignore_gap)
    cut = tmp_path / "cut.jsonl"
    header = {"format": TRACE_FORMAT, "scenario": "quickstart", "seed": 7, "settings": {}}
    gap = {"t": 0.0, "event": GAP_EVENT, "from": "cloud", "to": "cloud", "written": 90}
    cut.write_text(json.dumps(header) + "\n" + json.dumps(gap) + "\n", encoding="utf-8")
    code, out, err = _run(["check", str(cut)], capsys)
    assert code == 2 and out == "" and "line 2: unknown event kind 'gap'" in err, err


def test_planted_a_trace_of_no_known_kind_is_still_no_all_clear(
    whole: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every kind unknown and read anyway: no invariant judges anything, and a check that
    # judged nothing ends "nothing judged", exit 2 (test_nothing_judged.py), even so.
    monkeypatch.setattr(_reader, "OTHER_EVENTS", ANYTHING)
    monkeypatch.setattr(_reader, "KNOWN_MESSAGE_TYPES", ANYTHING)
    trace = _rewritten(whole, tmp_path / "unknown.jsonl", _every_kind_unknown)
    code, out, _ = _run(["check", "--json", str(trace)], capsys)
    result = json.loads(out)
    assert code == 2 and not result["ok"] and not result["judged"] and result["events"] > 1000
