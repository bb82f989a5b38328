"""The protocol's promises to its users, judged in one place.

:class:`PromiseLedger` is fed a run's events in order and judges, at the end, which
promises were broken. :class:`~scenarios.ReportBuilder` (the report's ``lost``,
``duplicates`` and ``withheld``) and :class:`~scenarios.TraceChecker` (the invariants
``no-delivery-lost`` and ``no-duplicate-shown``, and ``timeout-push``'s push after a
delivery) both read their verdicts off it, so the report and ``assocsim check`` cannot
disagree. It reads live :class:`~actors.TraceEvent` values and trace-file records alike:
each caller passes the event's kind, addresses, message type, receipt and body, and a
function reading a field of that body (an attribute of a message, a key of a JSON body).

**Owed.** An upload the cloud acknowledged (its first ``upload-ack``; the named phone is
the one in that POS's last upload of the receipt the cloud received) is owed to its named
phone P when P had subscribed, as the trace shows it: the cloud sent P a ``subscribe-ack``

* before the push deadline: the upload's first arrival at the cloud plus
  ``cloud.push_timeout`` (step 603; as ``timeout-push`` judges "not early");
* or before the cloud's ``PushDue`` timer for the receipt fired, if that is later (a
  cloud that was down at the deadline, or stored the upload only from a re-send after a
  crash, decides then);
* or before the cloud answered a mismatched requester for the receipt (unit 8022: both
  devices get the products).

Without the settings (no ``push_timeout``), the timer alone bounds it, and with no timer
either, a subscription at any time makes the delivery owed. What the cloud under test
notes about itself (``push-withheld``, ``dual-send-withheld``) is never read.

The cloud's side of these promises is the receipt lifecycle, the table of
``protocol/_machines/_lifecycle.py`` (``docs/protocol.md``): the report's ``withheld`` counts the
receipts whose named phone had not subscribed in time, those the cloud's table takes by
``push-due-not-subscribed`` to ``withheld``; a timeout push after a delivery is a
``push-due-subscribed`` the table refuses (``already-delivered``). The ledger re-derives
both from the trace alone.

**Lost** (``no-delivery-lost``, at the end): an owed delivery never shown at P; a request
a phone sent with no reply at that phone; an upload a POS sent neither acknowledged nor
refused at that POS (a second POS uploading the receipt is owed its own answer); a
subscription the cloud received but never answered (nothing else would cover that one); a
phone whose subscription gave up (its ``gave-up`` note of a ``subscribe``) that then
received a receipt notice and never subscribed again (no ``subscribe`` of it reached the
cloud after, nor did its subscription give up again, so it re-sent none) and was never
acknowledged by the cloud: every later purchase of it would be withheld for ever. A phone that
does not subscribe by design (the scenario's unsubscribed phones) never sends a
subscription, so never gives one up: the trace tells them apart by that alone.
A ``gave-up`` note of the sender for the receipt excuses an unanswered request or upload
only where the network (or a crash) could have lost it: not one that reached the cloud
(a ``recv`` there) with no answer the cloud sent that sender after it (an ``upload-ack``
or ``error-reply`` naming the receipt to that POS; a response or refusal of that request
id to that phone) and no crash or restart of the cloud after it. The cloud's answer sent
and then lost is excused; a cloud that received the message and said nothing is not.

**Duplicates**: a phone shown a receipt's products twice (``no-duplicate-shown``), and a
timeout push first sent to a phone the cloud had already answered, or dual-sent, that
receipt (``timeout-push``). A trace without ``shown`` notes or acknowledgements (written
before phones made them) is judged by what the phones received instead.

**One record per receipt.** Every fact of a receipt, and of the receipt at each phone it
reached, is in one flat list (:meth:`PromiseLedger.record`), found by one probe of the
receipt's name, or handed to the handlers by a caller that found it by the message's ids
(the report, whose own figures of the receipt share the record): an event touches one
record, not a table per fact (at 100k purchases the fold's cost was mostly cache misses).
Report and checker share it, so ``tests/scenarios/test_promises_spec.py`` holds it to a
specification of the promises stated over whole runs (``tests/scenarios/promises_spec.py``)
on generated runs: the verdicts, each record's slots and group order, forks; and the report
to ``report_spec.py`` on the built-in scenarios.

**Why no receipt's facts are retired.** The ledger keeps a record per receipt (and a
record per request) to the end of the run, so a run's fold grows with its
purchases (``bench/simpy_peer.py``). Retiring a receipt once its promises are settled would
need a moment after which no event can name it again, and the trace has none:

* a late ``shown`` note of (P, R) is a ``no-duplicate-shown`` violation whose detail
  carries the first time P was shown R (``_P_SHOWN``), and in a trace without acknowledgements
  a late response or push received needs the first one (``_replied``, ``_P_PUSHED``);
* a late timeout push of R to P is a ``timeout-push`` violation if the cloud had answered
  or dual-sent R to P, with that time (``_P_RESPONDED``, ``_P_DUAL_SENT``);
* a late answer to a mismatched requester of R makes the named phone owed (``_OWED``), so
  a receipt withheld so far becomes lost, judged by the binding, the arrival and ``_P_SHOWN``;
* a re-sent upload (a POS re-sending after a crash, or a network's delayed copy) is told
  from a first by ``_uploads``, and its phone replaces the named one if it comes from the
  first uploading POS (``_R_NAMED``: what the binding and so ``lost`` read);
* the cloud under test may do any of these at any time: the planted clouds push after an
  answer, never push, or drop a dual-send, and a duplicating or delaying network delivers
  a copy arbitrarily late within the scenario's fault window.

Each of these verdicts is listed with its receipt, actors and times, and the report's must
be the checker's one for one (``tests/scenarios/test_promises_agree.py``), so what each
needs cannot be folded into counters or a set of retired receipt numbers without changing
the verdicts. A bound would need a horizon from the scenario (the last fault, the retry
policy's longest re-send window, the last restart) after which a receipt's record may be
dropped, and the reference cloud only: not done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from types import MethodType
from typing import Any, NamedTuple, cast

import attrs

from actors import CRASH_BETWEEN_STEPS, receipt_key
from protocol import PushDue
from scenarios._model._scenario import Scenario

__all__ = [
    "NO_DELIVERY_LOST",
    "NO_DUPLICATE_SHOWN",
    "OWNED",
    "RECEIPT_NAME",
    "TIMEOUT_PUSH",
    "Broken",
    "Judgement",
    "PromiseLedger",
    "Record",
    "attribute_field",
    "copied_facts",
    "json_field",
    "push_due_receipt",
    "push_timeout_of",
]

CLOUD = "cloud"
_PHONE = "phone:"
_PHONE_LEN = len(_PHONE)
EPSILON = 1e-6  # virtual seconds: deadlines are sums of floats
_ACK_TYPES = frozenset({"push-ack", "notice-ack", "promotion-ack"})
# The repr of PushDue(receipt_id, merchant_id) in a trace (ids are tokens, never quotes);
# a trace of format 1 has no merchant_id: its receipts are keyed by their id alone.
_PUSH_DUE = re.compile(r"PushDue\(receipt_id='([^']*)'(?:, merchant_id='([^']*)')?\)")

# The handlers that never read the receipt (tests/scenarios/test_report_fold.py checks
# it), and the notes whose receipt note() reads:
_RECEIPT_BLIND = frozenset(
    {("send", "subscribe-ack"), ("recv", "subscribe"), ("recv", "association-request")}
    | {("recv", "receipt-notice")}
    | {(kind, ack) for kind in ("send", "recv") for ack in _ACK_TYPES}
)
_NOTES_NAMED = frozenset({"shown", "gave-up"})

NO_DELIVERY_LOST = "no-delivery-lost"
# In an outbox's gave-up note of a subscription (Outbox.resend_due): "no answer to subscribe for"
_SUBSCRIPTION_GAVE_UP = "no answer to subscribe "
NO_DUPLICATE_SHOWN = "no-duplicate-shown"
TIMEOUT_PUSH = "timeout-push"

Field = Callable[[Any, str], Any]
"""Reads one field of a message body: ``field(body, "request_id")``."""

Record = list[Any]
"""A receipt's record: every fact the ledger keeps of it (:meth:`PromiseLedger.record`)."""

