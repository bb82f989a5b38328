"""Diagrams you can navigate (issue 17, item 4): a lost arrow ends, dashed and crossed, at
the lane of the actor that never got it, its label naming it; ``--receipt R`` draws only
that receipt's rows, partitions and crashes as spans over them (with their times), never
rows of their own."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from scenarios import DiagramOptions, write_diagram

from .test_checks import CLOUD, A, B, key, phone
from .test_diagram import _groups, _svg, _texts, _write, faulty

SVG = "{http://www.w3.org/2000/svg}"
ROW, TOP, BOTTOM = 18, 150, 70  # the diagram's row height and margins (_diagram.py)
ROW_KINDS = frozenset({"send", "recv", "drop", "dup", "send-failed", "note"})


def _lane_x(root: ET.Element) -> dict[str, float]:
    lanes = {}
    for group in _groups(root, "lane"):
        line = group.find(f"{SVG}line")
        assert line is not None
        lanes[str(group.get("data-actor"))] = float(line.get("x1", "nan"))
    return lanes


def _cross_centre(group: ET.Element) -> tuple[float, float]:
    (cross,) = [p for p in group.iter(f"{SVG}path") if p.get("class") == "lost"]
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", cross.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def test_a_lost_arrow_ends_crossed_at_its_destination_lane(tmp_path: Path) -> None:
    trace = _write(tmp_path / "faults.jsonl", faulty().records)
    out = tmp_path / "r1.svg"
    write_diagram(trace, out, DiagramOptions(receipt="R1"))
    root = _svg(out)
    lanes = _lane_x(root)
    lost = [g for g in _groups(root, "arrow") if g.get("data-outcome") == "lost"]
    assert len(lost) == 2
    for group in lost:
        (line,) = group.iter(f"{SVG}line")
        destination = str(group.get("data-to"))
        assert destination == CLOUD and group.get("data-from") == phone(A)
        assert float(line.get("x2", "nan")) == lanes[destination]
        assert line.get("stroke-dasharray")  # dashed
        assert line.get("marker-end") is None  # no head: it never arrived
        x, y = _cross_centre(group)
        assert (x, y) == (lanes[destination], float(line.get("y2", "nan")))
    labels = _texts(root)
    assert "association-request to cloud: lost (down)" in labels
    assert "association-request 2nd to cloud: lost (partition)" in labels


def _with_unrelated_faults() -> list[dict[str, object]]:
    """faulty()'s receipt R1, plus a second receipt, a partition and a crash of a phone
    that R1's messages never meet, at instants R1 has no event."""
    b = faulty()
    b.at(650).upload("R2", B)
    b.at(660).event("partition", "pos:*", "cloud", phase="start")
    b.at(670).event("partition", "pos:*", "cloud", phase="end")
    b.at(680).event("crash", phone(B), phone(B))
    b.at(690).event("restart", phone(B), phone(B))
    b.at(720).note(phone(A), "shown", "R1", A, "response")
    return b.records


def _margin_clocks(root: ET.Element) -> list[str]:
    return [
        t.text or ""
        for t in root.iter(f"{SVG}text")
        if t.get("text-anchor") == "end" and re.fullmatch(r"\d+:\d\d:\d\d\.\d{3}", t.text or "")
    ]


def test_one_receipt_has_its_rows_only_and_faults_as_spans(tmp_path: Path) -> None:
    records = _with_unrelated_faults()
    trace = _write(tmp_path / "two.jsonl", records)
    out = tmp_path / "r1.svg"
    diagram = write_diagram(trace, out, DiagramOptions(receipt="R1"))
    root = _svg(out)
    # The rows: R1's message events and notes, nothing else (its timers: none here).
    rows = sum(1 for r in records[1:] if r.get("receipt") == key("R1") and r["event"] in ROW_KINDS)
    height = float(root.get("height", "nan"))
    assert height == TOP + (rows + 1) * ROW + BOTTOM
    clocks = _margin_clocks(root)
    assert "0:00:03.000" in clocks  # the request lost to the crashed cloud: R1's row
    for instant in ("0:00:05.000", "0:00:09.000", "0:11:00.000", "0:11:10.000", "0:11:20.000"):
        assert instant not in clocks  # a restart, a partition's end, the unrelated faults
    assert phone(B) not in diagram.lanes
    labels = _texts(root)
    # The cloud's crash over R1's rows, on its lane, with its times.
    (crash,) = _groups(root, "crash")
    assert crash.get("data-actor") == CLOUD and float(crash.get("height", "0")) > 2
    assert "crashed (0:00:03.000 to 0:00:05.000)" in labels
    bands = _groups(root, "partition")
    assert "partition: cloud  |  phone:*  (0:00:06.000 to 0:00:09.000)" in labels
    assert len(bands) == 2  # R1's partition, and the later one between two of its rows
    assert "partition: pos:*  |  cloud  (0:11:00.000 to 0:11:10.000)" in labels

    # The whole trace still gives every fault its rows.
    whole = tmp_path / "all.svg"
    write_diagram(trace, whole, DiagramOptions())
    everything = _margin_clocks(_svg(whole))
    assert {"0:00:03.000", "0:00:05.000", "0:00:09.000", "0:11:00.000"} <= set(everything)
