"""Generated runs of a promise ledger's events, and the two ways a ledger is fed them.

:data:`RUNS` draws runs that bind receipts (two merchants numbering a receipt alike, uploads
re-sent or from a second POS naming another phone, phones subscribing early or late), then
deliver them to any of three phones by any way (an answer, a dual-send, a timeout push),
with any other event put anywhere in the run (``shown`` twice, pushes after answers and
dual-sends, faults, give-ups, the cloud's push timer, crashes and restarts; a phone's
subscription given up, a receipt notice after it, a subscription again), or the whole
run shuffled. An event's
time is its place in the run. ``tests/scenarios/test_promises_spec.py`` holds the ledger,
fed :func:`by_name` (as ``assocsim check`` does) and :func:`by_record` (as the report
does), to the specification (``promises_spec.py``) on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hypothesis.strategies as st

from scenarios._sim._promises import PromiseLedger
from tests.scenarios.promises_spec import Ev

CLOUD = "cloud"
RECEIPTS = ("m1/R1", "m2/R1", "m1/R2")  # m1/R1 and m2/R1: one id at two merchants
POSES = ("pos:m1-a", "pos:m1-b", "pos:m2-a")
PHONE_IDS = ("A", "B", "C")
PHONES = tuple(f"phone:{phone}" for phone in PHONE_IDS)
PUSH_TIMEOUT = 8.0  # virtual seconds; a run's event n is at t=n

# An event: ("message", kind, frm, to, typ, receipt, body) | ("note", actor, typ, receipt,
# detail) | ("push-due", receipt) | ("crash" or "restart", actor) | ("crash", actor, point:
# "between-steps" or "inside-step"); its time is its place in the run.
Event = tuple[Any, ...]

_receipts = st.sampled_from(RECEIPTS)
_maybe_receipt = st.one_of(st.none(), _receipts)
_poses = st.sampled_from(POSES)
_phones = st.sampled_from(PHONES)
_kind = st.sampled_from(("send", "recv"))
_request = st.integers(1, 3)


def _message(  # noqa: PLR0917 - a message event, in the order PromiseLedger.message takes it
    kind: str, frm: str, to: str, typ: str, receipt: str | None, body: Any
) -> Event:
    return ("message", kind, frm, to, typ, receipt, body)


SUBSCRIPTION_GAVE_UP = "no answer to subscribe for cloud after 2 sends"  # an outbox's note


def _notice(phone: str, receipt: str) -> Event:
    """A receipt notice reaching ``phone`` (its body names the receipt by its two fields)."""
    merchant, receipt_id = receipt.split("/")
    body = {"merchant_id": merchant, "receipt_id": receipt_id}
    pos = POSES[2] if merchant == "m2" else POSES[0]
    return _message("recv", pos, phone, "receipt-notice", receipt, body)


EVENTS: st.SearchStrategy[Event] = st.one_of(
    # a phone's subscription: sent, given up, a notice after (it must subscribe again)
    st.builds(lambda phone: _message("send", phone, CLOUD, "subscribe", None, {}), _phones),
    st.builds(lambda phone: ("note", phone, "gave-up", None, SUBSCRIPTION_GAVE_UP), _phones),
    st.builds(_notice, _phones, _receipts),
    # uploads, from any POS, naming any phone (a re-send, a second POS, another phone)
    st.builds(
        lambda kind, pos, receipt, phone: _message(
            kind, pos, CLOUD, "purchase-upload", receipt, {"phone_id": phone}
        ),
        _kind,
        _poses,
        _receipts,
        st.sampled_from(PHONE_IDS),
    ),
    st.builds(
        lambda kind, pos, receipt: _message(kind, CLOUD, pos, "upload-ack", receipt, {}),
        _kind,
        _poses,
        _receipts,
    ),
    st.builds(
        lambda kind, to, receipt: _message(kind, CLOUD, to, "error-reply", receipt, {}),
        _kind,
        _poses,
        _receipts,
    ),
    st.builds(
        lambda kind, phone, receipt, request: _message(
            kind, CLOUD, phone, "error-reply", receipt, {"request_id": request}
        ),
        _kind,
        _phones,
        _maybe_receipt,
        st.one_of(st.none(), _request),
    ),
    st.builds(lambda phone: _message("recv", phone, CLOUD, "subscribe", None, {}), _phones),
    st.builds(
        lambda kind, phone: _message(kind, CLOUD, phone, "subscribe-ack", None, {}),
        _kind,
        _phones,
    ),
    st.builds(
        lambda phone, receipt, request: _message(
            "send", phone, CLOUD, "association-request", receipt, {"request_id": request}
        ),
        _phones,
        _receipts,
        _request,
    ),
    st.builds(  # a request reaching the cloud (answered or not, before or after)
        lambda phone, receipt, request: _message(
            "recv", phone, CLOUD, "association-request", receipt, {"request_id": request}
        ),
        _phones,
        _receipts,
        _request,
    ),
    st.builds(
        lambda kind, phone, receipt, request: _message(
            kind, CLOUD, phone, "association-response", receipt, {"request_id": request}
        ),
        _kind,
        _phones,
        _maybe_receipt,
        _request,
    ),
    st.builds(
        lambda kind, phone, receipt, reason: _message(
            kind, CLOUD, phone, "association-push", receipt, {"reason": reason}
        ),
        _kind,
        _phones,
        _receipts,
        st.sampled_from(("timeout", "dual-send")),
    ),
    st.builds(
        lambda kind, phone, receipt: _message(kind, phone, CLOUD, "push-ack", receipt, {}),
        _kind,
        _phones,
        _receipts,
    ),
    st.builds(
        lambda phone, receipt: ("note", phone, "shown", receipt, "shown"), _phones, _receipts
    ),
    st.builds(  # a copy received after the products were shown: not shown again
        lambda phone, receipt: ("note", phone, "already-shown", receipt, ""),
        _phones,
        _maybe_receipt,
    ),
    st.builds(lambda phone: ("note", phone, "shown", None, "shown"), _phones),
    st.builds(  # a fault on a message: an acknowledgement dropped, an upload duplicated
        lambda kind, typ, receipt: _message(kind, "phone:A", CLOUD, typ, receipt, {}),
        st.sampled_from(("drop", "duplicate", "delay")),
        st.sampled_from(("push-ack", "purchase-upload", "association-push")),
        _receipts,
    ),
    st.builds(
        lambda actor, receipt, typ: ("note", actor, "gave-up", receipt, f"gave up on {typ}"),
        st.sampled_from((CLOUD, *PHONES, *POSES)),
        _receipts,
        st.sampled_from(("association-push", "association-request", "purchase-upload")),
    ),
    st.builds(lambda receipt: ("push-due", receipt), _receipts),
    st.builds(  # the cloud's (or another's) crash, where it fell if said, or restart
        lambda kind, actor: (*kind, actor) if len(kind) == 1 else (kind[0], actor, kind[1]),
        st.sampled_from(
            (("crash",), ("crash", "between-steps"), ("crash", "inside-step"), ("restart",))
        ),
        st.sampled_from((CLOUD, CLOUD, "phone:A", "pos:m1-a")),
    ),
)


@st.composite
def _runs(draw: st.DrawFn) -> list[Event]:
    """A run: a story that binds receipts (uploads, some re-sent or from a second POS
    naming another phone, acknowledged or refused; phones subscribing, early or late for
    the push deadline, or refused), delivers them (requests answered or refused, pushes),
    with any other events put anywhere in it, or the whole run shuffled."""
    story: list[Event] = []
    for receipt in RECEIPTS:
        if not draw(st.booleans()):
            continue
        poses = POSES[2:] if receipt.startswith("m2/") else POSES[:2]
        for _ in range(draw(st.integers(1, 2))):  # a second: a re-send, or a second POS
            pos, phone = draw(st.sampled_from(poses)), draw(st.sampled_from(PHONE_IDS))
            upload = {"phone_id": phone}
            story += [
                _message("send", pos, CLOUD, "purchase-upload", receipt, upload),
                _message("recv", pos, CLOUD, "purchase-upload", receipt, upload),
            ]
            if draw(st.integers(0, 4)) == 0:  # its POS gives up re-sending it: not lost if
                # the cloud answers it (below) or crashes before it does
                story.append(("note", pos, "gave-up", receipt, "gave up on purchase-upload"))
        ack = draw(st.sampled_from(poses))
        answer = draw(st.sampled_from(("upload-ack", "upload-ack", "error-reply")))
        story += [
            _message("send", CLOUD, ack, answer, receipt, {}),
            _message("recv", CLOUD, ack, answer, receipt, {}),
        ]
    for receipt in RECEIPTS:  # deliveries, to any phone, by any way, in story order
        for phone in draw(st.lists(st.sampled_from(PHONES), max_size=4)):
            how = draw(st.sampled_from(("answer", "refusal", "dual-send", "timeout")))
            if how in {"answer", "refusal"}:  # a request answered, or refused (503, 508)
                body: dict[str, object] = {"request_id": draw(_request)}
                typ = "association-response" if how == "answer" else "error-reply"
                story.append(_message("send", phone, CLOUD, "association-request", receipt, body))
                if draw(st.booleans()):  # it reaches the cloud (else the network lost it)
                    story.append(
                        _message("recv", phone, CLOUD, "association-request", receipt, body)
                    )
                if draw(st.integers(0, 4)) == 0:  # the phone gives up re-sending it
                    note = ("note", phone, "gave-up", receipt, "gave up on association-request")
                    story.append(note)
            else:
                body, typ = {"reason": how}, "association-push"
            story.append(_message("send", CLOUD, phone, typ, receipt, body))
            if draw(st.booleans()):
                story.append(_message("recv", CLOUD, phone, typ, receipt, body))
                if typ != "error-reply" and draw(st.booleans()):
                    story.append(("note", phone, "shown", receipt, "shown"))
    for phone in PHONES:
        for _ in range(draw(st.integers(0, 2))):  # a second: subscribed again, acked later
            at = draw(st.integers(0, len(story)))
            answer = draw(st.sampled_from(("subscribe-ack", "subscribe-ack", "error-reply")))
            story[at:at] = [
                _message("recv", phone, CLOUD, "subscribe", None, {}),
                _message("send", CLOUD, phone, answer, None, {}),
            ]
    for phone in PHONES:
        if draw(st.integers(0, 3)) == 0:  # its subscription gives up, a notice comes...
            at = draw(st.integers(0, len(story)))
            tail = [_notice(phone, draw(_receipts))]
            if draw(st.booleans()):  # ... and it subscribes again: reaching the cloud,
                # or giving up again (or the cloud acknowledges it)
                again = draw(st.sampled_from(("recv", "gave-up", "ack")))
                if again == "recv":
                    tail.append(_message("recv", phone, CLOUD, "subscribe", None, {}))
                elif again == "gave-up":
                    tail.append(("note", phone, "gave-up", None, SUBSCRIPTION_GAVE_UP))
                else:
                    tail.append(_message("send", CLOUD, phone, "subscribe-ack", None, {}))
            story[at:at] = [
                _message("send", phone, CLOUD, "subscribe", None, {}),
                ("note", phone, "gave-up", None, SUBSCRIPTION_GAVE_UP),
                *tail,
            ]
    for event in draw(st.lists(EVENTS, max_size=30)):
        at = draw(st.integers(0, len(story)))
        story.insert(at, event)
    if draw(st.integers(0, 3)) == 0:  # events in any order at all
        story = draw(st.permutations(story))
    return story


RUNS = _runs()


def by_name(ledger: Any, events: Sequence[Event], start: int = 0) -> None:
    """Feed ``ledger`` as ``assocsim check`` does: each receipt by its name (the first
    event at t=``start``)."""
    for t, event in enumerate(events, start):
        if event[0] == "message":
            _, kind, frm, to, typ, receipt, body = event
            ledger.message(kind, frm, to, typ, receipt, float(t), body)
        elif event[0] == "note":
            _, actor, typ, receipt, detail = event
            ledger.note(actor, typ, receipt, float(t), detail)
        elif event[0] == "push-due":
            ledger.push_due(event[1])
        else:
            ledger.down(*event[1:])


def by_record(ledger: PromiseLedger, events: Sequence[Event]) -> None:
    """Feed ``ledger`` as the report does: each receipt's record, found first, handed to
    the message's handler, to :meth:`~PromiseLedger.shown_note` and
    :meth:`~PromiseLedger.push_due_record`."""
    for t, event in enumerate(events):
        if event[0] == "message":
            _, kind, frm, to, typ, receipt, body = event
            handler = ledger.handler(kind, typ)
            if kind not in {"send", "recv"}:  # a fault: by name, as the report does
                ledger.message(kind, frm, to, typ, receipt, float(t), body)
                continue
            # the cloud went on past what reached it, as the report tells the ledger
            if (kind == "send" and frm == CLOUD) or (
                kind == "recv" and to == CLOUD and ledger.atomic_steps
            ):
                ledger.cloud_went_on()
            if handler is not None:
                record = None if receipt is None else ledger.record(receipt)
                handler(frm, to, record, float(t), body)
        elif event[0] == "note":
            _, actor, typ, receipt, detail = event
            if typ == "shown" and receipt is not None:
                ledger.shown_note(actor, ledger.record(receipt), float(t), detail)
            else:
                ledger.note(actor, typ, receipt, float(t), detail)
        elif event[0] == "push-due":
            ledger.push_due_record(ledger.record(event[1]))
        else:
            ledger.down(*event[1:])


# A run the properties must hold on whatever hypothesis draws: m1/R1 bound to phone A, a
# dual-send and an answer to B (a mismatched requester), then timeout pushes to both;
# m2/R1 (the same id at another merchant) bound to C, shown twice.
SHARP: list[Event] = [
    _message("send", "pos:m1-a", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("recv", "pos:m1-a", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("send", "pos:m2-a", CLOUD, "purchase-upload", "m2/R1", {"phone_id": "C"}),
    _message("recv", "pos:m2-a", CLOUD, "purchase-upload", "m2/R1", {"phone_id": "C"}),
    _message("send", CLOUD, "phone:A", "subscribe-ack", None, {}),
    _message("send", CLOUD, "phone:C", "subscribe-ack", None, {}),
    _message("send", CLOUD, "pos:m1-a", "upload-ack", "m1/R1", {}),
    _message("send", CLOUD, "pos:m2-a", "upload-ack", "m2/R1", {}),
    _message("send", CLOUD, "phone:B", "association-response", "m1/R1", {"request_id": 1}),
    _message("send", CLOUD, "phone:A", "association-push", "m1/R1", {"reason": "dual-send"}),
    _message("send", CLOUD, "phone:A", "association-push", "m1/R1", {"reason": "timeout"}),
    _message("send", CLOUD, "phone:B", "association-push", "m1/R1", {"reason": "timeout"}),
    ("note", "phone:C", "shown", "m2/R1", "shown"),
    ("note", "phone:C", "shown", "m2/R1", "shown"),
]


# A run for the promises SHARP leaves alone, each kept or broken by one event: m1/R1 bound
# to A (arrived at t=1, so owed only if A subscribed before t=9: A's subscribe-ack is at
# t=9 itself, withheld); pos:m1-a never receives its upload-ack (lost), pos:m1-b's upload
# is refused there (settled), pos:m2-a gives up on its upload, the cloud's refusal of it
# sent and lost (not lost); B's request 1 is refused (replied), its request 2 never
# answered (lost), C gives up on its request, which never reached the cloud (not lost);
# C's subscription is never answered (lost: the refusal of its request, never received,
# answers no subscription), B's is refused (answered); m1/R2 bound to A,
# its push timer fires after A subscribed (owed), the cloud sends the push and gives up
# re-sending it, A notes only a copy "already shown" (lost: never shown).
REPLIES: list[Event] = [
    _message("send", "pos:m1-a", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("recv", "pos:m1-a", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("send", CLOUD, "pos:m1-a", "upload-ack", "m1/R1", {}),
    _message("send", "pos:m1-b", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("recv", "pos:m1-b", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("send", CLOUD, "pos:m1-b", "error-reply", "m1/R1", {}),
    _message("recv", CLOUD, "pos:m1-b", "error-reply", "m1/R1", {}),
    _message("send", "pos:m2-a", CLOUD, "purchase-upload", "m2/R1", {"phone_id": "B"}),
    _message("recv", "phone:A", CLOUD, "subscribe", None, {}),
    _message("send", CLOUD, "phone:A", "subscribe-ack", None, {}),  # t=9: the deadline
    _message("recv", "pos:m2-a", CLOUD, "purchase-upload", "m2/R1", {"phone_id": "B"}),
    _message("send", CLOUD, "pos:m2-a", "error-reply", "m2/R1", {}),
    ("note", "pos:m2-a", "gave-up", "m2/R1", "gave up on purchase-upload"),
    _message("send", "phone:B", CLOUD, "association-request", "m1/R1", {"request_id": 1}),
    _message("send", CLOUD, "phone:B", "error-reply", "m1/R1", {"request_id": 1}),
    _message("recv", CLOUD, "phone:B", "error-reply", "m1/R1", {"request_id": 1}),
    _message("send", "phone:B", CLOUD, "association-request", "m1/R1", {"request_id": 2}),
    _message("send", "phone:C", CLOUD, "association-request", "m1/R2", {"request_id": 1}),
    ("note", "phone:C", "gave-up", "m1/R2", "gave up on association-request"),
    _message("recv", "phone:C", CLOUD, "subscribe", None, {}),
    _message("send", CLOUD, "phone:C", "error-reply", "m1/R2", {"request_id": 1}),
    _message("recv", "phone:B", CLOUD, "subscribe", None, {}),
    _message("send", CLOUD, "phone:B", "error-reply", None, {}),
    _message("send", CLOUD, "phone:A", "subscribe-ack", None, {}),
    ("note", "phone:A", "already-shown", "m1/R1", ""),
    _message("send", "pos:m1-a", CLOUD, "purchase-upload", "m1/R2", {"phone_id": "A"}),
    _message("recv", "pos:m1-a", CLOUD, "purchase-upload", "m1/R2", {"phone_id": "A"}),
    _message("send", CLOUD, "pos:m1-a", "upload-ack", "m1/R2", {}),
    _message("recv", CLOUD, "pos:m1-a", "upload-ack", "m1/R2", {}),
    ("push-due", "m1/R2"),
    _message("send", CLOUD, "phone:A", "association-push", "m1/R2", {"reason": "timeout"}),
    ("note", CLOUD, "gave-up", "m1/R2", "gave up on association-push"),
    ("note", "phone:A", "already-shown", "m1/R2", ""),
]


# A run whose phone acknowledges a push it never notes shown: the acknowledgement says the
# phones note what they show (a trace of the new protocol), so m1/R2 is lost at A.
ACKED: list[Event] = [
    _message("send", CLOUD, "phone:A", "subscribe-ack", None, {}),
    _message("send", "pos:m1-a", CLOUD, "purchase-upload", "m1/R2", {"phone_id": "A"}),
    _message("recv", "pos:m1-a", CLOUD, "purchase-upload", "m1/R2", {"phone_id": "A"}),
    _message("send", CLOUD, "pos:m1-a", "upload-ack", "m1/R2", {}),
    _message("recv", CLOUD, "pos:m1-a", "upload-ack", "m1/R2", {}),
    ("push-due", "m1/R2"),
    _message("send", CLOUD, "phone:A", "association-push", "m1/R2", {"reason": "timeout"}),
    _message("recv", CLOUD, "phone:A", "association-push", "m1/R2", {"reason": "timeout"}),
    _message("send", "phone:A", CLOUD, "push-ack", "m1/R2", {}),
]


def spec_events(events: Sequence[Event], start: int = 0) -> list[Ev]:
    """``events`` as the specification reads them (event n at t=n, from ``start``)."""
    out = []
    for at, event in enumerate(events):
        t = float(at + start)
        if event[0] == "message":
            _, kind, frm, to, typ, receipt, body = event
            out.append(Ev(at, t, kind, frm, to, typ, receipt, body))
        elif event[0] == "note":
            _, actor, typ, receipt, detail = event
            out.append(Ev(at, t, "note", actor, actor, typ, receipt, {}, detail))
        elif event[0] == "push-due":
            out.append(Ev(at, t, "push-due", CLOUD, CLOUD, "push-due", event[1], {}))
        else:
            kind, actor, *point = event
            out.append(Ev(at, t, kind, actor, actor, kind, None, {}, *point))
    return out


# A run of senders giving up, each excused only where the network or a crash could have
# lost what they sent: pos:m1-b's upload of m1/R2 reached the cloud, which crashed
# (excused); pos:m1-a's of m1/R1 reached the cloud after that, which answered nothing
# (lost though it gave up); pos:m2-a's of m2/R1 was acknowledged (the ack lost), then a
# re-send reached the cloud, unanswered (lost); phone:A's request 1 reached the cloud,
# unanswered (lost); phone:B's was refused, the refusal lost (excused); phone:C's
# request 2 reached the cloud, and phone:C crashed (a crash of the phone excuses
# nothing: lost). m2/R1 is bound to C, which never subscribed (withheld).
GAVE_UP: list[Event] = [
    _message("send", "pos:m1-b", CLOUD, "purchase-upload", "m1/R2", {"phone_id": "B"}),
    _message("recv", "pos:m1-b", CLOUD, "purchase-upload", "m1/R2", {"phone_id": "B"}),
    ("crash", CLOUD),
    ("restart", CLOUD),
    ("note", "pos:m1-b", "gave-up", "m1/R2", "gave up on purchase-upload"),
    _message("send", "pos:m1-a", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("recv", "pos:m1-a", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    ("note", "pos:m1-a", "gave-up", "m1/R1", "gave up on purchase-upload"),
    _message("send", "pos:m2-a", CLOUD, "purchase-upload", "m2/R1", {"phone_id": "C"}),
    _message("recv", "pos:m2-a", CLOUD, "purchase-upload", "m2/R1", {"phone_id": "C"}),
    _message("send", CLOUD, "pos:m2-a", "upload-ack", "m2/R1", {}),
    _message("recv", "pos:m2-a", CLOUD, "purchase-upload", "m2/R1", {"phone_id": "C"}),
    ("note", "pos:m2-a", "gave-up", "m2/R1", "gave up on purchase-upload"),
    _message("send", "phone:A", CLOUD, "association-request", "m1/R1", {"request_id": 1}),
    _message("recv", "phone:A", CLOUD, "association-request", "m1/R1", {"request_id": 1}),
    ("note", "phone:A", "gave-up", "m1/R1", "gave up on association-request"),
    _message("send", "phone:B", CLOUD, "association-request", "m2/R1", {"request_id": 1}),
    _message("recv", "phone:B", CLOUD, "association-request", "m2/R1", {"request_id": 1}),
    _message("send", CLOUD, "phone:B", "error-reply", "m2/R1", {"request_id": 1}),
    ("note", "phone:B", "gave-up", "m2/R1", "gave up on association-request"),
    _message("send", "phone:C", CLOUD, "association-request", "m1/R2", {"request_id": 2}),
    _message("recv", "phone:C", CLOUD, "association-request", "m1/R2", {"request_id": 2}),
    ("crash", "phone:C"),
    ("note", "phone:C", "gave-up", "m1/R2", "gave up on association-request"),
]
