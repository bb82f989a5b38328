"""The figures of a run, folded from its trace events.

:class:`ReportBuilder` is an observer: give it every event of a run and ask for the
:class:`Report`. Its expectations are the protocol's promises, judged by
:class:`~scenarios._sim._promises.PromiseLedger` from the trace (never from the cloud's own
bookkeeping or notes), the same judge ``assocsim check`` uses:

* every request gets a reply (a response or a typed refusal);
* every acknowledged upload is shown at the phone the POS named (answered, pushed or
  dual-sent) if that phone had subscribed in time (before the push deadline, or before
  a mismatched requester was answered);
* a phone shows each receipt's products to its user once, however many copies arrive;
* a timeout push never follows a response or a dual-send to the same phone for the
  same receipt.

``lost`` counts the promises not kept by the end of the run (each one a
``no-delivery-lost`` violation of ``assocsim check``), ``duplicates`` the deliveries
beyond them (each a ``no-duplicate-shown`` violation, or a ``timeout-push`` one for a push
after a delivery). Message figures count distinct messages (a copy re-sent or duplicated
by the network counts once); ``resent`` counts the re-sends, and the fault figures count
the faults the run actually injected.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any, cast

import attrs

from actors import EventKind, EventSink, TraceEvent, receipt_key
from protocol import (
    CLOUD,
    MESSAGE_TYPES,
    Address,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    ErrorReply,
    Message,
    Note,
    PromotionUpdate,
    PurchaseUpload,
    PushDue,
    PushReason,
    ReceiptNotice,
    Subscribe,
    UploadAck,
)
from protocol.lowlevel import (
    OutboxNote,
)
from scenarios._model._durations import format_duration
from scenarios._model._scenario import Scenario

from ._promises import (
    OWNED,
    RECEIPT_NAME,
    Handler,
    Judgement,
    PromiseLedger,
    Record,
    push_due_receipt,
    push_timeout_of,
)

__all__ = ["Report", "ReportBuilder"]

_PHONE = "phone:"
_TYPE_NAMES: dict[type[Message], str] = {cls: name for name, cls in MESSAGE_TYPES.items()}
_RECEIVE, _SEND, _NOTE, _TIMER = EventKind.RECEIVE, EventKind.SEND, EventKind.NOTE, EventKind.TIMER
_DROP, _DUPLICATE, _DELAY = EventKind.DROP, EventKind.DUPLICATE, EventKind.DELAY
_CRASH, _RESTART = EventKind.CRASH, EventKind.RESTART


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
    latency_p50: float | None  # None: nothing was delivered, so no latency to speak of
    latency_p95: float | None
    latency_max: float | None
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
            ("not owed (unsubscribed)", str(self.withheld)),
            ("deliveries", str(self.delivered)),
            ("deliveries per purchase", f"{self.deliveries_per_purchase:.3f}"),
            ("deliveries lost", str(self.lost)),
            ("duplicate deliveries", str(self.duplicates)),
            ("delivery latency p50", _latency(self.latency_p50)),
            ("delivery latency p95", _latency(self.latency_p95)),
            ("delivery latency max", _latency(self.latency_max)),
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
                ("faults: held back (reorder)", str(self.reordered)),
                ("faults: crashes", str(self.crashes)),
                ("faults: restarts", str(self.restarts)),
            ]
        width = max(len(name) for name, _ in rows)
        title = f"scenario {self.scenario}, seed {self.seed}"
        lines = [title, "-" * max(len(title), width + 12)]
        lines += [f"{name:<{width}}  {value:>10}" for name, value in rows]
        return "\n".join(lines)


def _latency(seconds: float | None) -> str:
    return "n/a" if seconds is None else format_duration(seconds)


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None  # no delivery: no latency (not 0)
    index = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[index]


class ReportBuilder(EventSink):
    """Observer that folds trace events into a :class:`Report`.

    An :class:`~actors.EventSink`: a run's drivers hand it each send, reception, note and
    timer as a call, without a :class:`~actors.TraceEvent` each (``bench/simpy_peer.py``);
    any event, from a trace read back for instance, can be given as a TraceEvent too.

    ``settings`` (the :class:`~scenarios.Scenario`, or a trace header's ``settings``)
    gives the push deadline the ``lost`` judgement uses; without it, the cloud's own push
    timer stands in for the deadline (see :mod:`scenarios._sim._promises`).
    """

    def __init__(
        self, settings: Scenario | Mapping[str, Any] | None = None, *, atomic_steps: bool = True
    ) -> None:
        # The ledger reads only fields every message of its type has: plain getattr will do
        # (attribute_field's default is for bodies that may lack one). ``atomic_steps``:
        # False for the merged traces of processes (serve cloud handles messages in
        # batches; PromiseLedger.atomic_steps).
        self._atomic_steps = atomic_steps
        self._ledger = ledger = PromiseLedger(
            push_timeout_of(settings),
            field=getattr,
            owner_slots=_OWNER_SLOTS,
            atomic_steps=atomic_steps,
        )
        # A receipt's one record is the ledger's (PromiseLedger.record), the report's own
        # figures in its owner slots (_R_*): an event finds it by one probe of the receipt
        # id a message names, checked against its merchant (ids are unique within a
        # merchant only: another merchant's receipt of the same id is in _by_key), and
        # hands it to the ledger's handler and then to the report's own.
        self._by_id: dict[str, Record] = {}
        self._by_key: dict[tuple[str, str], Record] = {}  # (receipt id, merchant id), rare
        # The trace's name of the receipt of a note no message named yet (TraceEvent.receipt,
        # its one definition), by (receipt id, merchant id, actor): built and hashed once.
        self._note_receipts: dict[tuple[object, ...], str | None] = {}
        self._notes_named: dict[str, bool] = {}  # does the ledger read a note kind's receipt?
        # A receipt's second and later senders or phones (rare), by (slot, name, who):
        self._more: set[tuple[int, str | None, str]] = set()
        # Each request's flags (_SENT, _MISMATCHED, _RESPONDED) by (phone address, request id):
        # the sent flag is also what identifies a re-sent request.
        self._requests: dict[tuple[str, int], int] = {}
        self._gave_up = 0
        self._refusals: set[tuple[str, int | None, str | None]] = set()
        # What identifies the other re-sent message types (_SEND_HANDLERS) across re-sends:
        self._sent_subscribes: set[str] = set()  # phone id
        self._sent_promotions: set[str] = set()  # sender
        self._resent = 0
        self._faults: Counter[str] = Counter()
        self._last_t = 0.0
        # Dispatch on the event kind, then on the message's class: one dict lookup finds
        # what to do, (the ledger's handler, the report's own, whether it names the
        # receipt), and each is called straight from sent/received: the ledger's first (its
        # promises are defined there, once), then the report's, handed the receipt's record.
        self._on_send: dict[type[Message], _Dispatch] = {
            cls: _idle_as_such(_dispatch(self, ledger, "send", cls, _SEND_HANDLERS))
            for cls in _TYPE_NAMES
        }
        self._on_recv: dict[type[Message], _Dispatch] = {
            cls: _idle_as_such(_dispatch(self, ledger, "recv", cls, _RECV_HANDLERS))
            for cls in _TYPE_NAMES
        }
        # A handler doing nothing once the ledger is reliable (the acknowledgements') is
        # called until it has been called once, then no more (_retire_idle).
        for kind, table in (("send", self._on_send), ("recv", self._on_recv)):
            for cls, (promise, mine, named) in table.items():
                if promise is not None and self._idle_once_reliable(kind, cls):
                    table[cls] = (self._retiring(promise), mine, named)

    def _idle_once_reliable(self, kind: str, cls: type[Message]) -> bool:
        return self._ledger.idle_once_reliable(kind, _TYPE_NAMES[cls])

    def _retiring(self, handler: Handler) -> Handler:
        """``handler``, then every idle handler retired (the ledger is reliable now)."""

        def first(frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
            handler(frm, to, record, t, body)
            self._retire_idle()

        return first

    def _retire_idle(self) -> None:
        """Once the ledger is reliable, the handlers idle from then on are not called."""
        if not self._ledger.reliable:
            return
        for kind, table in (("send", self._on_send), ("recv", self._on_recv)):
            for cls, (promise, mine, named) in table.items():
                if promise is not None and self._idle_once_reliable(kind, cls):
                    table[cls] = _idle_as_such((None, mine, named))

    # The four events of every step, as calls (actors.EventSink). Receipts are named by
    # merchant and id (MERCHANT/RECEIPT), as the trace names them (TraceEvent.receipt).

    # sent and received run for most of a run's events: finding the record of a message
    # naming its receipt and merchant (_BY_FIELDS) is written out here, and both handlers
    # are called from here, not one from the other (one or two calls fewer per event).

    def sent(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        self._last_t = t
        if sender == CLOUD:
            self._ledger.cloud_went_on()
        entry = self._on_send[type(message)]
        if entry is _IDLE:
            return
        promise, mine, named = entry
        if named == _BY_FIELDS:
            about: Any = message  # a class with both fields (_names)
            record = self._by_id.get(about.receipt_id)
            if record is None or record[_R_MERCHANT] != about.merchant_id:
                record = self._record_of(t, sender, recipient, about)
        elif named:
            record = self._message_record(t, sender, recipient, message)
        else:
            record = None
        if promise is not None:
            promise(sender, recipient, record, t, message)
        if mine is not None:
            mine(record, sender, recipient, t, message)

    def received(self, t: float, sender: Address, recipient: Address, message: Message) -> None:
        self._last_t = t
        if recipient == CLOUD and self._atomic_steps:
            self._ledger.cloud_went_on()
        entry = self._on_recv[type(message)]
        if entry is _IDLE:
            return
        promise, mine, named = entry
        if named == _BY_FIELDS:
            about: Any = message  # a class with both fields (_names)
            record = self._by_id.get(about.receipt_id)
            if record is None or record[_R_MERCHANT] != about.merchant_id:
                record = self._record_of(t, sender, recipient, about)
        elif named:
            record = self._message_record(t, sender, recipient, message)
        else:
            record = None
        if promise is not None:
            promise(sender, recipient, record, t, message)
        if mine is not None:
            mine(record, sender, recipient, t, message)

    def noted(self, t: float, actor: Address, note: Note) -> None:
        self._last_t = t
        kind = note.kind
        receipt: str | None = None
        named = self._notes_named.get(kind)
        if named is None:  # the ledger asked once per kind of note
            named = self._notes_named[kind] = self._ledger.reads_note_receipt(kind)
        if named:
            # A note naming its merchant names its receipt as the messages about it do
            # (TraceEvent.receipt: MERCHANT/RECEIPT): their record, handed to the ledger.
            merchant, receipt_id = note.merchant_id, note.receipt_id
            record = None
            if merchant is not None and receipt_id is not None:
                record = self._by_id.get(receipt_id)
                if record is None or record[_R_MERCHANT] != merchant:
                    record = self._by_key.get((receipt_id, merchant))
            if record is None:
                receipt = self._note_receipt(t, actor, note)
            elif kind == "shown":
                self._ledger.shown_note(actor, record, t, note.detail)
                return
            else:
                receipt = record[RECEIPT_NAME]
        self._ledger.note(actor, kind, receipt, t, note.detail)
        if kind == OutboxNote.GAVE_UP:
            self._gave_up += 1

    def _note_receipt(self, t: float, actor: Address, note: Note) -> str | None:
        """``TraceEvent.receipt`` of a note no message's record names: built once per
        (receipt id, merchant id, actor)."""
        key = (note.receipt_id, note.merchant_id, actor)
        receipt = self._note_receipts.get(key, _UNNAMED)
        if receipt is _UNNAMED:
            receipt = TraceEvent(t, _NOTE, actor, actor, None, note).receipt
            self._note_receipts[key] = receipt
        return cast(str | None, receipt)

    def _message_record(
        self, t: float, sender: Address, recipient: Address, message: Message
    ) -> Record | None:
        """The record of the receipt a message names (None: none), found by its fields or,
        a refusal's (named by its POS too), by ``TraceEvent.receipt``."""
        about: Any = message
        if (
            type(message) is not ErrorReply
            and {"receipt_id", "merchant_id"} <= _FIELDS[type(message)]
        ):
            record = self._by_id.get(about.receipt_id)
            if record is None or record[_R_MERCHANT] != about.merchant_id:
                record = self._record_of(t, sender, recipient, about)
            return record
        receipt = TraceEvent(t, _SEND, sender, recipient, message).receipt
        return None if receipt is None else self._ledger.record(receipt)

    def _record_of(self, t: float, sender: Address, recipient: Address, about: Any) -> Record:
        """The record of the receipt ``about`` (a message naming both ids) names, when
        its id did not find it: another merchant's receipt of that id, or a new one (its
        name is the event's, TraceEvent.receipt)."""
        if about.receipt_id not in self._by_id:
            # The first receipt of its id (most receipts): none in _by_key either, which
            # holds only the receipts of an id _by_id has (another merchant's). Named as
            # TraceEvent.receipt names a message naming both ids, without the event.
            record = self._ledger.record(receipt_key(about.merchant_id, about.receipt_id))
            record[_R_MERCHANT] = about.merchant_id
            self._by_id[about.receipt_id] = record
            return record
        key = (about.receipt_id, about.merchant_id)
        found = self._by_key.get(key)
        if found is not None:
            return found
        record = self._ledger.record(receipt_key(about.merchant_id, about.receipt_id))
        record[_R_MERCHANT] = about.merchant_id
        self._by_key[key] = record
        return record

    def _first(self, record: Record, slot: int, who: str) -> bool:
        """Is ``who`` new in ``slot`` of the receipt's ``record`` (a first sender of a
        message, a first phone)? The first is kept in the record, the rest in _more."""
        first = record[slot]
        if first is None:
            record[slot] = who
            return True
        if first == who:
            return False
        key = (slot, record[RECEIPT_NAME], who)
        if key in self._more:
            return False
        self._more.add(key)
        return True

    def fired(self, t: float, actor: Address, key: object) -> None:
        self._last_t = t
        if actor == CLOUD:
            # A PushDue's receipt by the name its record keeps (the upload that armed it
            # made one), else named afresh (push_due_receipt: the trace's name, the same).
            if type(key) is PushDue:
                record = self._by_id.get(key.receipt_id)
                if record is None or record[_R_MERCHANT] != key.merchant_id:
                    record = self._by_key.get((key.receipt_id, key.merchant_id))
                if record is not None:
                    self._ledger.push_due_record(record)
                    return
            pushed = push_due_receipt(key)
            if pushed is not None:
                self._ledger.push_due(pushed)

    def __call__(self, event: TraceEvent) -> None:
        t, kind, sender, recipient, message, note, detail = event
        if message is not None:
            if kind is _SEND:
                self.sent(t, sender, recipient, message)
            elif kind is _RECEIVE:
                self.received(t, sender, recipient, message)
            else:
                self._last_t = t
                self._ledger.message(
                    kind,
                    sender,
                    recipient,
                    _TYPE_NAMES[type(message)],
                    event.receipt,
                    t,
                    message,
                )
                if kind is _DROP:
                    self._faults[f"drop-{detail}"] += 1
                elif kind is _DUPLICATE or kind is _DELAY:
                    self._faults[kind] += 1
        elif kind is _TIMER:
            self.fired(t, sender, detail)
        elif kind is _NOTE and note is not None:
            self.noted(t, sender, note)
        else:
            self._last_t = t
            if kind is _CRASH or kind is _RESTART:
                self._faults[kind] += 1
                self._ledger.down(sender, "" if detail is None else str(detail))

    # The report's own handlers, one per (kind, message class) it counts: see the tables.
    # Each is called after the ledger's handler of the same event, with the record of the
    # event's receipt (None if it names none).

    def _send_upload(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if not self._first(record, _R_UPLOADER, frm):
            self._resent += 1
            return
        if record[_R_PURCHASED_AT] is None:
            record[_R_PURCHASED_AT] = m.purchased_at

    def _send_request(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        key = (frm, m.request_id)
        flags = self._requests.get(key, 0)
        if flags & _SENT:
            self._resent += 1
        else:
            self._requests[key] = flags | _SENT

    def _send_push(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if not self._first(record, _R_PUSHED_TO, m.phone_id):
            self._resent += 1

    def _send_notice(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if not self._first(record, _R_NOTICE_FROM, frm):
            self._resent += 1

    def _send_subscribe(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if m.phone_id in self._sent_subscribes:
            self._resent += 1
        else:
            self._sent_subscribes.add(m.phone_id)

    def _send_promotion(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if frm in self._sent_promotions:
            self._resent += 1
        else:
            self._sent_promotions.add(frm)

    def _recv_upload(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if to == CLOUD and record[_R_NAMED] is None:
            record[_R_NAMED] = m.phone_id

    def _recv_request(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if to == CLOUD:
            named = record[_R_NAMED]
            if named is not None and named != m.phone_id:
                key = (frm, m.request_id)
                self._requests[key] = self._requests.get(key, 0) | _MISMATCHED

    def _recv_upload_ack(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if to != CLOUD and not to.startswith(_PHONE):
            record[_R_ACKNOWLEDGED] = True

    def _recv_response(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if to != CLOUD and to.startswith(_PHONE):
            key = (to, m.request_id)
            self._requests[key] = self._requests.get(key, 0) | _RESPONDED

    def _recv_error(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if to != CLOUD and to.startswith(_PHONE):
            self._refusals.add((to, m.request_id, m.receipt_id))

    def _recv_push(self, record: Record, frm: str, to: str, t: float, m: Any) -> None:
        if to != CLOUD and to.startswith(_PHONE):
            phone = to.removeprefix(_PHONE)
            if m.reason is PushReason.DUAL_SEND:
                self._first(record, _R_DUAL_SENT_TO, phone)
            else:
                self._first(record, _R_TIMEOUT_PUSHED_TO, phone)

    def judgement(self) -> Judgement:
        """The promises broken so far, with their receipts and reasons: ``lost`` and
        ``duplicates`` are counts of these, as ``assocsim check`` lists them."""
        return self._ledger.judge(self._last_t)

    def latencies(self) -> list[float]:
        """Purchase-to-shown times (virtual seconds), one per (receipt, phone), sorted.

        The figures ``latency_p50``, ``latency_p95`` and ``latency_max`` are read off this list.
        """
        shown = self._ledger.shown_slots()
        latencies = []
        for record in self._ledger.records():
            purchased = record[_R_PURCHASED_AT]
            if purchased is not None:
                for t in record[shown]:
                    if t is not None:
                        latencies.append(t - purchased)
        latencies.sort()
        return latencies

    def report(self, *, scenario: str, seed: int, latencies: list[float] | None = None) -> Report:
        """The figures so far; ``latencies``: what :meth:`latencies` just gave, if the
        caller has it (they are sorted once, not twice)."""
        judged = self.judgement()
        if latencies is None:
            latencies = self.latencies()
        # How many records have each owner slot set, read out in C (the end of a run
        # visits every record).
        records = self._ledger.records()
        purchases, timeout_pushed, dual_sent = (
            len(records) - list(map(itemgetter(slot), records)).count(None)
            for slot in (_R_PURCHASED_AT, _R_TIMEOUT_PUSHED_TO, _R_DUAL_SENT_TO)
        )
        acknowledged = list(map(itemgetter(_R_ACKNOWLEDGED), records)).count(True)  # or None: not
        more = Counter(key[0] for key in self._more)  # the second and later, by slot
        # judge() counted the phones shown each receipt if it judged by them (reliable)
        delivered = judged.shown_checked if self._ledger.reliable else self._ledger.shown_count()
        requests = Counter[int]()
        for flags in self._requests.values():
            requests[flags] += 1
        faults = self._faults
        return Report(
            scenario=scenario,
            seed=seed,
            purchases=purchases,
            uploads_acknowledged=acknowledged,
            requests=_with(requests, _SENT),
            responses=_with(requests, _RESPONDED),
            refusals=len(self._refusals),
            pushes=timeout_pushed + more[_R_TIMEOUT_PUSHED_TO],
            mismatches=_with(requests, _MISMATCHED),
            dual_sends=dual_sent + more[_R_DUAL_SENT_TO],
            withheld=judged.withheld,
            delivered=delivered,
            lost=len(judged.lost),
            duplicates=len(judged.duplicates),
            deliveries_per_purchase=delivered / purchases if purchases else 0.0,
            latency_p50=_percentile(latencies, 0.50),
            latency_p95=_percentile(latencies, 0.95),
            latency_max=latencies[-1] if latencies else None,
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


def _with(counts: Counter[int], flag: int) -> int:
    """How many requests have ``flag``, of ``counts`` (requests by their flags)."""
    return sum(n for flags, n in counts.items() if flags & flag)


def _names(
    kind: str, cls: type[Message], own: Mapping[type[Message], str], ledger: PromiseLedger
) -> bool | int:
    """Must a ``kind`` event of a ``cls`` message be named? Yes if the ledger has a handler
    that reads the receipt, or the report has one (all of them but _RECEIPT_BLIND's);
    :data:`_BY_FIELDS` if the message's own fields name it (every class but a refusal,
    named by its POS too, and those without both ids)."""
    mine = own.get(cls)
    typ = _TYPE_NAMES[cls]
    named = (ledger.handler(kind, typ) is not None and ledger.reads_receipt(kind, typ)) or (
        mine is not None and mine not in _RECEIPT_BLIND
    )
    if named and cls is not ErrorReply and {"receipt_id", "merchant_id"} <= _FIELDS[cls]:
        return _BY_FIELDS
    return named


_UNNAMED: Any = object()  # a receipt not named yet (None is a name: no receipt)
_BY_FIELDS = 2  # named by (receipt_id, merchant_id), both fields of every message of the class
_FIELDS: dict[type[Message], frozenset[str]] = {
    cls: frozenset(field.name for field in attrs.fields(cls)) for cls in _TYPE_NAMES
}

# The report's figures of a receipt, in the owner slots of the receipt's one record
# (scenarios._sim._promises: its name is RECEIPT_NAME): its merchant; when it was bought
# (its first upload sent); the phone its first upload at the cloud named; whether its POS
# got an acknowledgement; then the first POS that sent its upload, the first phone the
# cloud pushed it to, the first sender of its notice, the first phone that received its
# timeout push and its dual-send (the others, if any, in ReportBuilder._more).
(
    _R_MERCHANT,
    _R_PURCHASED_AT,
    _R_NAMED,
    _R_ACKNOWLEDGED,
    _R_UPLOADER,
    _R_PUSHED_TO,
    _R_NOTICE_FROM,
    _R_TIMEOUT_PUSHED_TO,
    _R_DUAL_SENT_TO,
) = range(OWNED, OWNED + 9)
_OWNER_SLOTS = 9
_SENT, _MISMATCHED, _RESPONDED = 1, 2, 4  # a request's flags

_Own = Callable[["Record | None", str, str, float, Any], None]
"""The report's own handler of a message: ``mine(record, frm, to, t, message)``, with the
record of the message's receipt (None if it names none)."""

_Dispatch = tuple["Handler | None", "_Own | None", "bool | int"]
"""What a ``send`` or ``recv`` of one message class does: the ledger's handler, then the
report's own (None: none), and whether (and how) the receipt is named (:func:`_names`)."""


_IDLE: _Dispatch = (None, None, False)
"""The dispatch entry of a message class nobody reads (an acknowledgement once the ledger is
reliable, a notice received: a quarter of a run's events); ``sent`` and ``received`` return
on it at once, by identity: any other entry, even an equal one, takes the whole path."""


def _idle_as_such(entry: _Dispatch) -> _Dispatch:
    """``entry``, or :data:`_IDLE` itself if it does nothing (is equal to it)."""
    return _IDLE if entry == _IDLE else entry


def _dispatch(
    builder: ReportBuilder,
    ledger: PromiseLedger,
    kind: str,
    cls: type[Message],
    own: Mapping[type[Message], str],
) -> _Dispatch:
    name = own.get(cls)
    mine = cast("_Own", getattr(builder, name)) if name is not None else None
    return ledger.handler(kind, _TYPE_NAMES[cls]), mine, _names(kind, cls, own, ledger)


_SEND_HANDLERS: dict[type[Message], str] = {
    # The message types a sender re-sends until acknowledged: each counted once.
    PurchaseUpload: "_send_upload",
    AssociationRequest: "_send_request",
    AssociationPush: "_send_push",
    ReceiptNotice: "_send_notice",
    Subscribe: "_send_subscribe",
    PromotionUpdate: "_send_promotion",
}
"""The report's own handler (a method's name) of a message sent, by its class."""

_RECV_HANDLERS: dict[type[Message], str] = {
    PurchaseUpload: "_recv_upload",
    AssociationRequest: "_recv_request",
    UploadAck: "_recv_upload_ack",
    AssociationResponse: "_recv_response",
    ErrorReply: "_recv_error",
    AssociationPush: "_recv_push",
}
"""The report's own handler (a method's name) of a message received, by its class."""

_RECEIPT_BLIND = frozenset({"_send_subscribe", "_send_promotion"})
"""The report's own handlers that never read the receipt."""
