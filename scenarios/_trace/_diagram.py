"""Sequence (Lamport) diagrams of a trace as hand-written SVG: ``assocsim diagram``.

One vertical lane per actor (the POSes on the left, the cloud in the middle, the phones on
the right), time going down, one arrow per message from its send to its receipt. Rows are
the trace's events in order (a Lamport diagram: "happened before" reads top to bottom,
even when many events share one virtual instant), with the virtual time of each new
instant in the left margin.

A send is matched to its receipt by (from, to, type, message body), first sent first
received, so re-sends and network duplicates are extra arrows. A lost message (``drop``)
is dashed to the lane of the actor that never got it and crossed there, its label naming
that actor and the fault; a message the network held back (``delay``) is dotted, one
never received is dashed to the bottom edge. Crashes
shade the crashed actor's lane until its restart; partitions shade a band across the
diagram; both are labelled with their times. Notes (``shown``, ``mismatch``,
``gave-up``...) are small labels on their lane. With ``receipt``, the rows are that
receipt's events only: crashes (of its lanes) and partitions are drawn as spans over
them, never as rows of their own.

A whole run is too big to read, so the diagram draws at most ``max_messages`` arrows (the
first ones of the selection) and says so, in the picture and to the caller, suggesting
``--receipt`` or a time window.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import attrs

from ._reader import TraceError, TraceReader, TraceRecord

__all__ = [
    "DEFAULT_MAX_MESSAGES",
    "Diagram",
    "DiagramOptions",
    "build_diagram",
    "message_key",
    "write_diagram",
]

DEFAULT_MAX_MESSAGES = 200

_ROW = 18  # pixels between two rows (events)
_LANE = 170  # pixels between two lanes
_GUTTER = 112  # the time margin on the left
_TOP = 150  # title, legend, lane heads
_BOTTOM = 70
_RIGHT = 170  # room for the last lane's notes
_CHAR = 5.9  # approximate width of a character at font-size 10
_MIN_WIDTH = 1000  # the legend's width

_COLOURS = {
    "purchase-upload": "#1f77b4",
    "upload-ack": "#1f77b4",
    "receipt-notice": "#17a2b8",
    "notice-ack": "#17a2b8",
    "subscribe": "#7f7f7f",
    "subscribe-ack": "#7f7f7f",
    "association-request": "#2ca02c",
    "association-response": "#2ca02c",
    "association-push": "#e8710a",
    "push-ack": "#e8710a",
    "promotion-update": "#9467bd",
    "promotion-ack": "#9467bd",
    "error-reply": "#d62728",
}
_OTHER = "#444444"
_ACKS = frozenset({"upload-ack", "notice-ack", "subscribe-ack", "push-ack", "promotion-ack"})
_LEGEND = (
    ("upload", "purchase-upload"),
    ("notice", "receipt-notice"),
    ("subscribe", "subscribe"),
    ("request / response", "association-request"),
    ("push", "association-push"),
    ("promotion", "promotion-update"),
    ("error", "error-reply"),
)


@attrs.frozen
class DiagramOptions:
    """What to draw: one receipt's messages, a time window, at most ``max_messages``."""

    receipt: str | None = None
    start: float | None = None  # virtual seconds; messages sent at or after
    until: float | None = None  # virtual seconds; messages sent at or before
    max_messages: int = DEFAULT_MAX_MESSAGES

    def describe(self) -> str:
        parts = []
        if self.receipt is not None:
            parts.append(f"receipt {self.receipt}")
        if self.start is not None or self.until is not None:
            start = _clock(self.start) if self.start is not None else "start"
            until = _clock(self.until) if self.until is not None else "end"
            parts.append(f"t {start} to {until}")
        return ", ".join(parts) or "whole trace"


@attrs.frozen
class Diagram:
    """A drawn diagram: the SVG text and what it shows."""

    svg: str
    lanes: tuple[str, ...]
    drawn: int  # arrows drawn
    selected: int  # messages that matched the options (drawn or not)
    lost: int  # drawn arrows that end in a cross
    notice: str | None  # why not every selected message is drawn

    @property
    def truncated(self) -> bool:
        return self.drawn < self.selected


