"""A trace cut by its writer's bound (``serve cloud --trace-max-bytes``) ends with a gap
record; ``assocsim check``, ``find`` and ``replay`` never say all clear on it: each exits
non-zero with one line saying the trace is incomplete and from when. Against the planted
reader that passes over the gap (``tests/planted/gapless_reader.py``), check says all
clear on a trace that lost every event."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import trio

from actors import GAP_EVENT, GAP_RESERVE_BYTES, JsonlTraceWriter
from protocol import Subscribe, phone_address
from scenarios import load_scenario, run_scenario
from scenarios._cli._main import main
from scenarios._trace import _reader
from scenarios._trace._checks import TraceChecker
from scenarios._trace._reader import TraceReader
from tests.actors.test_tcp import Raw, to_cloud
from tests.planted.gapless_reader import ignore_gap
from tests.planted.planless_check import never_cut
from tests.planted.silent_before_gap import forget_before_gap
from tests.scenarios.cli_runs import one_line_error
from tests.scenarios.field_processes import Procs, purchases


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole trace of the quickstart scenario (500 purchases, about 4 MB)."""
    path = tmp_path_factory.mktemp("whole") / "whole.jsonl"
    assert main(["run", "quickstart", "--trace", str(path)]) == 0
    return path


def _cut(whole: Path, target: Path, max_bytes: int) -> float:
    """The run of ``whole`` traced again by a writer bounded at ``max_bytes`` (the same
    lines up to the gap); the gap's time."""
    with TraceReader(whole) as reader:
        header = {k: v for k, v in reader.header.items() if k != "format"}
    with target.open("w", encoding="utf-8") as stream:
        writer = JsonlTraceWriter(stream, header, max_bytes=max_bytes)
        run_scenario(load_scenario("quickstart"), header["seed"], observers=[writer])
    assert writer.gap_at is not None
    return writer.gap_at


@pytest.mark.parametrize("command", ["check", "find", "replay"])
def test_a_cut_trace_is_incomplete_to_check_find_and_replay(
    command: str, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.jsonl"
    gap_at = _cut(whole, cut, 1_000_000)
    assert cut.stat().st_size <= 1_000_000 < whole.stat().st_size
    code, err = one_line_error([command, str(cut)], capsys)
    assert code != 0
    assert f"the trace is incomplete from t={gap_at}" in err and "1000000 bytes" in err


def test_the_whole_trace_passes_where_the_cut_one_is_incomplete(
    whole: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(whole)]) == 0
    assert "incomplete" not in capsys.readouterr().out


