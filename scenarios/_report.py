"""The figures of a run, folded from its trace events.

:class:`ReportBuilder` is an observer: give it every event of a run and ask for the
:class:`Report`. Its expectations are the protocol's promises, computed independently of
the cloud's own bookkeeping:

* every request gets a reply (a response or a typed refusal);
* every acknowledged upload is shown at the phone the POS named (answered, pushed or
  dual-sent), unless that phone had not subscribed when the cloud withheld its push;
* a phone shows each receipt's products to its user once, however many copies arrive;
* a timeout push never follows a response to the same phone for the same receipt.

``lost`` counts promises not kept by the end of the run, ``duplicates`` deliveries shown
beyond them. Message figures count distinct messages (a copy re-sent or duplicated by the
network counts once); ``resent`` counts the re-sends, and the fault figures count the
faults the run actually injected.
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
    Message,
    OutboxNote,
    PhoneNote,
    PromotionUpdate,
    PurchaseUpload,
    PushReason,
    ReceiptNotice,
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
    resent: int = 0
    gave_up: int = 0
    dropped_by_loss: int = 0
    cut_by_partition: int = 0
    dropped_while_down: int = 0
    duplicated: int = 0
    reordered: int = 0
    crashes: int = 0
    restarts: int = 0

    @property
    def faults(self) -> int:
        """Every fault injected: messages dropped, cut, duplicated, reordered; crashes."""
        return (
            self.dropped_by_loss
            + self.cut_by_partition
            + self.dropped_while_down
            + self.duplicated
            + self.reordered
            + self.crashes
        )

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
            ("messages re-sent", str(self.resent)),
            ("given up after retries", str(self.gave_up)),
        ]
        if self.faults or self.restarts:
            rows += [
                ("faults: dropped (loss)", str(self.dropped_by_loss)),
                ("faults: cut by partition", str(self.cut_by_partition)),
                ("faults: dropped (actor down)", str(self.dropped_while_down)),
                ("faults: duplicated", str(self.duplicated)),
                ("faults: reordered", str(self.reordered)),
                ("faults: crashes", str(self.crashes)),
                ("restarts", str(self.restarts)),
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
        self._withheld: set[tuple[str | None, str | None]] = set()
        self._requests: dict[tuple[str, int], str] = {}
        self._mismatched: set[tuple[str, int]] = set()
        self._answered: set[tuple[str, int]] = set()
        self._abandoned: set[str | None] = set()
        self._gave_up = 0
        self._responses: set[tuple[str, int]] = set()
        self._refusals: set[tuple[str, int | None, str | None]] = set()
        self._pushes: set[tuple[str, str]] = set()
        self._dual_sends: set[tuple[str, str]] = set()
        self._shown_at: dict[tuple[str, str], float] = {}
        self._shown = 0
        self._answered_by_cloud: set[tuple[str, str]] = set()
        self._push_after_answer = 0
        self._sent: set[tuple[object, ...]] = set()
        self._resent = 0
        self._faults: Counter[str] = Counter()
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
            key = _resend_key(event.sender, message)
            if key is not None:
                if key in self._sent:
                    self._resent += 1
                    return
                self._sent.add(key)
            if isinstance(message, AssociationRequest):
                self._requests[(event.sender, message.request_id)] = message.receipt_id
            elif isinstance(message, PurchaseUpload):
                self._purchased_at.setdefault(message.receipt_id, message.purchased_at)
            elif event.sender == CLOUD and isinstance(
                message, AssociationResponse | AssociationPush
            ):
                self._cloud_delivers(event)
        elif kind is EventKind.NOTE and event.note is not None:
            self._on_note(event)
        elif kind is EventKind.DROP:
            self._faults[f"drop-{event.detail}"] += 1
        elif kind in (EventKind.DUPLICATE, EventKind.DELAY, EventKind.CRASH, EventKind.RESTART):
            self._faults[str(kind)] += 1

    def _on_note(self, event: TraceEvent) -> None:
        note = event.note
        assert note is not None
        if note.kind == PhoneNote.SHOWN and note.receipt_id is not None:
            self._shown += 1
            phone = event.sender.removeprefix(_PHONE)
            self._shown_at.setdefault((note.receipt_id, phone), event.t)
        elif note.kind in (CloudNote.PUSH_WITHHELD, CloudNote.DUAL_SEND_WITHHELD):
            self._withheld.add((note.receipt_id, note.phone_id))
            if note.phone_id not in self._subscribed and note.receipt_id and note.phone_id:
                self._withheld_justly.add((note.receipt_id, note.phone_id))
        elif note.kind == OutboxNote.GAVE_UP:
            self._gave_up += 1
            self._abandoned.add(note.receipt_id)

    def _at_cloud(self, event: TraceEvent) -> None:
        message = event.message
        if isinstance(message, PurchaseUpload):
            self._named.setdefault(message.receipt_id, message.phone_id)
        elif isinstance(message, Subscribe):
            self._subscribed.add(message.phone_id)
        elif isinstance(message, AssociationRequest):
            named = self._named.get(message.receipt_id)
            if named is not None and named != message.phone_id:
                self._mismatched.add((event.sender, message.request_id))

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
            self._responses.add((event.recipient, message.request_id))
            self._answered.add((event.recipient, message.request_id))
        elif isinstance(message, ErrorReply):
            self._refusals.add((event.recipient, message.request_id, message.receipt_id))
            if message.request_id is not None:
                self._answered.add((event.recipient, message.request_id))
        elif isinstance(message, AssociationPush):
            key = (message.receipt_id, phone)
            if message.reason is PushReason.DUAL_SEND:
                self._dual_sends.add(key)
            else:
                self._pushes.add(key)

    def latencies(self) -> list[float]:
        """Purchase-to-shown times (virtual seconds), one per (receipt, phone), sorted.

        The figures ``latency_p50``, ``latency_p95`` and ``latency_max`` are read off this list.
        """
        return sorted(
            t - self._purchased_at[receipt]
            for (receipt, _), t in self._shown_at.items()
            if receipt in self._purchased_at
        )

    def report(self, *, scenario: str, seed: int) -> Report:
        unanswered = sum(
            1
            for key, receipt in self._requests.items()
            if key not in self._answered and receipt not in self._abandoned
        )
        expected = {
            (receipt, self._named[receipt])
            for receipt in self._acknowledged
            if receipt in self._named
        } - self._withheld_justly
        undelivered = sum(1 for key in expected if key not in self._shown_at)
        duplicates = (self._shown - len(self._shown_at)) + self._push_after_answer
        latencies = self.latencies()
        purchases = len(self._purchased_at)
        delivered = len(self._shown_at)
        faults = self._faults
        return Report(
            scenario=scenario,
            seed=seed,
            purchases=purchases,
            uploads_acknowledged=len(self._acknowledged),
            requests=len(self._requests),
            responses=len(self._responses),
            refusals=len(self._refusals),
            pushes=len(self._pushes),
            mismatches=len(self._mismatched),
            dual_sends=len(self._dual_sends),
            withheld=len(self._withheld),
            delivered=delivered,
            lost=unanswered + undelivered,
            duplicates=duplicates,
            deliveries_per_purchase=delivered / purchases if purchases else 0.0,
            latency_p50=_percentile(latencies, 0.50),
            latency_p95=_percentile(latencies, 0.95),
            latency_max=latencies[-1] if latencies else 0.0,
            virtual_time=self._last_t,
            resent=self._resent,
            gave_up=self._gave_up,
            dropped_by_loss=faults["drop-loss"],
            cut_by_partition=faults["drop-partition"],
            dropped_while_down=faults["drop-down"],
            duplicated=faults[EventKind.DUPLICATE],
            reordered=faults[EventKind.DELAY],
            crashes=faults[EventKind.CRASH],
            restarts=faults[EventKind.RESTART],
        )


def _resend_key(sender: str, message: Message | None) -> tuple[object, ...] | None:
    """What identifies a message its sender re-sends until acknowledged (None: not one)."""
    if isinstance(message, PurchaseUpload):
        return ("upload", sender, message.receipt_id)
    if isinstance(message, AssociationRequest):
        return ("request", sender, message.request_id)
    if isinstance(message, AssociationPush):
        return ("push", message.receipt_id, message.phone_id)
    if isinstance(message, ReceiptNotice):
        return ("notice", sender, message.receipt_id)
    if isinstance(message, Subscribe):
        return ("subscribe", message.phone_id)
    if isinstance(message, PromotionUpdate):
        return ("promotions", sender)
    return None