# ------------------------------------------------------------------ reading the trace


@attrs.define
class _Arrow:
    frm: str
    to: str
    type: str
    start: int  # line of the send (or of the dup that made this copy)
    start_t: float
    copy: int = 1  # 2 for the second send of the identical message (a re-send), ...
    dup: bool = False
    delayed: bool = False
    end: int | None = None
    end_t: float | None = None
    outcome: str = "in flight"  # "received", "lost", "failed", "in flight"
    what: str = ""  # a push's reason, a refusal's code
    fault: str = ""
    drawn: bool = False


@attrs.define
class _Marker:
    line: int
    t: float
    actor: str
    label: str
    kind: str  # "note", "timer", "crash", "restart"


@attrs.define
class _Span:
    """A crash (one lane) or a partition (all lanes), from ``start`` to ``end``."""

    start: int
    start_t: float
    label: str
    actor: str | None = None  # None: a partition
    end: int | None = None
    end_t: float | None = None


_Key = bytes


def message_key(ev: TraceRecord) -> _Key:
    """Which message an event is about: a digest of (from, to, type, body). Two sends
    with one key are a message and its re-send (the diagram's 2nd, 3rd; ``find``'s
    re-sends)."""
    body = json.dumps(ev.msg, sort_keys=True, separators=(",", ":"))
    text = f"{ev.frm}\n{ev.to}\n{ev.type}\n{body}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class _Collector:
    """Matches sends to receipts and gathers what the diagram shows, in one pass."""

    def __init__(self, options: DiagramOptions) -> None:
        self.options = options
        self.pending: dict[_Key, deque[_Arrow]] = {}
        self.orphans: dict[_Key, list[TraceRecord]] = {}
        self.orphan_t = math.inf
        self.copies: dict[_Key, int] = {}
        self.drawn: list[_Arrow] = []
        self.selected = 0
        self.markers: list[_Marker] = []
        self.spans: list[_Span] = []
        self._crashed: dict[str, _Span] = {}
        self._partitions: dict[tuple[str, str], _Span] = {}
        # A receipt is MERCHANT/RECEIPT in a trace; a bare RECEIPT selects it at any merchant.
        receipt = options.receipt
        self._suffix = None if receipt is None or "/" in receipt else f"/{receipt}"
        self._timer_tokens = (
            None if receipt is None else tuple(f"'{part}'" for part in receipt.split("/"))
        )
        self.unresolved = 0  # drawn arrows not yet ended
        self.counting_only = False

    # -- filters

    def _in_window(self, t: float) -> bool:
        start, until = self.options.start, self.options.until
        return (start is None or t >= start) and (until is None or t <= until)

    def _is_receipt(self, receipt: str | None) -> bool:
        """Is ``receipt`` (a trace's) the one the options select (any, if none)?"""
        wanted = self.options.receipt
        if wanted is None or receipt == wanted:
            return True
        suffix = self._suffix
        return suffix is not None and receipt is not None and receipt.endswith(suffix)

    def _selected(self, ev: TraceRecord) -> bool:
        return self._is_receipt(ev.receipt) and self._in_window(ev.t)

    def _past_window(self, t: float) -> bool:
        return self.options.until is not None and t > self.options.until

    # -- the pass

    def feed(self, events: Iterable[TraceRecord]) -> None:
        for ev in events:
            if self.orphans and ev.t > self.orphan_t:
                self._flush_orphans()
            kind = ev.kind
            if kind in ("crash", "restart", "partition"):
                self._fault_state(ev)
                continue
            if self.counting_only:
                if self._past_window(ev.t):
                    break
                if kind in ("send", "dup", "send-failed") and self._selected(ev):
                    self.selected += 1
                continue
            if self.options.receipt is not None and not self._is_receipt(ev.receipt):
                if kind == "timer" and self._timer_tokens is not None:
                    self._timer(ev)
                continue
            if kind in _MESSAGE_KINDS:
                self._message(ev, message_key(ev))
            elif kind == "note" and self._in_window(ev.t):
                self._note(ev)
            if self._can_stop_matching(ev.t):
                if self.options.until is not None and ev.t > self.options.until:
                    break
                self.counting_only = True
        self._flush_orphans()

    def _message(self, ev: TraceRecord, key: _Key) -> None:
        kind = ev.kind
        if kind == "send":
            self._send(ev, key)
        elif kind == "recv":
            self._end(ev, key, self._pop_first(key), "received")
        elif kind == "drop":
            self._drop(ev, key)
        elif kind == "dup":
            self._dup(ev, key)
        elif kind == "delay":
            self._delay(ev, key)
        else:  # send-failed
            self._finish(self._start(ev, key), ev, "failed", "refused")

    def _can_stop_matching(self, t: float) -> bool:
        capped = len(self.drawn) >= self.options.max_messages
        return (capped or self._past_window(t)) and self.unresolved == 0 and not self.orphans

    def _start(self, ev: TraceRecord, key: _Key, *, dup: bool = False) -> _Arrow:
        """A new arrow from ``ev``; drawn if selected and the cap allows."""
        if dup:
            copy = self.copies.get(key, 1)
        else:
            copy = self.copies[key] = self.copies.get(key, 0) + 1
        arrow = _Arrow(ev.frm, ev.to, ev.type, ev.line, ev.t, copy=copy, dup=dup)
        what = ev.msg.get("reason") or ev.msg.get("code")
        if isinstance(what, str) and ev.type in ("association-push", "error-reply"):
            arrow.what = what
        if self._selected(ev):
            self.selected += 1
            if len(self.drawn) < self.options.max_messages:
                arrow.drawn = True
                self.drawn.append(arrow)
                self.unresolved += 1
        return arrow

    def _finish(self, arrow: _Arrow, ev: TraceRecord, outcome: str, fault: str = "") -> None:
        arrow.end, arrow.end_t, arrow.outcome, arrow.fault = ev.line, ev.t, outcome, fault
        if arrow.drawn:
            self.unresolved -= 1

    def _send(self, ev: TraceRecord, key: _Key) -> None:
        self.pending.setdefault(key, deque()).append(self._start(ev, key))
        for orphan in self.orphans.pop(key, []):  # logged before their send, at its instant
            self._message(orphan, key)

    def _pop_first(self, key: _Key) -> _Arrow | None:
        """The copy a receipt ends: the oldest not held back by the network, else the oldest."""
        queue = self.pending.get(key)
        if not queue:
            return None
        arrow = next((a for a in queue if not a.delayed), queue[0])
        self._remove(key, arrow)
        return arrow

    def _remove(self, key: _Key, arrow: _Arrow) -> None:
        queue = self.pending[key]
        queue.remove(arrow)
        if not queue:
            del self.pending[key]

    def _latest_at(self, key: _Key, t: float, *, or_first: bool) -> _Arrow | None:
        """The copy sent at instant ``t`` (the latest), else the oldest if ``or_first``."""
        queue = self.pending.get(key)
        if not queue:
            return None
        for arrow in reversed(queue):
            if arrow.start_t == t:
                return arrow
        return queue[0] if or_first else None

    def _orphan(self, ev: TraceRecord, key: _Key) -> None:
        self.orphans.setdefault(key, []).append(ev)
        self.orphan_t = min(self.orphan_t, ev.t)

    def _end(self, ev: TraceRecord, key: _Key, arrow: _Arrow | None, outcome: str) -> None:
        if arrow is None:
            self._orphan(ev, key)
        else:
            self._finish(arrow, ev, outcome)

    def _drop(self, ev: TraceRecord, key: _Key) -> None:
        arrow = self._latest_at(key, ev.t, or_first=True)
        if arrow is None:
            self._orphan(ev, key)
            return
        self._remove(key, arrow)
        self._finish(arrow, ev, "lost", ev.detail)

    def _dup(self, ev: TraceRecord, key: _Key) -> None:
        if self._latest_at(key, ev.t, or_first=False) is None:
            self._orphan(ev, key)
        else:
            self.pending[key].append(self._start(ev, key, dup=True))

    def _delay(self, ev: TraceRecord, key: _Key) -> None:
        arrow = self._latest_at(key, ev.t, or_first=True)
        if arrow is None:
            self._orphan(ev, key)
        else:
            arrow.delayed = True

    def _flush_orphans(self) -> None:
        """Ends and faults whose send never came (at their instant): draw what can be drawn."""
        orphans, self.orphans, self.orphan_t = self.orphans, {}, math.inf
        for key, events in orphans.items():
            for ev in events:
                if ev.kind == "drop":
                    arrow = self._latest_at(key, ev.t, or_first=True)
                    if arrow is not None:  # a copy sent earlier, lost on its way
                        self._remove(key, arrow)
                        self._finish(arrow, ev, "lost", ev.detail)
                    else:
                        self._finish(self._start(ev, key), ev, "lost", ev.detail)
                elif ev.kind == "recv":  # received; its send is not in the trace
                    self._finish(self._start(ev, key), ev, "received")
                elif ev.kind == "dup":  # a copy of a message whose send is not in the trace
                    self.pending.setdefault(key, deque()).append(self._start(ev, key, dup=True))

    def _note(self, ev: TraceRecord) -> None:
        label = ev.type + (f" ({ev.detail})" if ev.detail and ev.type in _SHORT_DETAIL else "")
        if ev.type == "gave-up":
            label = f"gave up: {ev.detail}" if ev.detail else "gave up"
        if ev.type in _PHONE_NOTES and ev.phone is not None:
            label += f" ({ev.phone})"
        if self.options.receipt is None and ev.receipt is not None and ev.type != "gave-up":
            label += f" {ev.receipt}"
        self.markers.append(_Marker(ev.line, ev.t, ev.frm, label, "note"))

    def _timer(self, ev: TraceRecord) -> None:
        tokens = self._timer_tokens
        if tokens is not None and all(t in ev.detail for t in tokens) and self._in_window(ev.t):
            name = ev.detail.split("(", 1)[0]
            self.markers.append(_Marker(ev.line, ev.t, ev.frm, f"timer {name}", "timer"))

    def _fault_state(self, ev: TraceRecord) -> None:
        if ev.kind == "crash":
            span = _Span(ev.line, ev.t, "crashed", actor=ev.frm)
            self._crashed[ev.frm] = span
            self.spans.append(span)
        elif ev.kind == "restart":
            crashed = self._crashed.pop(ev.frm, None)
            if crashed is not None:
                crashed.end, crashed.end_t = ev.line, ev.t
        else:
            sides = (ev.frm, ev.to)
            phase = ev.detail
            if phase == "end":
                cut = self._partitions.pop(sides, None)
                if cut is not None:
                    cut.end, cut.end_t = ev.line, ev.t
            else:
                span = _Span(ev.line, ev.t, f"partition: {ev.frm}  |  {ev.to}")
                self._partitions[sides] = span
                self.spans.append(span)


