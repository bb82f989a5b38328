"""The promise ledger against the reference: the ledger as it was before one record per
receipt (``tests/scenarios/promises_before.py``, tables keyed by ``(receipt, address)``
and ``(phone, receipt)``).

``test_promises_agree.py`` holds the report to the checker, both on the one ledger: a slot
mislaid in its record would be shared by both and pass there. Here generated runs of
events (two merchants numbering a receipt alike, three phones per receipt: the named one,
a mismatched requester and a third, uploads re-sent by two POSes, ``shown`` twice, pushes
after answers and dual-sends, in any order) are fed to the ledger both ways it is fed (by
receipt name, as ``assocsim check`` does, and by the record, as the report does) and to
the reference: the verdicts of :meth:`~scenarios._sim._promises.PromiseLedger.judge`
must be the reference's, field for field. ``tests/planted/dual_sent_at_delivered.py``,
the dual-sent slot read at the delivered offset, must be told apart.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, example, find, given, settings

from scenarios._sim._promises import OWNED, RECEIPT_NAME, Judgement, PromiseLedger
from tests.planted.dual_sent_at_delivered import DualSentAtDelivered
from tests.planted.eager_records import EagerRecords
from tests.planted.shared_record_fork import shared_record_fork
from tests.scenarios import promises_before

CLOUD = "cloud"
RECEIPTS = ("m1/R1", "m2/R1", "m1/R2")  # m1/R1 and m2/R1: one id at two merchants
POSES = ("pos:m1-a", "pos:m1-b", "pos:m2-a")
PHONE_IDS = ("A", "B", "C")
PHONES = tuple(f"phone:{phone}" for phone in PHONE_IDS)
PUSH_TIMEOUT = 8.0  # virtual seconds; a run's event n is at t=n

# An event: ("message", kind, frm, to, typ, receipt, body) | ("note", actor, typ, receipt,
# detail) | ("push-due", receipt); its time is its place in the run.
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


EVENTS: st.SearchStrategy[Event] = st.one_of(
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
    st.builds(lambda phone: ("note", phone, "already-shown", None, ""), _phones),
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
)


@st.composite
def _runs(draw: st.DrawFn) -> list[Event]:
    """A run: a story that binds receipts (uploads, some re-sent or from a second POS
    naming another phone, acknowledged; phones subscribing, early or late for the push
    deadline), with any other events put anywhere in it, or the whole run shuffled."""
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
        ack = draw(st.sampled_from(poses))
        story += [
            _message("send", CLOUD, ack, "upload-ack", receipt, {}),
            _message("recv", CLOUD, ack, "upload-ack", receipt, {}),
        ]
    for receipt in RECEIPTS:  # deliveries, to any phone, by any way, in story order
        for phone in draw(st.lists(st.sampled_from(PHONES), max_size=4)):
            how = draw(st.sampled_from(("answer", "dual-send", "timeout")))
            if how == "answer":
                body: dict[str, object] = {"request_id": draw(_request)}
                typ = "association-response"
                story.append(_message("send", phone, CLOUD, "association-request", receipt, body))
            else:
                body, typ = {"reason": how}, "association-push"
            story.append(_message("send", CLOUD, phone, typ, receipt, body))
            if draw(st.booleans()):
                story.append(_message("recv", CLOUD, phone, typ, receipt, body))
                if draw(st.booleans()):
                    story.append(("note", phone, "shown", receipt, "shown"))
    for phone in PHONES:
        if draw(st.booleans()):
            at = draw(st.integers(0, len(story)))
            story[at:at] = [
                _message("recv", phone, CLOUD, "subscribe", None, {}),
                _message("send", CLOUD, phone, "subscribe-ack", None, {}),
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
        else:
            ledger.push_due(event[1])


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
            elif handler is not None:
                record = None if receipt is None else ledger.record(receipt)
                handler(frm, to, record, float(t), body)
        elif event[0] == "note":
            _, actor, typ, receipt, detail = event
            if typ == "shown" and receipt is not None:
                ledger.shown_note(actor, ledger.record(receipt), float(t), detail)
            else:
                ledger.note(actor, typ, receipt, float(t), detail)
        else:
            ledger.push_due_record(ledger.record(event[1]))


def verdicts(judgement: Judgement | promises_before.Judgement) -> tuple[object, ...]:
    """A judgement as plain values (the two ledgers' classes are not one)."""
    return (
        tuple(map(tuple, judgement.lost)),
        judgement.lost_checked,
        tuple(map(tuple, judgement.shown_twice)),
        judgement.shown_checked,
        tuple(map(tuple, judgement.pushed_after)),
        judgement.withheld,
    )


def disagreement(
    events: Sequence[Event], make: Callable[[float], PromiseLedger] = PromiseLedger
) -> str | None:
    """How a ledger made by ``make`` judges ``events`` otherwise than the reference (fed
    either way), None: alike. Its facts at each (receipt, phone) are compared too."""
    end = float(len(events))
    reference = promises_before.PromiseLedger(PUSH_TIMEOUT)
    by_name(reference, events)
    expected = verdicts(reference.judge(end))
    for how, feed in (("by name", by_name), ("by record", by_record)):
        ledger = make(PUSH_TIMEOUT)
        feed(ledger, events)
        got = verdicts(ledger.judge(end))
        if got != expected:
            return f"{how}: {got} != the reference's {expected}"
        for receipt in RECEIPTS:
            for phone in PHONES:
                if ledger.cloud_delivered(receipt, phone) != reference.cloud_delivered(
                    receipt, phone
                ):
                    return f"{how}: cloud_delivered({receipt}, {phone}) differs"
    return None


def layout_disagreement(
    events: Sequence[Event], make: Callable[[float], PromiseLedger] = PromiseLedger
) -> str | None:
    """How the records of a ledger fed ``events`` by name differ from the reference's
    tables re-stated as records (None: alike): a record per receipt the reference has any
    fact of (kept only once a handler wrote to it), its receipt's facts, then a group per
    address it reached, in address order (equal facts, equal records: the explorer's
    monitor state), each with the reference's ``(receipt, address)`` facts and its first
    ``shown`` of ``(address, receipt)``."""
    reference = promises_before.PromiseLedger(PUSH_TIMEOUT)
    by_name(reference, events)
    ledger = make(PUSH_TIMEOUT)
    by_name(ledger, events)
    pairs, shown = reference._pairs, reference.shown
    names = [*reference._receipts, *(r for r, _ in pairs), *(r for _, r in shown)]
    expected = {}
    for name in dict.fromkeys(names):
        facts = reference._receipts.get(name, [None, 0, None, None])
        binding = reference.bound.get(name)
        record: list[Any] = [name, *facts, *(binding or (None, None, None))]
        assert len(record) == OWNED
        addresses = {a for r, a in pairs if r == name} | {a for a, r in shown if r == name}
        for address in sorted(addresses):
            group = pairs.get((name, address), [None, None, None, False, None, None])
            record += [address, *group, shown.get((address, name))]
        expected[name] = record
    got = {record[RECEIPT_NAME]: record for record in ledger.records()}
    if got != expected:
        return f"records {got} != the reference's facts as records {expected}"
    return None


def fork_disagreement(
    events: Sequence[Event], cut: int, fork: Callable[[PromiseLedger], PromiseLedger]
) -> str | None:
    """Feed ``events`` up to ``cut``, fork the ledger there and feed the rest to the fork:
    how the origin's records moved or the fork judges otherwise than a ledger fed the
    whole run (None: neither). Times are the event's place in the whole run."""
    end = float(len(events))
    whole = PromiseLedger(PUSH_TIMEOUT)
    by_name(whole, events)
    origin = PromiseLedger(PUSH_TIMEOUT)
    by_name(origin, events[:cut])
    before = copy.deepcopy(origin._receipts)
    forked = fork(origin)
    by_name(forked, events[cut:], start=cut)
    if origin._receipts != before:
        return f"the origin's records moved: {before} -> {origin._receipts}"
    if verdicts(forked.judge(end)) != verdicts(whole.judge(end)):
        return "the fork judges otherwise than the whole run"
    return None


# A run the properties must hold on whatever hypothesis draws: m1/R1 bound to phone A, a
# dual-send and an answer to B (a mismatched requester), then timeout pushes to both;
# m2/R1 (the same id at another merchant) bound to C, shown twice.
_SHARP: list[Event] = [
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


@settings(
    max_examples=max(300, settings().max_examples),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(RUNS)
@example(_SHARP)
def test_the_ledger_judges_as_the_reference(events: list[Event]) -> None:
    assert disagreement(events) is None


@settings(
    max_examples=max(300, settings().max_examples),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(RUNS)
@example(_SHARP)
def test_each_record_holds_the_references_facts_in_their_slots(events: list[Event]) -> None:
    assert layout_disagreement(events) is None


@settings(
    max_examples=max(300, settings().max_examples),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(RUNS, st.integers(0, 60))
@example(_SHARP, 9)
def test_a_fork_shares_no_record_with_its_origin(events: list[Event], cut: int) -> None:
    assert fork_disagreement(events, min(cut, len(events)), PromiseLedger.fork) is None


def test_a_fork_sharing_the_records_is_told_apart() -> None:
    # planted: tests/planted/shared_record_fork.py; the dual-send to A after the cut
    why = fork_disagreement(_SHARP, 9, shared_record_fork)
    assert why is not None and "the origin's records moved" in why


def test_the_sharp_run_breaks_the_promises_it_is_meant_to() -> None:
    # not a vacuous example: both timeout pushes and the second shown are violations
    ledger = PromiseLedger(PUSH_TIMEOUT)
    by_name(ledger, _SHARP)
    judged = ledger.judge(float(len(_SHARP)))
    assert [(b.receipt, b.actors) for b in judged.pushed_after] == [
        ("m1/R1", (CLOUD, "phone:A")),
        ("m1/R1", (CLOUD, "phone:B")),
    ]
    assert [(b.receipt, b.times) for b in judged.shown_twice] == [("m2/R1", (12.0, 13.0))]


def test_the_dual_sent_slot_at_the_delivered_offset_is_told_apart() -> None:
    # planted: tests/planted/dual_sent_at_delivered.py, found by generation alone
    found = find(
        RUNS,
        lambda events: disagreement(events, DualSentAtDelivered) is not None,
        settings=settings(max_examples=2000, database=None),
    )
    why = disagreement(found, DualSentAtDelivered)
    assert why is not None and "after the dual-send" in why
    assert disagreement(_SHARP, DualSentAtDelivered) is not None


def test_a_record_kept_though_nothing_was_written_is_told_apart() -> None:
    # planted: tests/planted/eager_records.py; the verdicts are alike, the records not
    request = _message("send", "phone:B", CLOUD, "association-request", "m2/R1", {"request_id": 1})
    assert disagreement([request], EagerRecords) is None
    assert layout_disagreement([request]) is None
    why = layout_disagreement([request], EagerRecords)
    assert why is not None and "'m2/R1'" in why
