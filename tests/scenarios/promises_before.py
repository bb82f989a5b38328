"""The promise ledger as it was before one record per receipt (commit 4dd5706^), kept as
the reference ``tests/scenarios/test_promises_reference.py`` holds the ledger to: its
tables are keyed by ``(receipt, address)`` and ``(phone, receipt)``, so a slot mislaid in
the new ledger's one flat record shows as a verdict that differs from this one's. Not to
be edited but to follow a deliberate change of what a promise means."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from types import MethodType
from typing import Any, NamedTuple, cast

import attrs

from actors import receipt_key
from protocol import PushDue
from scenarios._model._scenario import Scenario

__all__ = [
    "NO_DELIVERY_LOST",
    "NO_DUPLICATE_SHOWN",
    "TIMEOUT_PUSH",
    "Broken",
    "Judgement",
    "PromiseLedger",
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
    {("send", "subscribe-ack"), ("recv", "subscribe")}
    | {(kind, ack) for kind in ("send", "recv") for ack in _ACK_TYPES}
)
_NOTES_NAMED = frozenset({"shown", "gave-up"})

NO_DELIVERY_LOST = "no-delivery-lost"
NO_DUPLICATE_SHOWN = "no-duplicate-shown"
TIMEOUT_PUSH = "timeout-push"

Field = Callable[[Any, str], Any]
"""Reads one field of a message body: ``field(body, "request_id")``."""

Handler = Callable[[str, str, "str | None", float, Any], None]
"""What the ledger does for one message: ``handler(frm, to, receipt, t, body)``."""


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


# A receipt's record: its upload first at the cloud; flags; the POS whose upload the cloud
# received first and the phone its last upload named (other POSes: _other_uploads).
_R_ARRIVED, _R_FLAGS, _R_UPLOADER, _R_NAMED = range(4)
_SETTLED = 1  # its POS got an upload-ack or a refusal
_TIMER_FIRED = 2  # the cloud's PushDue timer of the receipt fired
_OWED = 4  # owed by the cloud's timer or a mismatch (step 603, unit 8022)

# A (receipt, address) record: when the cloud first sent the products there (any way),
# answered a request, dual-sent; whether it timeout-pushed; when the phone first received
# the products (any way), and a push.
_P_DELIVERED, _P_RESPONDED, _P_DUAL_SENT, _P_TIMEOUT_PUSHED, _P_RECEIVED, _P_PUSHED = range(6)


def _new_receipt() -> list[Any]:
    return [None, 0, None, None]


def _new_pair() -> list[Any]:
    return [None, None, None, False, None, None]


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
    reads a message body (:func:`json_field` or :func:`attribute_field`)."""

    def __init__(self, push_timeout: float | None = None, *, field: Field = json_field) -> None:
        self.push_timeout = push_timeout
        self._field = field
        self.reliable = False  # shown notes or acknowledgements: judge by what was shown
        # Facts are kept in few tables, each fact of a receipt (or of a receipt at one
        # address) in one record: an event reads and writes one or two records, not one
        # table per fact (a run's cost per event was mostly cache misses over ~20 tables).
        # Records are lists of atoms, so that the checker's monitor_state can freeze them.
        self.bound: dict[str, _Bound] = {}  # in the order bound: the order lost is listed in
        self.shown: dict[tuple[str, str], float] = {}  # (phone address, receipt) -> first
        self._receipts: dict[str, list[Any]] = {}  # receipt -> its facts (_R_*)
        self._pairs: dict[tuple[str, str], list[Any]] = {}  # (receipt, address) -> (_P_*)
        self._other_uploads: dict[tuple[str, str], str] = {}  # (receipt, POS) -> named phone
        self._uploads: dict[str, tuple[str, float]] = {}  # receipt -> (POS, first sent)
        self._subscribed: dict[str, float] = {}  # phone id -> the cloud's first subscribe-ack
        self._asked: dict[str, float] = {}  # phone address -> its subscribe first at the cloud
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
            "subscribe": self._recv_subscribe,
            "upload-ack": self._recv_settles,
            "error-reply": self._recv_error,
            "association-response": self._recv_response,
            "association-push": self._recv_push,
        }
        for ack in _ACK_TYPES:
            self._on_send[ack] = self._on_recv[ack] = self._ack

    # ------------------------------------------------------------------ feeding

    def message(  # noqa: PLR0917 - called for every message of a run: positional is faster
        self, kind: str, frm: str, to: str, typ: str, receipt: str | None, t: float, body: Any
    ) -> None:
        """A message event (``send``, ``recv``, or a fault on one) of type ``typ``."""
        if kind == "send":
            handler = self._on_send.get(typ)
        elif kind == "recv":
            handler = self._on_recv.get(typ)
        else:
            if typ in _ACK_TYPES:
                self.reliable = True
            return
        if handler is not None:
            handler(frm, to, receipt, t, body)

    def handler(self, kind: str, typ: str) -> Handler | None:
        """What :meth:`message` does for a ``send`` or ``recv`` of type ``typ`` (None:
        nothing), for a caller that dispatches on the type once and calls it directly."""
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

    @staticmethod
    def reads_note_receipt(typ: str) -> bool:
        """Does :meth:`note` read the receipt of a note of type ``typ``?"""
        return typ in _NOTES_NAMED

    # One handler per (kind, type), each doing what the promises need of that message.

    def _ack(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        self.reliable = True

    def _send_upload(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if receipt is not None and to == CLOUD and frm != CLOUD:
            self._uploads.setdefault(receipt, (frm, t))

    def _send_request(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if receipt is not None and frm.startswith(_PHONE):
            self._requests.setdefault((frm, self._field(body, "request_id")), (receipt, t))

    def _receipt(self, receipt: str) -> list[Any]:
        record = self._receipts.get(receipt)
        if record is None:
            record = self._receipts[receipt] = _new_receipt()
        return record

    def _recv_upload(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if to == CLOUD and receipt is not None:
            named = str(self._field(body, "phone_id"))
            record = self._receipts.get(receipt)  # self._receipt written out: every upload
            if record is None:
                record = self._receipts[receipt] = _new_receipt()
            if record[_R_ARRIVED] is None:
                record[_R_ARRIVED] = t
                record[_R_UPLOADER] = frm
            if record[_R_UPLOADER] == frm:
                record[_R_NAMED] = named
            else:
                self._other_uploads[(receipt, frm)] = named

    def _recv_subscribe(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if to == CLOUD:
            self._asked.setdefault(frm, t)

    def _recv_settles(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        """An ``upload-ack`` (or a refusal) received by a POS settles its upload."""
        if receipt is not None and frm == CLOUD and to != CLOUD and not to.startswith(_PHONE):
            self._receipt(receipt)[_R_FLAGS] |= _SETTLED

    def _recv_error(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if to == CLOUD:
            return
        if to.startswith(_PHONE):
            self._replied.setdefault((to, self._field(body, "request_id")), None)
        elif frm == CLOUD and receipt is not None:
            self._receipt(receipt)[_R_FLAGS] |= _SETTLED

    def note(self, actor: str, typ: str, receipt: str | None, t: float, detail: str) -> None:
        """A machine's note. Only what phones showed and who gave up count here."""
        if typ == "shown":
            self.reliable = True
            if receipt is None:
                return
            key = (actor, receipt)
            first = self.shown.get(key)
            if first is None:
                self.shown[key] = t
            else:
                self._shown_twice.append(
                    _broken(
                        NO_DUPLICATE_SHOWN,
                        receipt,
                        (actor,),
                        (first, t),
                        f"{actor} was shown the products of {receipt} twice: shown again "
                        f"({detail})",
                    )
                )
        elif typ == "already-shown":
            self.reliable = True
        elif typ == "gave-up" and receipt is not None:
            self._gave_up.setdefault((actor, receipt), []).append(detail)

    def push_due(self, receipt: str) -> None:
        """The cloud's ``PushDue`` timer of ``receipt`` fired: it decides step 603 now."""
        record = self._receipt(receipt)
        record[_R_FLAGS] |= _TIMER_FIRED
        binding = self.bound.get(receipt)
        if binding is not None and binding.phone in self._subscribed:
            record[_R_FLAGS] |= _OWED

    def _send_upload_ack(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if frm == CLOUD and receipt is not None and receipt not in self.bound:
            record = self._receipts.get(receipt)
            if record is not None and record[_R_UPLOADER] == to:
                phone = record[_R_NAMED]
            else:
                phone = self._other_uploads.get((receipt, to))
            if phone is not None:
                self.bound[receipt] = _Bound(phone, to, t)

    def _send_subscribe_ack(
        self, frm: str, to: str, receipt: str | None, t: float, body: Any
    ) -> None:
        if frm != CLOUD:
            return
        self._answered.add(to)
        if to.startswith(_PHONE):
            self._subscribed.setdefault(to[_PHONE_LEN:], t)

    def _send_response(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if frm != CLOUD or receipt is None or not to.startswith(_PHONE):
            return
        pair = self._pairs.get((receipt, to))  # found or made here: a call fewer
        if pair is None:
            pair = self._pairs[(receipt, to)] = _new_pair()
        if pair[_P_DELIVERED] is None:
            pair[_P_DELIVERED] = t
        if pair[_P_RESPONDED] is None:
            pair[_P_RESPONDED] = t
        binding = self.bound.get(receipt)
        if (
            binding is not None
            and to[_PHONE_LEN:] != binding.phone
            and binding.phone in self._subscribed
        ):
            self._receipt(receipt)[_R_FLAGS] |= _OWED  # a mismatched requester: both devices

    def _send_push(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if frm != CLOUD or receipt is None or not to.startswith(_PHONE):
            return
        pair = self._pairs.get((receipt, to))  # found or made here: a call fewer
        if pair is None:
            pair = self._pairs[(receipt, to)] = _new_pair()
        if pair[_P_DELIVERED] is None:
            pair[_P_DELIVERED] = t
        reason = self._field(body, "reason")
        if reason == "dual-send":
            if pair[_P_DUAL_SENT] is None:
                pair[_P_DUAL_SENT] = t
        elif reason == "timeout" and not pair[_P_TIMEOUT_PUSHED]:
            pair[_P_TIMEOUT_PUSHED] = True
            self._judge_timeout_push(receipt, to, t, pair)

    def _send_error(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if frm == CLOUD and receipt is None and self._field(body, "request_id") is None:
            self._answered.add(to)  # a refused subscription is answered too

    def _judge_timeout_push(self, receipt: str, to: str, t: float, pair: list[Any]) -> None:
        answered = pair[_P_RESPONDED]
        if answered is not None:
            what = f"after the cloud answered {to}'s request"
        else:
            answered = pair[_P_DUAL_SENT]
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

    def _recv_response(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if to == CLOUD or not to.startswith(_PHONE):
            return
        request_id = self._field(body, "request_id")
        key = (to, request_id)
        replied = self._replied
        first = replied.get(key)
        if receipt is None:
            if key not in replied:
                replied[key] = None
            return
        pair = self._pairs.get((receipt, to))  # found or made here: a call fewer
        if pair is None:
            pair = self._pairs[(receipt, to)] = _new_pair()
        if pair[_P_RECEIVED] is None:
            pair[_P_RECEIVED] = t
        if first is None:
            replied[key] = t
        else:
            self._receive_twice(receipt, to, first, t, f"a second response to request {request_id}")

    def _recv_push(self, frm: str, to: str, receipt: str | None, t: float, body: Any) -> None:
        if receipt is None or to == CLOUD or not to.startswith(_PHONE):
            return
        pair = self._pairs.get((receipt, to))  # found or made here: a call fewer
        if pair is None:
            pair = self._pairs[(receipt, to)] = _new_pair()
        if pair[_P_RECEIVED] is None:
            pair[_P_RECEIVED] = t
        first = pair[_P_PUSHED]
        if first is None:
            pair[_P_PUSHED] = t
        else:
            reason = self._field(body, "reason")
            self._receive_twice(receipt, to, first, t, f"a second push ({reason})")

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
        pair = self._pairs.get((receipt, address))
        return None if pair is None else pair[_P_DELIVERED]

    def _owed_since(self, receipt: str, binding: _Bound) -> float | None:
        """When the named phone had subscribed, if the delivery is owed to it; else None."""
        subscribed = self._subscribed.get(binding.phone)
        if subscribed is None:
            return None
        record = self._receipts.get(receipt)
        flags = 0 if record is None else record[_R_FLAGS]
        if flags & _OWED:
            return subscribed
        timeout = self.push_timeout
        if timeout is not None:
            arrived = None if record is None else record[_R_ARRIVED]
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
        shown, pairs = self.shown, self._pairs
        for receipt, binding in self.bound.items():
            subscribed = self._owed_since(receipt, binding)
            if subscribed is None:
                withheld += 1
                continue
            checked += 1
            address = _PHONE + binding.phone
            pair = pairs.get((receipt, address))
            if (
                (address, receipt) in shown
                if reliable
                else (pair and pair[_P_RECEIVED] is not None)
            ):
                continue
            sent = None if pair is None else pair[_P_DELIVERED]
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
        replied = self._replied
        for (phone_address, request_id), (receipt, sent_at) in self._requests.items():
            checked += 1
            if (phone_address, request_id) in replied or self._gave_up_on(
                phone_address, receipt, "association-request"
            ):
                continue
            lost.append(
                _broken(
                    NO_DELIVERY_LOST,
                    receipt,
                    (phone_address, CLOUD),
                    (sent_at, end),
                    f"request {request_id} for {receipt} never got a reply (and the phone "
                    "did not give up on it)",
                )
            )
        receipts = self._receipts
        for receipt, (pos, sent_at) in self._uploads.items():
            checked += 1
            record = receipts.get(receipt)
            if (record is not None and record[_R_FLAGS] & _SETTLED) or self._gave_up_on(
                pos, receipt, "purchase-upload"
            ):
                continue
            lost.append(
                _broken(
                    NO_DELIVERY_LOST,
                    receipt,
                    (pos, CLOUD),
                    (sent_at, end),
                    f"the upload of {receipt} was never acknowledged or refused at {pos}",
                )
            )
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
        if self.reliable:
            shown_twice, shown_checked = self._shown_twice, len(self.shown)
        else:
            shown_twice = self._received_twice
            shown_checked = sum(pair[_P_RECEIVED] is not None for pair in pairs.values())
        return Judgement(
            lost=tuple(lost),
            lost_checked=checked,
            shown_twice=tuple(shown_twice),
            shown_checked=shown_checked,
            pushed_after=tuple(self._pushed_after),
            withheld=withheld,
        )