_SHORT_DETAIL = frozenset({"shown", "already-shown"})
_MESSAGE_KINDS = frozenset({"send", "recv", "drop", "dup", "delay", "send-failed"})
_PHONE_NOTES = frozenset({"mismatch", "push-withheld", "dual-send-withheld"})


# ------------------------------------------------------------------ drawing


def _clock(t: float) -> str:
    """Virtual time as h:mm:ss.mmm."""
    millis = round(t * 1000)
    seconds, millis = divmod(millis, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _lane_order(actors: Iterable[str]) -> list[str]:
    """POSes (by name), the cloud, then phones and others in order of appearance."""
    seen = list(dict.fromkeys(actors))
    pos = sorted(a for a in seen if a.startswith("pos:"))
    cloud = [a for a in seen if a == "cloud"]
    rest = [a for a in seen if not a.startswith("pos:") and a != "cloud"]
    return pos + cloud + rest


def _colour(message_type: str) -> str:
    return _COLOURS.get(message_type, _OTHER)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class _Canvas:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = 10,
        anchor: str = "start",
        fill: str = "#222222",
        weight: str = "normal",
        cls: str = "",
        backdrop: bool = False,
    ) -> None:
        if backdrop:
            width = len(content) * _CHAR * size / 10 + 4
            left = {"start": x - 2, "middle": x - width / 2, "end": x - width + 2}[anchor]
            self.add(
                f'<rect x="{left:.1f}" y="{y - size + 1:.1f}" width="{width:.1f}" '
                f'height="{size + 2:.1f}" fill="white" fill-opacity="0.85"/>'
            )
        klass = f' class="{cls}"' if cls else ""
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}"{klass}>{escape(content)}</text>'
        )

    def cross(self, x: float, y: float, *, size: float = 5, cls: str = "lost") -> None:
        klass = f' class="{cls}"' if cls else ""
        self.add(
            f'<path d="M{x - size:.1f},{y - size:.1f} L{x + size:.1f},{y + size:.1f} '
            f'M{x - size:.1f},{y + size:.1f} L{x + size:.1f},{y - size:.1f}" '
            f'stroke="#d62728" stroke-width="2.2"{klass}/>'
        )