Handler = Callable[[str, str, "Record | None", float, Any], None]
"""What the ledger does for one message: ``handler(frm, to, record, t, body)``, with the
record of the message's receipt (None: it names none)."""


def json_field(body: Any, name: str) -> Any:
    """A field of a JSON message body (a trace record's ``msg``)."""
    return body.get(name)


def attribute_field(body: Any, name: str) -> Any:
    """A field of a :class:`~protocol.Message` (its attribute)."""
    return getattr(body, name, None)


def push_due_receipt(key: object) -> str | None:
    """The receipt of a cloud's ``PushDue`` timer key (the key, or its ``repr`` in a trace),
    named as the trace names receipts: ``MERCHANT/RECEIPT`` (:func:`actors.receipt_key`)."""
    if isinstance(key, PushDue):
        return receipt_key(key.merchant_id, key.receipt_id)
    if isinstance(key, str):
        match = _PUSH_DUE.fullmatch(key)
        return receipt_key(match.group(2), match.group(1)) if match is not None else None
    return None


def push_timeout_of(settings: Scenario | Mapping[str, Any] | None) -> float | None:
    """``cloud.push_timeout`` of a scenario or its settings dict (None: not given)."""
    if isinstance(settings, Scenario):
        return float(settings.cloud.push_timeout)
    if settings is None:
        return None
    cloud = settings.get("cloud")
    timeout = cloud.get("push_timeout") if isinstance(cloud, Mapping) else None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        return None
    return float(timeout)


class Broken(NamedTuple):
    """One promise not kept: which invariant, for which receipt, between whom, when."""

    invariant: str
    receipt: str | None
    actors: tuple[str, ...]
    times: tuple[float, ...]
    detail: str


def _broken(
    invariant: str, receipt: str | None, actors: Iterable[str], times: Iterable[float], why: str
) -> Broken:
    return Broken(invariant, receipt, tuple(dict.fromkeys(actors)), tuple(times), why)


@attrs.frozen
class Judgement:
    """The verdicts at the end of a run: what was lost, what was shown twice."""

    lost: tuple[Broken, ...]
    lost_checked: int  # owed deliveries, requests, uploads and subscriptions judged
    shown_twice: tuple[Broken, ...]
    shown_checked: int  # (phone, receipt) pairs shown (or received)
    pushed_after: tuple[Broken, ...]  # timeout pushes after the phone had the products
    withheld: int  # acknowledged uploads owed nothing: the named phone had not subscribed

    @property
    def duplicates(self) -> tuple[Broken, ...]:
        return self.pushed_after + self.shown_twice


class _Bound(NamedTuple):
    phone: str  # the phone id the POS named
    pos: str
    t: float  # the cloud's first upload-ack


# A _Bound made in C, from a tuple of its fields, once per receipt bound (the class's
# generated __new__ is a Python frame: 0.30 us a call against 0.16, timeit).
_new_bound = tuple.__new__


