"""Sequence diagrams of traces: the SVG is well-formed XML with the expected lanes and
arrows, faults are drawn (lost, duplicated, delayed, crashes, partitions), big traces are
capped with a notice, and ``assocsim diagram`` works through the installed script."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from scenarios import DiagramOptions, TraceError, write_diagram
from scenarios._cli._main import main

from .test_checks import (
    CLOUD,
    POS,
    SHOP,
    A,
    B,
    TraceBuilder,
    _assocsim,
    builtin_trace,
    key,
    phone,
)

SVG = "{http://www.w3.org/2000/svg}"


def _svg(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return root


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter() if g.get("class") == cls]


def _texts(root: ET.Element) -> str:
    return "\n".join(t.text or "" for t in root.iter(f"{SVG}text"))


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()[1:]]


def _mismatched_receipt(events: list[dict[str, Any]]) -> tuple[str, str, str]:
    """A receipt of the run with a dual-send: (receipt, requester, named phone)."""
    for e in events:
        if e["event"] == "send" and e["msg"].get("reason") == "dual-send":
            receipt = e["receipt"]
            asked = next(
                x["from"]
                for x in events
                if x["event"] == "send"
                and x["type"] == "association-request"
                and x["receipt"] == receipt
            )
            return receipt, asked, e["to"]
    raise AssertionError("no dual-send in the run")


def test_one_receipt_of_a_real_run(tmp_path: Path) -> None:
    text = builtin_trace("wrong-ids")
    trace = tmp_path / "wrong-ids.jsonl"
    trace.write_text(text)
    events = _events(text)
    receipt, requester, named = _mismatched_receipt(events)
    sends = [e for e in events if e["event"] == "send" and e["receipt"] == receipt]

    out = tmp_path / "r.svg"
    diagram = write_diagram(trace, out, DiagramOptions(receipt=receipt))
    root = _svg(out)
    lanes = [str(g.get("data-actor")) for g in _groups(root, "lane")]
    assert lanes == list(diagram.lanes)
    assert lanes[0].startswith("pos:") and lanes[1] == CLOUD  # POS, cloud, then phones
    assert {requester, named} <= set(lanes) and len(lanes) == 4
    arrows = _groups(root, "arrow")
    assert len(arrows) == diagram.drawn == diagram.selected == len(sends)
    assert Counter(a.get("data-type") for a in arrows) == Counter(e["type"] for e in sends)
    assert {a.get("data-outcome") for a in arrows} == {"received"}
    push = next(a for a in arrows if a.get("data-type") == "association-push")
    assert (push.get("data-from"), push.get("data-to")) == (CLOUD, named)
    assert "mismatch" in _texts(root)  # the cloud's note
    assert "shown (response)" in _texts(root) and "shown (dual-send)" in _texts(root)
    assert diagram.notice is None and "only the first" not in _texts(root)


def test_a_whole_run_is_capped_and_says_so(tmp_path: Path) -> None:
    text = builtin_trace("wrong-ids")
    trace = tmp_path / "wrong-ids.jsonl"
    trace.write_text(text)
    total = sum(1 for e in _events(text) if e["event"] == "send")
    out = tmp_path / "all.svg"
    diagram = write_diagram(trace, out, DiagramOptions(max_messages=50))
    assert diagram.drawn == 50 and diagram.selected == total and diagram.truncated
    assert diagram.notice is not None and f"first 50 of {total} messages" in diagram.notice
    root = _svg(out)
    assert len(_groups(root, "arrow")) == 50
    assert "--receipt R or --from/--until" in _texts(root)


def test_a_time_window(tmp_path: Path) -> None:
    text = builtin_trace("wrong-ids")
    trace = tmp_path / "wrong-ids.jsonl"
    trace.write_text(text)
    window = [e for e in _events(text) if e["event"] == "send" and 3600 <= e["t"] <= 3900]
    out = tmp_path / "w.svg"
    diagram = write_diagram(trace, out, DiagramOptions(start=3600, until=3900))
    assert diagram.drawn == diagram.selected == len(window) > 0
    assert "t 1:00:00.000 to 1:05:00.000" in _texts(_svg(out))


def faulty() -> TraceBuilder:
    """One purchase over a bad network: every fault kind of the trace format."""
    b = TraceBuilder()
    b.subscribe(A)
    b.subscribe(B)
    b.at(1).upload("R1", A)
    notice = {"receipt_id": "R1", "merchant_id": "shop-01", "purchased_at": 1}
    fields = {"type": "receipt-notice", "receipt": key("R1"), "msg": notice}
    b.at(2).event("dup", POS, phone(A), **fields, fault="duplicate")  # logged before its send
    b.message(POS, phone(A), "receipt-notice", notice)
    b.at(2.05).event("recv", POS, phone(A), **fields)  # the extra copy
    b.at(3).event("crash", CLOUD, CLOUD)
    request = {"request_id": 1, "receipt_id": "R1", "merchant_id": SHOP, "phone_id": A}
    b.message(phone(A), CLOUD, "association-request", request, fault="down")
    b.at(5).event("restart", CLOUD, CLOUD)
    b.at(6).event("partition", "cloud", "phone:*", phase="start")
    b.message(phone(A), CLOUD, "association-request", request, fault="partition")
    b.at(9).event("partition", "cloud", "phone:*", phase="end")
    b.at(10).message(phone(A), CLOUD, "association-request", request, received=False)
    b.event("delay", phone(A), CLOUD, type="association-request", receipt=key("R1"), msg=request)
    b.at(11).message(phone(A), CLOUD, "association-request", request)
    b.at(12).event(
        "recv", phone(A), CLOUD, type="association-request", receipt=key("R1"), msg=request
    )
    b.respond(A, "R1", 1)
    b.at(601).message(
        CLOUD,
        phone(A),
        "association-push",
        {"receipt_id": "R1", "phone_id": A, "reason": "timeout", "products": []},
        received=False,
    )
    b.at(700).note(phone(A), "gave-up", "R1", None, "no answer to association-request")
    return b


def test_faults_are_drawn(tmp_path: Path) -> None:
    trace = _write(tmp_path / "faults.jsonl", faulty().records)
    out = tmp_path / "faults.svg"
    diagram = write_diagram(trace, out, DiagramOptions(receipt="R1"))
    root = _svg(out)
    arrows = _groups(root, "arrow")
    outcomes = Counter((a.get("data-type"), a.get("data-outcome")) for a in arrows)
    assert outcomes[("association-request", "lost")] == 2  # to the crashed cloud, partitioned
    assert outcomes[("association-request", "received")] == 2  # the delayed one, the 4th
    assert outcomes[("receipt-notice", "received")] == 2  # the notice and its duplicate
    assert outcomes[("association-push", "in flight")] == 1  # never received
    assert diagram.lost == 2 == len(_groups(root, "lost"))
    labels = _texts(root)
    assert "receipt-notice (dup)" in labels
    assert "association-request 2nd to cloud: lost (partition)" in labels
    assert "association-request 3rd (delayed)" in labels
    assert "association-push timeout (not received)" in labels
    assert "gave up: no answer to association-request" in labels
    (crash,) = _groups(root, "crash")
    assert crash.get("data-actor") == CLOUD and float(crash.get("height", "0")) > 2
    (band,) = _groups(root, "partition")
    assert "partition: cloud  |  phone:*" in labels and float(band.get("height", "0")) > 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (DiagramOptions(receipt="R404"), "nothing to draw: no message in the trace matches"),
        (DiagramOptions(max_messages=0), "--max-messages must be at least 1"),
        (DiagramOptions(start=10, until=5), "--until 0:00:05.000 is before --from"),
    ],
)
def test_bad_options_are_typed_errors(
    tmp_path: Path, options: DiagramOptions, message: str
) -> None:
    trace = _write(tmp_path / "faults.jsonl", faulty().records)
    with pytest.raises(TraceError, match=message):
        write_diagram(trace, tmp_path / "x.svg", options)


def test_diagram_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = _write(tmp_path / "faults.jsonl", faulty().records)
    out = tmp_path / "run.svg"
    done = _assocsim("diagram", str(trace), "-o", str(out), "--receipt", "R1", "--until", "10m")
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout
        == f"{out}: 9 of 9 messages, 2 lost, 3 actors (receipt R1, t start to 0:10:00.000)\n"
    )
    assert len(_groups(_svg(out), "arrow")) == 9

    assert main(["diagram", str(trace), "--max-messages", "3"]) == 0  # default: TRACE.svg
    captured = capsys.readouterr()
    assert "only the first 3 of 14 messages are drawn" in captured.err
    assert len(_groups(_svg(trace.with_suffix(".svg")), "arrow")) == 3

    with pytest.raises(SystemExit) as exited:
        main(["diagram", str(trace), "--from", "soon"])
    assert exited.value.code == 2
    assert "argument --from: expected a duration" in capsys.readouterr().err
    assert main(["diagram", str(tmp_path / "nope.jsonl")]) == 2
    expected = f"cannot read trace {tmp_path / 'nope.jsonl'}: No such file or directory"
    assert capsys.readouterr().err == f"assocsim: error: {expected}\n"
    assert main(["diagram", str(trace), "--receipt", "R404"]) == 2
    assert "nothing to draw: no message in the trace matches receipt R404" in (
        capsys.readouterr().err
    )