class _Layout:
    """Rows (trace lines) to y, lanes (actors) to x."""

    def __init__(self, rows: list[int], lanes: list[str]) -> None:
        self.rows = rows
        self.lanes = lanes
        self.lane_x = {lane: _GUTTER + _LANE // 2 + i * _LANE for i, lane in enumerate(lanes)}
        self.width = max(_GUTTER + len(lanes) * _LANE + _RIGHT, _MIN_WIDTH)
        self.body_top = _TOP
        self.body_bottom = _TOP + max(len(rows), 1) * _ROW + _ROW
        self.height = self.body_bottom + _BOTTOM

    def y(self, line: int) -> float:
        """The row of a line; a line between rows lands between them, clipped to the body."""
        index = bisect.bisect_left(self.rows, line)
        if index < len(self.rows) and self.rows[index] == line:
            return self.body_top + _ROW * (index + 1)
        return min(max(self.body_top + _ROW * (index + 0.5), self.body_top), self.body_bottom)


@attrs.frozen
class _Selection:
    """What one picture holds: arrows, markers, shaded spans, lanes, rows and their times."""

    arrows: list[_Arrow]
    markers: list[_Marker]
    spans: list[_Span]  # partitions and crashes overlapping the rows
    crashes: list[_Span]  # the crashes drawn (on lanes of the picture)
    lanes: list[str]
    rows: list[int]
    times: dict[int, float]


def _select(collector: _Collector, options: DiagramOptions) -> _Selection:
    arrows = collector.drawn
    capped = collector.selected > len(arrows)
    last_line = max((a.end if a.end is not None else a.start for a in arrows), default=0)
    end_line = last_line if capped else math.inf
    markers = [m for m in collector.markers if m.line <= end_line]
    first_line = min([a.start for a in arrows] + [m.line for m in markers], default=0)
    if options.receipt is not None:  # the spans that overlap the receipt's own rows
        rows = [_last(a) for a in arrows] + [m.line for m in markers]
        end_line = min(end_line, max(rows, default=0))
    spans = [
        s
        for s in collector.spans
        if s.start <= end_line and (s.end if s.end is not None else math.inf) >= first_line
    ]
    actors = [a for arrow in arrows for a in (arrow.frm, arrow.to)] + [m.actor for m in markers]
    known = set(actors)
    crashes = [
        s for s in spans if s.actor is not None and (options.receipt is None or s.actor in known)
    ]
    actors += [s.actor for s in crashes if s.actor is not None]
    times: dict[int, float] = {}
    for arrow in arrows:
        times[arrow.start] = arrow.start_t
        if arrow.end is not None and arrow.end_t is not None:
            times[arrow.end] = arrow.end_t
    for marker in markers:
        times[marker.line] = marker.t
    if options.receipt is None:  # one receipt's picture: its rows only, spans over them
        for span in spans:
            if span.start >= first_line:
                times[span.start] = span.start_t
            if span.end is not None and span.end_t is not None and span.end <= end_line:
                times[span.end] = span.end_t
    return _Selection(arrows, markers, spans, crashes, _lane_order(actors), sorted(times), times)


def _last(arrow: _Arrow) -> int:
    return arrow.end if arrow.end is not None else arrow.start


def _render(
    collector: _Collector,
    header: Mapping[str, Any],
    options: DiagramOptions,
    notice: str | None,
) -> Diagram:
    chosen = _select(collector, options)
    layout = _Layout(chosen.rows, chosen.lanes)
    canvas = _Canvas()
    width, height = layout.width, layout.height
    canvas.add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">'
    )
    title = f"assocsim trace: scenario {header.get('scenario', '?')}, seed {header.get('seed')}"
    canvas.add(f"<title>{escape(title)}</title>")
    canvas.add(_defs())
    canvas.add(f'<rect width="{width}" height="{height:.0f}" fill="white"/>')
    canvas.text(16, 24, title, size=15, weight="bold", cls="title")
    lost = sum(1 for a in chosen.arrows if a.outcome in ("lost", "failed"))
    summary = (
        f"{options.describe()}: {len(chosen.arrows)} of {collector.selected} messages drawn"
        + (f", {lost} lost" if lost else "")
        + f", {len(chosen.lanes)} actors"
    )
    canvas.text(16, 42, summary, size=11, fill="#444444", cls="summary")
    if notice is not None:
        canvas.text(16, 60, notice, size=11, fill="#b00020", weight="bold", cls="notice")
    _legend(canvas, 16, 82)
    _bands(canvas, layout, chosen.spans)
    _lanes(canvas, layout, chosen.crashes)
    _time_margin(canvas, layout, chosen.times)
    for marker in chosen.markers:
        _marker(canvas, layout, marker)
    for arrow in chosen.arrows:
        _arrow(canvas, layout, arrow)
    if notice is not None:
        canvas.text(16, layout.body_bottom + 52, notice, size=11, fill="#b00020", cls="notice")
    canvas.add("</svg>")
    return Diagram(
        svg="\n".join(canvas.parts) + "\n",
        lanes=tuple(chosen.lanes),
        drawn=len(chosen.arrows),
        selected=collector.selected,
        lost=lost,
        notice=notice,
    )