def test_a_merged_check_with_one_cut_trace_is_incomplete(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.jsonl"
    gap_at = _cut(whole, cut, 500_000)
    code, err = one_line_error(["check", str(whole), str(cut)], capsys)
    assert code != 0 and f"incomplete from t={gap_at}" in err


def _cut_at_the_first_event(whole: Path, tmp_path: Path) -> Path:
    with TraceReader(whole) as reader:
        header_bytes = len(reader.header_text)
    cut = tmp_path / "first.jsonl"
    _cut(whole, cut, header_bytes + GAP_RESERVE_BYTES + 1)
    lines = cut.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["event"] == GAP_EVENT
    return cut


def test_a_trace_cut_at_its_first_event_is_not_all_clear(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = _cut_at_the_first_event(whole, tmp_path)
    code, err = one_line_error(["check", str(cut)], capsys)
    assert code == 2 and "incomplete" in err


def test_planted_a_reader_that_passes_over_the_gap_says_all_clear(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = _gap_before_the_second_receipt(tmp_path)
    monkeypatch.setattr(TraceReader, "_refuse_gap", ignore_gap)
    # and a reader that takes the gap record for an event of the format, as it once did
    # (an unknown kind is refused since: test_trace_unknown_kinds.py)
    monkeypatch.setattr(_reader, "OTHER_EVENTS", _reader.OTHER_EVENTS | {GAP_EVENT})
    # and a check that does not compare a run's receipts with its planned purchases
    # (which tells this cut too since: test_check_cut_run.py)
    monkeypatch.setattr(_reader, "cut_run", never_cut)
    # The plants set after the cut is made (the real reader refuses it). A run of 5
    # purchases (hours apart) cut by its writer's bound just before its
    # second purchase, the first one's promises kept: judged, no violation. (Cut at the
    # first event nothing is judged: "nothing judged", exit 2, even against these plants,
    # test_nothing_judged.py.)
    capsys.readouterr()
    assert main(["check", str(cut)]) == 0  # the bug: every later event lost, and all clear
    assert "incomplete" not in capsys.readouterr().out


def _gap_before_the_second_receipt(tmp_path: Path) -> Path:
    """A trace of quickstart at 5 purchases as a writer bounded there leaves it: the
    lines before the first event naming its second receipt, then the gap record."""
    whole = tmp_path / "five.jsonl"
    assert main(["run", "quickstart", "--set", "purchases=5", "--trace", str(whole)]) == 0
    lines = whole.read_text().splitlines(keepends=True)
    events = [json.loads(line) for line in lines[1:]]
    firsts = [n for n, e in enumerate(events) if e.get("receipt") is not None]
    receipts = [events[n]["receipt"] for n in firsts]
    second = firsts[receipts.index(next(r for r in receipts if r != receipts[0]))]
    event = events[second]
    kept = "".join(lines[: second + 1])  # the header and the events before it
    gap = {"t": event["t"], "event": GAP_EVENT, "from": event["from"], "to": event["to"]}
    gap |= {"written": len(kept), "max_bytes": len(kept) + GAP_RESERVE_BYTES}
    cut = tmp_path / "second.jsonl"
    cut.write_text(kept + json.dumps(gap, separators=(",", ":")) + "\n")
    code = main(["check", str(cut)])  # whole code: refused as incomplete from the gap
    assert code == 2, "the real reader must refuse it before the plants are set"
    return cut


# --------------------------------------------------------------------------- serve cloud


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--trace", "t.jsonl", "--trace-max-bytes", "100"], "at least 65536, got 100"),
        (["--trace", "t.jsonl", "--trace-max-bytes", "-1"], "at least 65536, got -1"),
        (["--trace-max-bytes", "70000"], "give --trace FILE too"),
    ],
)
@pytest.mark.parametrize(
    "process",
    [
        ["serve", "cloud", "--listen", "127.0.0.1:0", "--db", "x.db"],
        [
            "pos",
            "--cloud",
            "127.0.0.1:1",
            "--merchant",
            "s",
            "--key",
            "k" * 20,
            "--scenario",
            "quickstart",
        ],
        ["phone", "--cloud", "127.0.0.1:1", "--id", "+8613900000001"],
    ],
    ids=["serve-cloud", "pos", "phone"],
)
def test_every_field_process_refuses_a_bad_trace_bound_in_one_line(
    process: list[str],
    extra: list[str],
    words: str,
    *,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = one_line_error([*process, *extra], capsys)
    assert code == 2 and words in err


async def test_a_flooded_serve_cloud_stops_its_trace_at_its_bound(
    tmp_path: Path,
    procs: Procs,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bound = 65_536
    trace = tmp_path / "cloud.jsonl"
    cloud, port = procs.cloud(
        "cloud", "--db", "cloud.db", "--trace", str(trace), "--trace-max-bytes", str(bound)
    )
    phone_id = "+8613900000001"
    flooder = await Raw.connect(port, hello=phone_address(phone_id))
    await flooder.send(b"".join(to_cloud(Subscribe(phone_id), n) for n in range(2, 2_002)))
    with trio.fail_after(30):
        for _ in range(2_000):
            await flooder.frame()  # every subscribe answered: the cloud traced them all
    await flooder.aclose()
    assert cloud.interrupt() == 0
    lines = trace.read_text().splitlines()
    assert trace.stat().st_size <= bound
    gap = json.loads(lines[-1])
    assert gap["event"] == GAP_EVENT and gap["max_bytes"] == bound
    code, err = one_line_error(["check", str(trace)], capsys)
    assert code == 2 and re.search(r"incomplete from t=\d", err), err


def test_a_pos_stops_its_trace_at_its_bound_and_still_uploads_everything(
    tmp_path: Path,
    procs: Procs,
    keys: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A till's trace is bounded as the cloud's is: a cloud that floods it cannot fill its
    disk, and its cut trace is never judged all clear."""
    bound = 65_536
    cloud, port = procs.cloud("cloud", "--db", "cloud.db", "--merchant-keys", "keys.json")
    sales = purchases(
        tmp_path / "sales.jsonl",
        [
            {"receipt_id": f"R{n:04d}", "phone_id": "+8613900000001", "skus": ["SKIN-FW-001"]}
            for n in range(300)
        ],
    )
    trace = tmp_path / "pos.jsonl"
    pos = procs.pos(
        port, sales, "--notice-wait", "0", "--trace", str(trace), "--trace-max-bytes", str(bound)
    )
    assert pos.wait() == 0, pos.err
    assert len({line["receipt"] for line in pos.json_lines()}) == 300  # none lost to the bound
    assert cloud.interrupt() == 0
    assert trace.stat().st_size <= bound
    gap = json.loads(trace.read_text().splitlines()[-1])
    assert gap["event"] == GAP_EVENT and gap["max_bytes"] == bound
    code, err = one_line_error(["check", str(trace)], capsys)
    assert code == 2 and re.search(r"incomplete from t=\d", err), err


# --------------------------------------------------------------------------- before the gap


def _leak_before_the_gap(cut: Path) -> str:
    """``cut`` with a planted leak among its first events: the first timeout push sent
    again to a stranger (privacy, and a second, different timeout push: both judged as the
    event is read). Returns the receipt."""
    lines = cut.read_text().splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if '"association-push"' in line)
    leaked = json.loads(lines[at])
    assert leaked["event"] == "send" and leaked["msg"]["reason"] == "timeout"
    leaked["to"] = "phone:+8613899999999"
    lines.insert(at + 1, json.dumps(leaked, separators=(",", ":")) + "\n")
    cut.write_text("".join(lines))
    return str(leaked["receipt"])


def test_check_lists_what_a_cut_trace_breaks_before_its_gap(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.jsonl"
    gap_at = _cut(whole, cut, 1_000_000)
    receipt = _leak_before_the_gap(cut)
    capsys.readouterr()
    assert main(["check", str(cut)]) == 1
    out = capsys.readouterr().out
    assert "violations before the gap:" in out and "privacy" in out and receipt in out
    assert f"incomplete: {cut}: line" in out and f"incomplete from t={gap_at}" in out
    assert "no-delivery-lost" in out and "judgements made at the trace's end" in out
    assert main(["check", "--json", str(cut)]) == 1
    found = json.loads(capsys.readouterr().out)
    assert not found["ok"] and f"t={gap_at}" in found["incomplete"]
    assert {v["invariant"] for v in found["violations"]} >= {"privacy", "timeout-push"}
    assert found["invariants"]["no-delivery-lost"]["violations"] == 0  # not judged: cut


def test_planted_a_check_silent_before_the_gap_reports_only_incomplete(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = tmp_path / "cut.jsonl"
    _cut(whole, cut, 1_000_000)
    _leak_before_the_gap(cut)
    monkeypatch.setattr(TraceChecker, "result_before_gap", forget_before_gap)
    code, err = one_line_error(["check", str(cut)], capsys)
    assert code == 2 and "privacy" not in err  # the bug: the leak goes unsaid
