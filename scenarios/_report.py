"""The figures of a run, folded from its trace events.

:class:`ReportBuilder` is an observer: give it every event of a run and ask for the
:class:`Report`. Its expectations are the protocol's promises, computed independently of
the cloud's own bookkeeping:

* every request gets exactly one reply (a response or a typed refusal);
* every acknowledged upload is delivered (answered, pushed or dual-sent) to the phone the
  POS named, exactly once unless that phone asks again, unless the phone had not
  subscribed when the cloud withheld its push;
* a timeout push never follows a response to the same phone for the same receipt.

``lost`` counts promises not kept by the end of the run, ``duplicates`` deliveries beyond
them.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import attrs

from actors import EventKind, TraceEvent
from protocol import (
    CLOUD,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    CloudNote,
    ErrorReply,
    PurchaseUpload,
    PushReason,
    Subscribe,
    UploadAck,
)

from ._durations import format_duration

__all__ = ["Report", "ReportBuilder"]

_PHONE = "phone:"


@attrs.frozen
class Report:
    """What happened in one run. Every figure is deterministic for a scenario and seed."""

    scenario: str
    seed: int
    purchases: int
    uploads_acknowledged: int
    requests: int
    responses: int
    refusals: int
    pushes: int
    mismatches: int
    dual_sends: int
    withheld: int
    delivered: int
    lost: int
    duplicates: int
    deliveries_per_purchase: float
    latency_p50: float
    latency_p95: float
    latency_max: float
    virtual_time: float

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def format_table(self) -> str:
        rows = [
            ("purchases", str(self.purchases)),
            ("uploads acknowledged", str(self.uploads_acknowledged)),
            ("requests", str(self.requests)),
            ("responses", str(self.responses)),
            ("refusals", str(self.refusals)),
            ("pushes (timeout)", str(self.pushes)),
            ("mismatches", str(self.mismatches)),
            ("dual-sends", str(self.dual_sends)),
            ("withheld (unsubscribed)", str(self.withheld)),
            ("deliveries", str(self.delivered)),
            ("deliveries per purchase", f"{self.deliveries_per_purchase:.3f}"),
            ("deliveries lost", str(self.lost)),
            ("duplicate deliveries", str(self.duplicates)),
            ("delivery latency p50", format_duration(self.latency_p50)),
            ("delivery latency p95", format_duration(self.latency_p95)),
            ("delivery latency max", format_duration(self.latency_max)),
            ("virtual time", format_duration(self.virtual_time)),
        ]
        width = max(len(name) for name, _ in rows)
        title = f"scenario {self.scenario}, seed {self.seed}"
        lines = [title, "-" * max(len(title), width + 12)]
        lines += [f"{name:<{width}}  {value:>10}" for name, value in rows]
        return "\n".join(lines)


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    index = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[index]


class ReportBuilder:
    """Observer that folds trace events into a :class:`Report`."""

    def __init__(self) -> None:
        self._purchased_at: dict[str, float] = {}
        self._named: dict[str, str] = {}
        self._acknowledged: set[str] = set()
        self._subscribed: set[str] = set()
        self._withheld_justly: set[tuple[str, str]] = set()
        self._withheld = 0
        self._requests: dict[tuple[str, int], str] = {}
        self._replies: Counter[tuple[str, int]] = Counter()
        self._responses = 0
        self._refusals = 0
        self._pushes = 0
        self._dual_sends = 0
        self._mismatches = 0
        self._delivered_at: dict[tuple[str, str], float] = {}
        self._deliveries = 0
        self._unasked: Counter[tuple[str, str]] = Counter()
        self._answered_by_cloud: set[tuple[str, str]] = set()
        self._push_after_answer = 0
        self._last_t = 0.0

    def __call__(self, event: TraceEvent) -> None:
        self._last_t = event.t
        kind = event.kind
        message = event.message
        if kind is EventKind.RECEIVE:
            if event.recipient == CLOUD:
                self._at_cloud(event)
            elif event.recipient.startswith(_PHONE):
                self._at_phone(event)
            elif isinstance(message, UploadAck):
                self._acknowledged.add(message.receipt_id)
        elif kind is EventKind.SEND:
            if isinstance(message, AssociationRequest):
                self._requests[(event.sender, message.request_id)] = message.receipt_id
            elif isinstance(message, PurchaseUpload):
                self._purchased_at.setdefault(message.receipt_id, message.purchased_at)
            elif event.sender == CLOUD and isinstance(
                message, AssociationResponse | AssociationPush
            ):
                self._cloud_delivers(event)
        elif kind is EventKind.NOTE and event.note is not None:
            note = event.note
            if note.kind in (CloudNote.PUSH_WITHHELD, CloudNote.DUAL_SEND_WITHHELD):
                self._withheld += 1
                if note.phone_id not in self._subscribed and note.receipt_id and note.phone_id:
                    self._withheld_justly.add((note.receipt_id, note.phone_id))

    def _at_cloud(self, event: TraceEvent) -> None:
        message = event.message
        if isinstance(message, PurchaseUpload):
            self._named.setdefault(message.receipt_id, message.phone_id)
        elif isinstance(message, Subscribe):
            self._subscribed.add(message.phone_id)
        elif isinstance(message, AssociationRequest):
            named = self._named.get(message.receipt_id)
            if named is not None and named != message.phone_id:
                self._mismatches += 1

    def _cloud_delivers(self, event: TraceEvent) -> None:
        message = event.message
        phone = event.recipient.removeprefix(_PHONE)
        if isinstance(message, AssociationResponse):
            self._answered_by_cloud.add((message.receipt_id, phone))
        elif (
            isinstance(message, AssociationPush)
            and message.reason is PushReason.TIMEOUT
            and (message.receipt_id, phone) in self._answered_by_cloud
        ):
            self._push_after_answer += 1

    def _at_phone(self, event: TraceEvent) -> None:
        message = event.message
        phone = event.recipient.removeprefix(_PHONE)
        if isinstance(message, AssociationResponse):
            self._responses += 1
            self._replies[(event.recipient, message.request_id)] += 1
        elif isinstance(message, ErrorReply):
            self._refusals += 1
            if message.request_id is not None:
                self._replies[(event.recipient, message.request_id)] += 1
            return
        elif isinstance(message, AssociationPush):
            if message.reason is PushReason.DUAL_SEND:
                self._dual_sends += 1
            else:
                self._pushes += 1
            self._unasked[(message.receipt_id, phone)] += 1
        else:
            return
        self._deliveries += 1
        self._delivered_at.setdefault((message.receipt_id, phone), event.t)

    def latencies(self) -> list[float]:
        """Purchase-to-first-delivery times (virtual seconds), one per (receipt, phone), sorted.

        The figures ``latency_p50``, ``latency_p95`` and ``latency_max`` are read off this list.
        """
        return sorted(
            t - self._purchased_at[receipt]
            for (receipt, _), t in self._delivered_at.items()
            if receipt in self._purchased_at
        )

    def report(self, *, scenario: str, seed: int) -> Report:
        unanswered = sum(1 for key in self._requests if self._replies[key] == 0)
        expected = {
            (receipt, self._named[receipt])
            for receipt in self._acknowledged
            if receipt in self._named
        } - self._withheld_justly
        undelivered = sum(1 for key in expected if key not in self._delivered_at)
        duplicates = (
            sum(n - 1 for n in self._replies.values() if n > 1)
            + sum(n - 1 for n in self._unasked.values() if n > 1)
            + self._push_after_answer
        )
        latencies = self.latencies()
        purchases = len(self._purchased_at)
        return Report(
            scenario=scenario,
            seed=seed,
            purchases=purchases,
            uploads_acknowledged=len(self._acknowledged),
            requests=len(self._requests),
            responses=self._responses,
            refusals=self._refusals,
            pushes=self._pushes,
            mismatches=self._mismatches,
            dual_sends=self._dual_sends,
            withheld=self._withheld,
            delivered=self._deliveries,
            lost=unanswered + undelivered,
            duplicates=duplicates,
            deliveries_per_purchase=self._deliveries / purchases if purchases else 0.0,
            latency_p50=_percentile(latencies, 0.50),
            latency_p95=_percentile(latencies, 0.95),
            latency_max=latencies[-1] if latencies else 0.0,
            virtual_time=self._last_t,
        )