# A receipt's record, every fact the ledger keeps of it in one flat list of atoms (found
# by one dict probe; a fork copies it in one call; the checker freezes it at C speed):
# its name (TraceEvent.receipt); its upload first at the cloud; flags; the POS whose upload
# the cloud received first and the phone its last upload named (other POSes:
# _other_uploads); the binding (the phone, its POS, the first upload-ack; also in `bound`,
# which keeps the order bound); then OWNER_SLOTS slots for the caller's own figures of the
# receipt (the report's); then one group of _PAIR slots per address the receipt reached.
RECEIPT_NAME = 0
_R_ARRIVED, _R_FLAGS, _R_UPLOADER, _R_NAMED, _R_PHONE, _R_POS, _R_BOUND_AT = range(1, 8)
OWNED = 8  # the first of a record's owner slots
_TIMER_FIRED = 2  # the cloud's PushDue timer of the receipt fired
_OWED = 4  # owed by the cloud's timer or a mismatch (step 603, unit 8022)

# A (receipt, address) group, at its address's position in the record, groups sorted by
# address (so equal facts are equal records, whatever order they came in): when the cloud
# first sent the products there (any way), answered a request, dual-sent; whether it
# timeout-pushed; when the phone first received the products (any way), and a push; when
# it was first shown them (a ``shown`` note). Offsets from the address's position:
_P_DELIVERED, _P_RESPONDED, _P_DUAL_SENT, _P_TIMEOUT_PUSHED, _P_RECEIVED, _P_PUSHED = range(1, 7)
_P_SHOWN = 7
_PAIR = 8
_NEW_PAIR = [None, None, None, False, None, None, None]  # a group's slots after its address
_RECEIPT_TAIL = [None, 0, None, None, None, None, None]  # a record's slots after its name


def _pair_at(record: list[Any], address: str, start: int) -> int:
    """Where the group of ``address`` is in ``record`` (groups from ``start``, in address
    order): found, or made at its place. (The handlers look at ``start`` first themselves:
    most receipts reach one phone.)"""
    at, end = start, len(record)
    while at < end:
        found = record[at]
        if found == address:
            return at
        if found > address:
            break
        at += _PAIR
    record[at:at] = [address, *_NEW_PAIR]
    return at


def _found_pair(record: list[Any] | None, address: str, start: int) -> int:
    """Where the group of ``address`` is in ``record``; -1: none. Only an address is a
    string among the groups, so ``list.index`` finds it in C."""
    if record is None:
        return -1
    try:
        return record.index(address, start)
    except ValueError:
        return -1


def copied_facts(value: Any) -> Any:
    """A container of facts copied for another ledger or checker (their ``fork``): one
    level, and each list a table keeps per key (a record, gave-up details) too; any other
    value is returned as it is (the values kept in the containers are immutable)."""
    cls = type(value)
    if cls is dict:
        table = value.copy()
        if list in map(type, value.values()):  # checked in C: most tables have none
            for key, record in value.items():
                if type(record) is list:
                    table[key] = record.copy()
        return table
    if cls is set or cls is list:
        return value.copy()
    return value


def _rebound(handlers: dict[str, Handler], ledger: PromiseLedger) -> dict[str, Handler]:
    """A dispatch table's methods bound to ``ledger`` instead (see :meth:`PromiseLedger.fork`)."""
    return {typ: MethodType(cast(MethodType, h).__func__, ledger) for typ, h in handlers.items()}


