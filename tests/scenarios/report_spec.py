"""The report's figures, stated as a specification over a whole run's trace events.

Each figure of :class:`~scenarios.Report` is a count over the list of a run's events, as
README's table of figures defines it: distinct messages (a copy re-sent or duplicated by
the network counts once), faults as injected, and the promises' figures (``withheld``,
``lost``, ``duplicates``) from :mod:`tests.scenarios.promises_spec`. Written from those
definitions, not from :class:`~scenarios.ReportBuilder`'s code, so that
``tests/scenarios/test_promises_spec.py`` can hold the report to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from actors import EventKind, TraceEvent, receipt_key
from protocol import MESSAGE_TYPES, PushDue
from tests.scenarios import promises_spec as spec
from tests.scenarios.promises_spec import CLOUD, Ev, first_of, is_phone, is_pos, messages

_TYPE_NAMES = {cls: name for name, cls in MESSAGE_TYPES.items()}
_READ = ("phone_id", "request_id", "reason", "purchased_at", "receipt_id")  # what is read
_FIELDS = {cls: tuple(f.name for f in attrs.fields(cls) if f.name in _READ) for cls in _TYPE_NAMES}
_RESENT_KEYS: dict[
    str, Callable[[Ev], object]
] = {  # what one message is across its re-sends, by its type
    "purchase-upload": lambda e: (e.receipt, e.frm),
    "association-request": lambda e: (e.frm, e.body["request_id"]),
    "association-push": lambda e: (e.receipt, e.body["phone_id"]),
    "receipt-notice": lambda e: (e.receipt, e.frm),
    "subscribe": lambda e: e.body["phone_id"],
    "promotion-update": lambda e: e.frm,
}


def from_trace(events: Iterable[TraceEvent]) -> list[Ev]:
    """A run's trace events as the specifications read them: the message's fields they
    read in its body; a cloud's ``PushDue`` as ``push-due``; other timers, crashes and restarts as
    their kind."""
    out: list[Ev] = []
    for at, event in enumerate(events):
        t, kind, frm, to, message, note, detail = event
        if message is not None:
            cls = type(message)
            body = {name: getattr(message, name) for name in _FIELDS[cls]}
            typ = _TYPE_NAMES[cls]
            out.append(Ev(at, t, str(kind), frm, to, typ, event.receipt, body, str(detail)))
        elif note is not None:
            out.append(Ev(at, t, "note", frm, frm, note.kind, event.receipt, {}, note.detail))
        elif kind == EventKind.TIMER and frm == CLOUD and isinstance(detail, PushDue):
            name = receipt_key(detail.merchant_id, detail.receipt_id)
            out.append(Ev(at, t, "push-due", CLOUD, CLOUD, "push-due", name, {}))
        else:
            out.append(Ev(at, t, str(kind), frm, to, str(kind), None, {}, str(detail)))
    return out


def _received(run: Sequence[Ev], typ: str) -> list[Ev]:
    return [e for e in messages(run, "recv", typ) if is_phone(e.to)]


def latencies(run: Sequence[Ev]) -> list[float]:
    """Purchase to first ``shown``, one per (receipt, phone), sorted; a purchase's time is
    its first upload's ``purchased_at``."""
    uploads = messages(run, "send", "purchase-upload")
    bought = first_of((e.receipt, e.body["purchased_at"]) for e in uploads)
    shown = first_of(
        ((e.frm, e.receipt), e.t) for e in run if e.kind == "note" and e.typ == "shown"
    )
    return sorted(t - bought[r] for (_, r), t in shown.items() if r in bought)


def _percentile(ordered: list[float], q: float) -> float | None:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else None


def figures(run: Sequence[Ev], judged: spec.Judged) -> dict[str, Any]:
    """The report's figures of ``run`` (all but its scenario and seed), ``judged`` its
    verdicts (:func:`tests.scenarios.promises_spec.judge`)."""
    end = run[-1].t if run else 0.0
    purchases = {e.receipt for e in messages(run, "send", "purchase-upload")}
    first_uploads = first_of(
        (e.receipt, e) for e in messages(run, "recv", "purchase-upload") if e.to == CLOUD
    )
    mismatched = {  # step 505: the request's id is not the one the POS sent (first upload)
        (e.frm, e.body["request_id"])
        for e in messages(run, "recv", "association-request")
        if e.to == CLOUD
        and (upload := first_uploads.get(e.receipt)) is not None
        and upload.at < e.at
        and upload.body["phone_id"] != e.body["phone_id"]
    }
    pushes = _received(run, "association-push")
    shown = {(e.frm, e.receipt) for e in run if e.kind == "note" and e.typ == "shown"}
    sends = [e for e in run if e.kind == "send" and e.typ in _RESENT_KEYS]
    distinct = {(e.typ, _RESENT_KEYS[e.typ](e)) for e in sends}
    ordered = latencies(run)
    count = [e.kind + ("-" + e.detail if e.kind == "drop" else "") for e in run]
    return {
        "purchases": len(purchases),
        "uploads_acknowledged": len(
            {e.receipt for e in messages(run, "recv", "upload-ack") if is_pos(e.to)}
        ),
        "requests": len(
            {(e.frm, e.body["request_id"]) for e in messages(run, "send", "association-request")}
        ),
        "responses": len(
            {(e.to, e.body["request_id"]) for e in _received(run, "association-response")}
        ),
        "refusals": len(
            {
                (e.to, e.body["request_id"], e.body["receipt_id"])
                for e in _received(run, "error-reply")
            }
        ),
        "pushes": len({(e.receipt, e.to) for e in pushes if e.body["reason"] != "dual-send"}),
        "mismatches": len(mismatched),
        "dual_sends": len({(e.receipt, e.to) for e in pushes if e.body["reason"] == "dual-send"}),
        "withheld": judged.withheld,
        "delivered": len(shown),
        "lost": len(judged.lost),
        "duplicates": len(judged.pushed_after) + len(judged.shown_twice),
        "deliveries_per_purchase": len(shown) / len(purchases) if purchases else 0.0,
        "latency_p50": _percentile(ordered, 0.50),
        "latency_p95": _percentile(ordered, 0.95),
        "latency_max": ordered[-1] if ordered else None,
        "virtual_time": end,
        "resent": len(sends) - len(distinct),
        "gave_up": sum(e.kind == "note" and e.typ == "gave-up" for e in run),
        "dropped_by_loss": count.count("drop-loss"),
        "cut_by_partition": count.count("drop-partition"),
        "dropped_while_down": count.count("drop-down"),
        "duplicated": count.count("dup"),
        "reordered": count.count("delay"),
        "crashes": count.count("crash"),
        "restarts": count.count("restart"),
    }