def _defs() -> str:
    heads = []
    for colour in sorted({*_COLOURS.values(), _OTHER}):
        name = colour.lstrip("#")
        heads.append(
            f'<marker id="head-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    return "<defs>" + "".join(heads) + "</defs>"


def _legend(canvas: _Canvas, x: float, y: float) -> None:
    canvas.add('<g class="legend">')
    for label, message_type in _LEGEND:
        colour = _colour(message_type)
        canvas.add(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 26:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{colour}" stroke-width="2" marker-end="url(#head-{colour.lstrip("#")})"/>'
        )
        canvas.text(x + 32, y, label, size=10)
        x += 40 + len(label) * _CHAR
    canvas.cross(x + 6, y - 4, cls="")
    canvas.text(x + 16, y, "lost", size=10)
    x += 50
    canvas.add(
        f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 26:.1f}" y2="{y - 4:.1f}" '
        f'stroke="{_OTHER}" stroke-width="1.6" stroke-dasharray="2,3"/>'
    )
    canvas.text(x + 32, y, "delayed (reordered)", size=10)
    x += 40 + len("delayed (reordered)") * _CHAR
    canvas.add(
        f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="#d62728" '
        'fill-opacity="0.22"/>'
    )
    canvas.text(x + 18, y, "crashed", size=10)
    x += 70
    canvas.add(
        f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="#f2b705" '
        'fill-opacity="0.3"/>'
    )
    canvas.text(x + 18, y, "partition", size=10)
    canvas.text(
        16,
        y + 18,
        "rows are trace events in order; the left margin gives each new virtual instant "
        "(h:mm:ss.mmm); '2nd', '3rd': re-sends of the identical message",
        size=9.5,
        fill="#666666",
    )
    canvas.add("</g>")


def _bands(canvas: _Canvas, layout: _Layout, spans: list[_Span]) -> None:
    left = _GUTTER - 6
    right = layout.width - _RIGHT + 40
    for index, span in enumerate(s for s in spans if s.actor is None):
        top = layout.y(span.start) - _ROW / 2
        bottom = layout.y(span.end) - _ROW / 2 if span.end is not None else layout.body_bottom
        canvas.add(
            f'<rect class="partition" x="{left}" y="{top:.1f}" width="{right - left}" '
            f'height="{max(bottom - top, 2):.1f}" fill="#f2b705" fill-opacity="0.16" '
            'stroke="#f2b705" stroke-opacity="0.6"/>'
        )
        label = f"{span.label}  ({_span_times(span)})"
        canvas.text(left + 4, top + 11 + 12 * index, label, size=9.5, fill="#8a6d00")


def _lanes(canvas: _Canvas, layout: _Layout, crash_spans: list[_Span]) -> None:
    top, bottom = layout.body_top, layout.body_bottom
    for lane in layout.lanes:
        x = layout.lane_x[lane]
        canvas.add(f'<g class="lane" data-actor={quoteattr(lane)}>')
        canvas.add(
            f'<line x1="{x}" y1="{top - 6}" x2="{x}" y2="{bottom}" stroke="#9a9a9a" '
            'stroke-width="1.2"/>'
        )
        for y in (top - 14, bottom + 18):
            canvas.text(x, y, lane, size=10.5, anchor="middle", weight="bold", backdrop=True)
        canvas.add("</g>")
    for span in crash_spans:
        if span.actor not in layout.lane_x:
            continue
        x = layout.lane_x[span.actor]
        y0 = layout.y(span.start)
        y1 = layout.y(span.end) if span.end is not None else bottom
        canvas.add(
            f'<rect class="crash" data-actor={quoteattr(span.actor)} x="{x - 9}" '
            f'y="{y0:.1f}" width="18" height="{max(y1 - y0, 2):.1f}" fill="#d62728" '
            'fill-opacity="0.22" stroke="#d62728" stroke-opacity="0.5"/>'
        )
        canvas.text(  # on the crash's own row, or between the receipt's rows
            x - 12,
            y0 + 3.5,
            f"crashed ({_span_times(span)})",
            size=9,
            anchor="end",
            fill="#a02020",
            cls="crash-label",
            backdrop=True,
        )


def _span_times(span: _Span) -> str:
    """When a crash or partition began and ended: it may have no row of its own."""
    end = _clock(span.end_t) if span.end_t is not None else "the end"
    return f"{_clock(span.start_t)} to {end}"


def _time_margin(canvas: _Canvas, layout: _Layout, times: Mapping[int, float]) -> None:
    previous: float | None = None
    right = layout.width - _RIGHT + 40
    for line in layout.rows:
        t = times.get(line)
        if t is None or t == previous:
            continue
        y = layout.y(line)
        if previous is not None:
            canvas.add(
                f'<line x1="{_GUTTER - 4}" y1="{y - _ROW / 2:.1f}" x2="{right}" '
                f'y2="{y - _ROW / 2:.1f}" stroke="#e4e4e4" stroke-width="1"/>'
            )
        canvas.text(_GUTTER - 10, y + 3, _clock(t), size=9.5, anchor="end", fill="#555555")
        previous = t


def _marker(canvas: _Canvas, layout: _Layout, marker: _Marker) -> None:
    x = layout.lane_x.get(marker.actor)
    if x is None:
        return
    y = layout.y(marker.line)
    colour = "#6a3d9a" if marker.kind == "timer" else "#555555"
    if marker.label.startswith(("gave up", "mismatch", "push-withheld", "dual-send-withheld")):
        colour = "#b00020"
    canvas.add(f'<g class="{marker.kind}" data-actor={quoteattr(marker.actor)}>')
    if marker.kind == "timer":
        canvas.add(f'<rect x="{x - 3.5}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>')
    else:
        canvas.add(f'<circle cx="{x}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
    canvas.text(x + 7, y + 3.5, marker.label, size=9.5, fill=colour, backdrop=True)
    canvas.add("</g>")


def _arrow(canvas: _Canvas, layout: _Layout, arrow: _Arrow) -> None:
    x1, x2 = layout.lane_x[arrow.frm], layout.lane_x[arrow.to]
    y1 = layout.y(arrow.start)
    colour = _colour(arrow.type)
    label = arrow.type + (f" {arrow.what}" if arrow.what else "")
    label += f" {_ordinal(arrow.copy)}" if arrow.copy > 1 else ""
    if arrow.dup:
        label += " (dup)"
    dash = ""
    if arrow.delayed:
        dash = ' stroke-dasharray="2,3"'
        label += " (delayed)"
    elif arrow.dup:
        dash = ' stroke-dasharray="7,3"'
    opacity = "0.65" if arrow.type in _ACKS else "1"
    head = f' marker-end="url(#head-{colour.lstrip("#")})"'
    attrs_ = (
        f'class="arrow" data-type={quoteattr(arrow.type)} data-from={quoteattr(arrow.frm)} '
        f"data-to={quoteattr(arrow.to)} data-outcome={quoteattr(arrow.outcome)}"
    )
    canvas.add(f'<g {attrs_} opacity="{opacity}">')
    if arrow.outcome in ("lost", "failed"):
        # Dashed to the lane of the actor that never got it, crossed there, named.
        y2 = layout.y(arrow.end) if arrow.end is not None else y1
        x2 = x2 if x1 != x2 else x1 + 40
        head = ""
        dash = ' stroke-dasharray="4,3"'
        label += f" to {arrow.to}: lost" + (f" ({arrow.fault})" if arrow.fault else "")
    elif arrow.end is None:
        y2 = layout.body_bottom
        dash = ' stroke-dasharray="7,4"'
        label += " (not received)"
    else:
        y2 = layout.y(arrow.end)
    if x1 == x2:  # to itself: a small loop
        canvas.add(
            f'<path d="M{x1},{y1:.1f} C{x1 + 40},{y1:.1f} {x1 + 40},{y2:.1f} {x2 + 2},{y2:.1f}" '
            f'fill="none" stroke="{colour}" stroke-width="1.6"{dash}{head}/>'
        )
    else:
        canvas.add(
            f'<line x1="{x1}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="1.6"{dash}{head}/>'
        )
    if arrow.outcome in ("lost", "failed"):
        canvas.cross(x2, y2)
    # The label sits half a row below the send: every send has its own row, so labels of
    # different arrows never share a height (long arrows get it near their start).
    share = min(0.5, _ROW / 2 / (y2 - y1)) if y2 > y1 else 0.5
    label_x = x1 + (x2 - x1) * share if x1 != x2 else x1 + 44
    label_y = y1 + (y2 - y1) * share - 3
    canvas.text(label_x, label_y, label, size=9.5, anchor="middle", fill=colour, backdrop=True)
    canvas.add("</g>")


# ------------------------------------------------------------------ entry points


def build_diagram(
    header: Mapping[str, Any], events: Iterable[TraceRecord], options: DiagramOptions
) -> Diagram:
    """The diagram of ``events`` (validated trace events, in order) under ``options``."""
    if options.max_messages < 1:
        raise TraceError(f"--max-messages must be at least 1, got {options.max_messages}")
    if options.start is not None and options.until is not None and options.until < options.start:
        raise TraceError(
            f"--until {_clock(options.until)} is before --from {_clock(options.start)}"
        )
    collector = _Collector(options)
    collector.feed(events)
    if collector.selected == 0 and not collector.markers:
        raise TraceError(f"nothing to draw: no message in the trace matches {options.describe()}")
    notice = None
    if collector.selected > len(collector.drawn):
        last = collector.drawn[-1].start_t if collector.drawn else 0.0
        notice = (
            f"only the first {len(collector.drawn)} of {collector.selected} messages are drawn "
            f"(up to t={_clock(last)}); narrow it with --receipt R or --from/--until, "
            "or raise --max-messages"
        )
    return _render(collector, header, options, notice)


def write_diagram(trace: str | Path, out: str | Path, options: DiagramOptions) -> Diagram:
    """Draw the trace file ``trace`` into the SVG file ``out``; :class:`TraceError`."""
    with TraceReader(trace) as reader:
        diagram = build_diagram(reader.header, reader.events(), options)
    out = Path(out)
    try:
        out.write_text(diagram.svg, encoding="utf-8")
    except OSError as exc:
        raise TraceError(f"cannot write diagram {out}: {exc.strerror}") from None
    return diagram