class PromiseLedger:
    """Folds a run's events, in order, into the facts the promises need; :meth:`judge`
    gives the verdicts. ``push_timeout`` is the scenario's (None: unknown); ``field``
    reads a message body (:func:`json_field` or :func:`attribute_field`);
    ``owner_slots``: how many slots each receipt's record keeps for its caller's own
    figures (from :data:`OWNED`; the report's, which shares the records)."""

    def __init__(
        self,
        push_timeout: float | None = None,
        *,
        field: Field = json_field,
        owner_slots: int = 0,
        atomic_steps: bool = True,
    ) -> None:
        self.push_timeout = push_timeout
        self._field = field
        # Does the cloud handle each message in a step of its own, committed before the
        # next (the simulator, the explorer), or several in a batch committed together
        # (``serve cloud``)? With atomic steps, the next message or PushDue timer the cloud
        # takes shows the step before it was committed, as a message it sends does.
        self.atomic_steps = atomic_steps
        self.reliable = False  # shown notes or acknowledgements: judge by what was shown
        # Every fact of a receipt, at each address too, is in its one record (_R_*, _P_*),
        # found by one probe of the receipt's name, or handed over by the caller that
        # found it (the report): an event reads and writes one record, not a table per
        # fact (a run's cost per event was mostly cache misses over the tables).
        self._receipts: dict[str, list[Any]] = {}  # receipt -> its record
        self._pairs_at = OWNED + owner_slots  # where a record's (receipt, address) groups start
        self._tail = _RECEIPT_TAIL + [None] * owner_slots  # a new record's slots after its name
        self.bound: dict[str, _Bound] = {}  # in the order bound: the order lost is listed in
        self._other_uploads: dict[tuple[str, str], str] = {}  # (receipt, POS) -> named phone
        self._uploads: dict[tuple[str, str], float] = {}  # (receipt, POS) -> first sent
        self._settled: set[tuple[str, str]] = set()  # (receipt, POS) acknowledged or refused
        # What reached the cloud with no answer sent since, and no crash or restart of the
        # cloud since (what a give-up does not excuse): (receipt, POS) of an upload and
        # (phone address, request id) of a request -> the first such arrival
        self._unanswered_uploads: dict[tuple[str, str], float] = {}
        self._unanswered_requests: dict[tuple[str, object], float] = {}
        # Of those, the arrivals since the cloud last went on (cloud_went_on): the ones a
        # crash of the cloud may have lost (a step's or a batch's writes are committed
        # before its messages are sent). A crash hours later excused them all (reviewer Q).
        self._in_doubt_uploads: list[tuple[str, str]] = []
        self._in_doubt_requests: list[tuple[str, object]] = []
        # PushAcks the cloud took, (receipt, phone address), in doubt as those arrivals are
        # (a crash before the cloud went on may have lost them), then acknowledged for good
        # (push-acknowledged: the checker's lifecycle rule reads it). No times: a time
        # would split the explorer's states for a verdict that needs none.
        self._acks_in_doubt: list[tuple[str, str]] = []
        self.acked: set[tuple[str, str]] = set()
        self._subscribed: dict[str, float] = {}  # phone id -> the cloud's first subscribe-ack
        self._asked: dict[str, float] = {}  # phone address -> its subscribe first at the cloud
        # Phones whose subscription gave up and that have not subscribed since: phone
        # address -> when it last gave up (None: a notice reached it since, judged below);
        # the first notice after each give-up, (phone, gave up, noticed, the receipt),
        # until the phone subscribes again: each left a no-delivery-lost at the end.
        self._unsubscribed_after: dict[str, float | None] = {}
        self._noticed_unsubscribed: list[tuple[str, float, float, str]] = []
        self._resubscriptions_owed = 0  # notices judged so (lost_checked)
        self._answered: set[str] = set()  # phone addresses the cloud answered a subscribe
        self._requests: dict[tuple[str, object], tuple[str, float]] = {}
        # (phone address, request id) -> when a response with a receipt first came (None:
        # replied to, by a refusal or a response without one)
        self._replied: dict[tuple[str, object], float | None] = {}
        self._pushed_after: list[Broken] = []
        self._shown_twice: list[Broken] = []
        self._received_twice: list[Broken] = []
        self._gave_up: dict[tuple[str, str], list[str]] = {}
        self._on_send: dict[str, Handler] = {
            "purchase-upload": self._send_upload,
            "association-request": self._send_request,
            "upload-ack": self._send_upload_ack,
            "subscribe-ack": self._send_subscribe_ack,
            "association-response": self._send_response,
            "association-push": self._send_push,
            "error-reply": self._send_error,
        }
        self._on_recv: dict[str, Handler] = {
            "purchase-upload": self._recv_upload,
            "association-request": self._recv_request,
            "subscribe": self._recv_subscribe,
            "upload-ack": self._recv_settles,
            "error-reply": self._recv_error,
            "association-response": self._recv_response,
            "association-push": self._recv_push,
            "receipt-notice": self._recv_notice,
        }
        for ack in _ACK_TYPES:
            self._on_send[ack] = self._on_recv[ack] = self._ack

    # ------------------------------------------------------------------ feeding

    def message(  # noqa: PLR0917 - called for every message of a run: positional is faster
        self, kind: str, frm: str, to: str, typ: str, receipt: str | None, t: float, body: Any
    ) -> None:
        """A message event (``send``, ``recv``, or a fault on one) of type ``typ``, its
        receipt by name (a new receipt's record is kept once a handler writes to it)."""
        if kind == "send":
            if frm == CLOUD:
                self.cloud_went_on()
            handler = self._on_send.get(typ)
        elif kind == "recv":
            if to == CLOUD and self.atomic_steps:
                self.cloud_went_on()
            handler = self._on_recv.get(typ)
        else:
            if typ in _ACK_TYPES:
                self.reliable = True
            return
        if handler is None:
            return
        if receipt is None:
            handler(frm, to, None, t, body)
            return
        record = self._receipts.get(receipt)
        if record is not None:
            handler(frm, to, record, t, body)
            return
        record = [receipt, *self._tail]
        handler(frm, to, record, t, body)
        if len(record) != self._pairs_at or record[1:] != self._tail:
            self._receipts[receipt] = record

    def record(self, receipt: str) -> list[Any]:
        """The record of ``receipt`` (by name), made if new: what the handlers
        (:meth:`handler`), :meth:`shown_note` and :meth:`push_due_record` are handed. A
        caller that keeps it may write the owner slots alone."""
        record = self._receipts.get(receipt)
        if record is None:
            record = self._receipts[receipt] = [receipt, *self._tail]
        return record

    def records(self) -> Collection[list[Any]]:
        """Every receipt's record, in the order made."""
        return self._receipts.values()

    def handler(self, kind: str, typ: str) -> Handler | None:
        """What :meth:`message` does for a ``send`` or ``recv`` of type ``typ`` (None:
        nothing), for a caller that dispatches on the type once and calls it directly
        with the receipt's :meth:`record` (None: the message names no receipt)."""
        if kind == "send":
            return self._on_send.get(typ)
        if kind == "recv":
            return self._on_recv.get(typ)
        return None

    @staticmethod
    def reads_receipt(kind: str, typ: str) -> bool:
        """Does the handler of a ``send`` or ``recv`` of type ``typ`` read the receipt? A
        caller naming receipts for the ledger may pass None to one that does not (the
        acknowledgements, the subscriptions: a third of a run's messages)."""
        return (kind, typ) not in _RECEIPT_BLIND

    def idle_once_reliable(self, kind: str, typ: str) -> bool:
        """Does the handler of a ``send`` or ``recv`` of type ``typ`` do nothing once
        :attr:`reliable` is set? The ledger's own ``_ack`` only sets it (a fifth of a
        run's events are acknowledgements): a caller may stop calling it after a call.
        A subclass's own handler is not known to (it may read each acknowledgement,
        ``tests/planted/ack_counting_ledger.py``): judged by the function, not the type."""
        handler = self.handler(kind, typ)
        return getattr(handler, "__func__", None) is PromiseLedger._ack

    @staticmethod
    def reads_note_receipt(typ: str) -> bool:
        """Does :meth:`note` read the receipt of a note of type ``typ``?"""
        return typ in _NOTES_NAMED

    # One handler per (kind, type), each doing what the promises need of that message,
    # handed the record of the message's receipt (None: it names none).

    def _ack(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        self.reliable = True

    def _send_upload(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if record is not None and to == CLOUD and frm != CLOUD:
            self._uploads.setdefault((record[RECEIPT_NAME], frm), t)

    def _send_request(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if record is not None and frm.startswith(_PHONE):
            key = (frm, self._field(body, "request_id"))
            self._requests.setdefault(key, (record[RECEIPT_NAME], t))

    def _recv_upload(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if to == CLOUD and record is not None:
            named = str(self._field(body, "phone_id"))
            if record[_R_ARRIVED] is None:
                record[_R_ARRIVED] = t
                record[_R_UPLOADER] = frm
            if record[_R_UPLOADER] == frm:
                record[_R_NAMED] = named
            else:
                self._other_uploads[(record[RECEIPT_NAME], frm)] = named
            key = (record[RECEIPT_NAME], frm)
            if key not in self._unanswered_uploads:  # a re-send of one past a commit: owed
                self._unanswered_uploads[key] = t
                self._in_doubt_uploads.append(key)

    def _recv_request(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if to == CLOUD and frm.startswith(_PHONE):
            key = (frm, self._field(body, "request_id"))
            if key not in self._unanswered_requests:
                self._unanswered_requests[key] = t
                self._in_doubt_requests.append(key)

    def _recv_subscribe(
        self, frm: str, to: str, record: Record | None, t: float, body: Any
    ) -> None:
        if to == CLOUD:
            self._asked.setdefault(frm, t)
            if self._unsubscribed_after:
                self._subscribed_again(frm)

    def _subscribed_again(self, phone: str) -> None:
        """``phone`` subscribed again since its notices: its subscription reached the
        cloud, or gave up again (so it was sent again)."""
        if phone in self._unsubscribed_after:
            del self._unsubscribed_after[phone]
            noticed = self._noticed_unsubscribed
            self._noticed_unsubscribed = [n for n in noticed if n[0] != phone]

    def _recv_notice(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        """A receipt notice at a phone whose subscription gave up: it must subscribe again."""
        if not self._unsubscribed_after:
            return  # (a fifth of a run's events: no give-up, nothing to do)
        gave_up = self._unsubscribed_after.get(to)
        if gave_up is not None:  # the first notice since that give-up
            receipt = receipt_key(self._field(body, "merchant_id"), self._field(body, "receipt_id"))
            self._noticed_unsubscribed.append((to, gave_up, t, receipt))
            self._unsubscribed_after[to] = None
            self._resubscriptions_owed += 1

    def _recv_settles(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        """An ``upload-ack`` (or a refusal) received by a POS settles that POS's upload
        (another POS's upload of the receipt is owed its own answer)."""
        if record is not None and frm == CLOUD and to != CLOUD and not to.startswith(_PHONE):
            self._settled.add((record[RECEIPT_NAME], to))

    def _recv_error(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if to == CLOUD:
            return
        if to.startswith(_PHONE):
            self._replied.setdefault((to, self._field(body, "request_id")), None)
        elif frm == CLOUD and record is not None:
            self._settled.add((record[RECEIPT_NAME], to))

    def cloud_went_on(self) -> None:
        """The cloud sent a message (or, with :attr:`atomic_steps`, took another message
        or a PushDue timer): what reached it before was past its step's (or its batch's)
        commit, so a later crash cannot have lost it. Called by :meth:`message` and
        :meth:`push_due`, and by a caller feeding the handlers directly."""
        if self._in_doubt_uploads:
            self._in_doubt_uploads.clear()
        if self._in_doubt_requests:
            self._in_doubt_requests.clear()
        if self._acks_in_doubt:
            self.acked.update(self._acks_in_doubt)
            self._acks_in_doubt.clear()

    def in_doubt(self) -> bool:
        """Is anything the cloud took still in doubt (a crash now would excuse it, or
        drop a PushAck)? While it is, the cloud's next step changes this ledger."""
        return bool(self._in_doubt_uploads or self._in_doubt_requests or self._acks_in_doubt)

    def took_push_ack(self, key: tuple[str, str]) -> None:
        """The cloud took the PushAck of (receipt, phone address) ``key`` (the phone its
        own): acknowledged once the cloud goes on past its step (:meth:`cloud_went_on`)."""
        if key not in self.acked and key not in self._acks_in_doubt:  # a copy: no news
            self._acks_in_doubt.append(key)

    def push_acked(self, key: tuple[str, str]) -> bool:
        """Did the cloud take the PushAck of ``key`` past its commit? With
        :attr:`atomic_steps`, one in doubt counts too: a crash inside its step is in
        the trace before any later event of the cloud."""
        return key in self.acked or (self.atomic_steps and key in self._acks_in_doubt)

    def down(self, actor: str, point: str = "") -> None:
        """``actor`` crashed or restarted: if the cloud, what reached it unanswered since
        it last went on (:meth:`cloud_went_on`) may have been lost with it (a give-up
        excuses it again); what came before was past a commit, and stays owed its answer.
        ``point``: where a crash fell, if its event says (``between-steps``: with
        :attr:`atomic_steps`, the step that took the last arrival was committed, and a
        cloud that sent nothing in it was silent: nothing is excused; ``inside-step``, or
        not said: the step may have died before its commit)."""
        if actor == CLOUD:
            if point == CRASH_BETWEEN_STEPS and self.atomic_steps:
                self.cloud_went_on()
                return
            self._acks_in_doubt.clear()  # its step may not have committed: re-sends allowed
            uploads, requests = self._unanswered_uploads, self._unanswered_requests
            for upload in self._in_doubt_uploads:
                uploads.pop(upload, None)
            for request in self._in_doubt_requests:
                requests.pop(request, None)
            self._in_doubt_uploads.clear()
            self._in_doubt_requests.clear()

    def note(self, actor: str, typ: str, receipt: str | None, t: float, detail: str) -> None:
        """A machine's note, its receipt by name. Only what phones showed and who gave up
        count here."""
        if typ == "shown":
            self.shown_note(actor, None if receipt is None else self.record(receipt), t, detail)
        elif typ == "already-shown":
            self.reliable = True
        elif typ == "gave-up":
            if receipt is not None:
                self._gave_up.setdefault((actor, receipt), []).append(detail)
            elif actor.startswith(_PHONE) and _SUBSCRIPTION_GAVE_UP in detail:
                self._subscribed_again(actor)  # (its notices since: it did re-send)
                self._unsubscribed_after[actor] = t

    def shown_note(self, actor: str, record: Record | None, t: float, detail: str) -> None:
        """A ``shown`` note of ``actor`` (a phone), with its receipt's record."""
        self.reliable = True
        if record is None:
            return
        at = self._pairs_at
        if len(record) == at or record[at] != actor:
            at = _pair_at(record, actor, at)
        at += _P_SHOWN
        first = record[at]
        if first is None:
            record[at] = t
        else:
            receipt = record[RECEIPT_NAME]
            self._shown_twice.append(
                _broken(
                    NO_DUPLICATE_SHOWN,
                    receipt,
                    (actor,),
                    (first, t),
                    f"{actor} was shown the products of {receipt} twice: shown again ({detail})",
                )
            )

    def push_due(self, receipt: str) -> None:
        """The cloud's ``PushDue`` timer of ``receipt`` (by name) fired."""
        self.push_due_record(self.record(receipt))

    def push_due_record(self, record: Record) -> None:
        """The cloud's ``PushDue`` timer of the receipt of ``record`` fired: it decides
        step 603 now."""
        if self.atomic_steps:
            self.cloud_went_on()
        phone = record[_R_PHONE]
        if phone is not None and phone in self._subscribed:
            record[_R_FLAGS] |= _TIMER_FIRED | _OWED
        else:
            record[_R_FLAGS] |= _TIMER_FIRED

    def _send_upload_ack(
        self, frm: str, to: str, record: Record | None, t: float, body: Any
    ) -> None:
        if frm != CLOUD or record is None:
            return
        if self._unanswered_uploads:
            self._unanswered_uploads.pop((record[RECEIPT_NAME], to), None)
        if record[_R_PHONE] is None:
            if record[_R_UPLOADER] == to:
                phone = record[_R_NAMED]
            else:
                phone = self._other_uploads.get((record[RECEIPT_NAME], to))
            if phone is not None:
                record[_R_PHONE] = phone
                record[_R_POS] = to
                record[_R_BOUND_AT] = t
                self.bound[record[RECEIPT_NAME]] = _new_bound(_Bound, (phone, to, t))

    def _send_subscribe_ack(
        self, frm: str, to: str, record: Record | None, t: float, body: Any
    ) -> None:
        if frm != CLOUD:
            return
        self._answered.add(to)
        if to.startswith(_PHONE):
            self._subscribed.setdefault(to[_PHONE_LEN:], t)

    def _send_response(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if frm == CLOUD and self._unanswered_requests:
            self._unanswered_requests.pop((to, self._field(body, "request_id")), None)
        if frm != CLOUD or record is None or not to.startswith(_PHONE):
            return
        at = self._pairs_at
        if len(record) == at or record[at] != to:
            at = _pair_at(record, to, at)
        if record[at + _P_DELIVERED] is None:
            record[at + _P_DELIVERED] = t
        if record[at + _P_RESPONDED] is None:
            record[at + _P_RESPONDED] = t
        phone = record[_R_PHONE]
        if phone is not None and to[_PHONE_LEN:] != phone and phone in self._subscribed:
            record[_R_FLAGS] |= _OWED  # a mismatched requester: both devices (unit 8022)

    def _send_push(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if frm != CLOUD or record is None or not to.startswith(_PHONE):
            return
        at = self._pairs_at
        if len(record) == at or record[at] != to:
            at = _pair_at(record, to, at)
        if record[at + _P_DELIVERED] is None:
            record[at + _P_DELIVERED] = t
        reason = self._field(body, "reason")
        if reason == "dual-send":
            if record[at + _P_DUAL_SENT] is None:
                record[at + _P_DUAL_SENT] = t
        elif reason == "timeout" and not record[at + _P_TIMEOUT_PUSHED]:
            record[at + _P_TIMEOUT_PUSHED] = True
            self._judge_timeout_push(record, at, t)

    def _send_error(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if frm != CLOUD:
            return
        request_id = self._field(body, "request_id")
        if record is None and request_id is None:
            self._answered.add(to)  # a refused subscription is answered too
        if to.startswith(_PHONE):
            if self._unanswered_requests:
                self._unanswered_requests.pop((to, request_id), None)
        elif record is not None and self._unanswered_uploads:
            self._unanswered_uploads.pop((record[RECEIPT_NAME], to), None)

    def _judge_timeout_push(self, record: Record, at: int, t: float) -> None:
        to, receipt = record[at], record[RECEIPT_NAME]
        answered = record[at + _P_RESPONDED]
        if answered is not None:
            what = f"after the cloud answered {to}'s request"
        else:
            answered = record[at + _P_DUAL_SENT]
            if answered is None:
                return
            what = f"after the dual-send to {to}"
        self._pushed_after.append(
            _broken(
                TIMEOUT_PUSH,
                receipt,
                (CLOUD, to),
                (answered, t),
                f"a timeout push of {receipt} {what}",
            )
        )

    def _recv_response(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if to == CLOUD or not to.startswith(_PHONE):
            return
        request_id = self._field(body, "request_id")
        key = (to, request_id)
        replied = self._replied
        first = replied.get(key)
        if record is None:
            if key not in replied:
                replied[key] = None
            return
        at = self._pairs_at
        if len(record) == at or record[at] != to:
            at = _pair_at(record, to, at)
        if record[at + _P_RECEIVED] is None:
            record[at + _P_RECEIVED] = t
        if first is None:
            replied[key] = t
        else:
            self._receive_twice(
                record[RECEIPT_NAME], to, first, t, f"a second response to request {request_id}"
            )

    def _recv_push(self, frm: str, to: str, record: Record | None, t: float, body: Any) -> None:
        if record is None or to == CLOUD or not to.startswith(_PHONE):
            return
        at = self._pairs_at
        if len(record) == at or record[at] != to:
            at = _pair_at(record, to, at)
        if record[at + _P_RECEIVED] is None:
            record[at + _P_RECEIVED] = t
        first = record[at + _P_PUSHED]
        if first is None:
            record[at + _P_PUSHED] = t
        else:
            reason = self._field(body, "reason")
            self._receive_twice(record[RECEIPT_NAME], to, first, t, f"a second push ({reason})")

    def _receive_twice(self, receipt: str, phone: str, first: float, t: float, what: str) -> None:
        self._received_twice.append(
            _broken(
                NO_DUPLICATE_SHOWN,
                receipt,
                (phone,),
                (first, t),
                f"{phone} was shown the products of {receipt} twice: {what}",
            )
        )

    # ------------------------------------------------------------------ facts

    def subscribed_at(self, phone_id: str) -> float | None:
        """When the cloud first acknowledged ``phone_id``'s subscription (None: never yet)."""
        return self._subscribed.get(phone_id)

    def cloud_delivered(self, receipt: str, address: str) -> float | None:
        """When the cloud first sent ``receipt``'s products to ``address`` (None: never)."""
        record = self._receipts.get(receipt)
        at = _found_pair(record, address, self._pairs_at)
        return None if record is None or at < 0 else record[at + _P_DELIVERED]

    def cloud_sent(
        self, receipt: str, address: str
    ) -> tuple[float | None, float | None, float | None]:
        """When the cloud first sent ``receipt``'s products to ``address`` any way, first
        answered its request, first dual-sent to it (None: never); the checker's lifecycle
        rules read them (``scenarios/_trace/_checks.py``)."""
        record = self._receipts.get(receipt)
        at = _found_pair(record, address, self._pairs_at)
        if record is None or at < 0:
            return (None, None, None)
        return (record[at + _P_DELIVERED], record[at + _P_RESPONDED], record[at + _P_DUAL_SENT])

    def shown_slots(self) -> slice:
        """Where a record keeps when each phone it reached was first shown it (None: not
        shown): ``record[ledger.shown_slots()]``, one slot per phone in address order (the
        end of a run reads them all; a slice is taken in C)."""
        return slice(self._pairs_at + _P_SHOWN, None, _PAIR)

    def shown_count(self) -> int:
        """How many (receipt, phone) pairs were shown."""
        return self._count_set(_P_SHOWN)

    def _count_set(self, offset: int) -> int:
        """How many (receipt, address) groups have their slot at ``offset`` set: each
        record's slots of that offset sliced out and their Nones counted in C (the end of
        a run walks every record)."""
        start = self._pairs_at + offset
        count = 0
        for record in self._receipts.values():
            slots = record[start::_PAIR]
            count += len(slots) - slots.count(None)
        return count

    def _owed_since(self, record: Record, binding: _Bound) -> float | None:
        """When the named phone had subscribed, if the delivery is owed to it; else None."""
        subscribed = self._subscribed.get(binding.phone)
        if subscribed is None:
            return None
        flags = record[_R_FLAGS]
        if flags & _OWED:
            return subscribed
        timeout = self.push_timeout
        if timeout is not None:
            arrived = record[_R_ARRIVED]
            deadline = (binding.t if arrived is None else arrived) + timeout
            return subscribed if subscribed < deadline - EPSILON else None
        return None if flags & _TIMER_FIRED else subscribed

    def _gave_up_on(self, actor: str, receipt: str, message_type: str) -> bool:
        return any(message_type in detail for detail in self._gave_up.get((actor, receipt), ()))

    def fork(self) -> PromiseLedger:
        """An independent copy, cheaper than a deep one (``assocsim explore`` forks the
        checker for each new state of it): each fact container copied, and each list a
        table keeps per key (a record, gave-up details); every other value is immutable.
        The handlers are bound to the copy, which is of the ledger's own class (a
        subclass's other methods with it)."""
        new = type(self).__new__(type(self))
        new.__dict__ = {name: copied_facts(value) for name, value in vars(self).items()}
        new._on_send = _rebound(self._on_send, new)
        new._on_recv = _rebound(self._on_recv, new)
        return new

    # ------------------------------------------------------------------ verdicts

    def judge(self, end: float) -> Judgement:
        """The verdicts, the trace having ended at virtual time ``end``."""
        lost: list[Broken] = []
        checked = 0
        withheld = 0
        reliable = self.reliable
        receipts, start = self._receipts, self._pairs_at
        seen = _P_SHOWN if reliable else _P_RECEIVED
        owed_since = self._owed_since
        for receipt, binding in self.bound.items():
            record = receipts[receipt]  # made when bound
            subscribed = owed_since(record, binding)
            if subscribed is None:
                withheld += 1
                continue
            checked += 1
            address = _PHONE + binding.phone
            try:  # _found_pair's probe, inline: once per bound receipt
                at = record.index(address, start)
            except ValueError:
                at = -1
            if at >= 0 and record[at + seen] is not None:
                continue
            sent = None if at < 0 else record[at + _P_DELIVERED]
            why = (
                f"the cloud sent it at t={sent:.3f} but it was never shown"
                if sent is not None
                else "the cloud never sent it"
            )
            if self._gave_up_on(CLOUD, receipt, "association-push"):
                why += "; the cloud gave up re-sending the push"
            lost.append(
                _broken(
                    NO_DELIVERY_LOST,
                    receipt,
                    (binding.pos, CLOUD, address),
                    (binding.t, subscribed, end),
                    f"acknowledged upload never shown to the named phone {binding.phone} "
                    f"(subscribed at t={subscribed:.3f}): {why}",
                )
            )
        checked += len(self._requests) + len(self._uploads)
        lost += self._unreplied(end)
        lost += self._unsettled(end)
        for phone_address, asked_at in self._asked.items():
            checked += 1
            if phone_address in self._answered:
                continue
            lost.append(
                _broken(
                    NO_DELIVERY_LOST,
                    None,
                    (phone_address, CLOUD),
                    (asked_at, end),
                    f"the cloud received the subscription of {phone_address} at "
                    f"t={asked_at:.3f} but never acknowledged or refused it",
                )
            )
        checked += self._resubscriptions_owed
        for phone_address, gave_up, noticed, receipt in self._noticed_unsubscribed:
            if phone_address[_PHONE_LEN:] in self._subscribed:
                continue  # the cloud acknowledged it once: its receipts are owed, judged above
            lost.append(
                _broken(
                    NO_DELIVERY_LOST,
                    receipt,
                    (phone_address, CLOUD),
                    (gave_up, noticed, end),
                    f"the subscription of {phone_address} gave up at t={gave_up:.3f}; "
                    f"the receipt notice of {receipt} reached it at t={noticed:.3f} and it "
                    "never subscribed again (its later purchases withheld)",
                )
            )
        if reliable:
            shown_twice, shown_checked = self._shown_twice, self.shown_count()
        else:
            shown_twice, shown_checked = self._received_twice, self._count_set(_P_RECEIVED)
        return Judgement(
            lost=tuple(lost),
            lost_checked=checked,
            shown_twice=tuple(shown_twice),
            shown_checked=shown_checked,
            pushed_after=tuple(self._pushed_after),
            withheld=withheld,
        )

    def _unreplied(self, end: float) -> list[Broken]:
        """Each request a phone sent with no reply at that phone, unless it gave up and
        the network or a crash could have lost it (it reached the cloud with no answer
        after, and no crash of the cloud after: lost all the same)."""
        lost: list[Broken] = []
        replied, unanswered = self._replied, self._unanswered_requests
        if self._requests.keys() <= replied.keys():
            return lost  # every request replied to (checked in C): none to walk
        for key, (receipt, sent_at) in self._requests.items():
            if key in replied:
                continue
            phone_address, request_id = key
            why = f"request {request_id} for {receipt} never got a reply"
            if self._gave_up_on(phone_address, receipt, "association-request"):
                arrived = unanswered.get(key)
                if arrived is None:
                    continue  # lost in the network (or a crash) before the phone gave up
                why += f": the cloud received it at t={arrived:.3f} and sent none"
                why += " (the phone gave up re-sending it)"
            else:
                why += " (and the phone did not give up on it)"
            lost.append(
                _broken(NO_DELIVERY_LOST, receipt, (phone_address, CLOUD), (sent_at, end), why)
            )
        return lost

    def _unsettled(self, end: float) -> list[Broken]:
        """Each upload a POS sent neither acknowledged nor refused at that POS, unless it
        gave up and the network or a crash could have lost it (as :meth:`_unreplied`)."""
        lost: list[Broken] = []
        settled, unanswered = self._settled, self._unanswered_uploads
        if self._uploads.keys() <= settled:
            return lost  # every upload settled (checked in C): none to walk
        for (receipt, pos), sent_at in self._uploads.items():
            if (receipt, pos) in settled:
                continue
            why = f"the upload of {receipt} was never acknowledged or refused at {pos}"
            if self._gave_up_on(pos, receipt, "purchase-upload"):
                arrived = unanswered.get((receipt, pos))
                if arrived is None:
                    continue  # lost in the network (or a crash) before the POS gave up
                why += (
                    f": the cloud received it at t={arrived:.3f} and sent no answer"
                    f" ({pos} gave up re-sending it)"
                )
            lost.append(_broken(NO_DELIVERY_LOST, receipt, (pos, CLOUD), (sent_at, end), why))
        return lost
