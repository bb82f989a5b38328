"""The protocol's promises to its users, stated as a specification over a whole run.

Each promise is a plain function of the list of a run's events: queries over the whole
run, no state carried from one event to the next, no records, nothing made fast. It states
what the promises mean (the docstring of ``scenarios/_sim/_promises.py``, README's list of
what ``assocsim check`` checks, the patent's steps) and shares no code with the ledger, so
that ``tests/scenarios/test_promises_spec.py`` can hold the ledger (and the report and
checker that read it) to it. "Before" is a place in the run (events of one virtual time
keep their order); a deadline is a time. A deliberate change of what a promise means is
made in the ledger and here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

CLOUD = "cloud"
PHONE = "phone:"
EPSILON = 1e-6  # virtual seconds: deadlines are sums of floats
ACKS = frozenset({"push-ack", "notice-ack", "promotion-ack"})
DELIVERIES = frozenset({"association-response", "association-push"})
NO_DELIVERY_LOST = "no-delivery-lost"
NO_DUPLICATE_SHOWN = "no-duplicate-shown"
TIMEOUT_PUSH = "timeout-push"

K = TypeVar("K")
V = TypeVar("V")


class Ev(NamedTuple):
    """One event of a run: a message (``kind``: send, recv, or a fault on it), a machine's
    ``note`` (``frm`` and ``to`` its actor), the cloud's ``push-due`` timer, or an actor's
    ``crash`` or ``restart`` (``frm`` and ``to`` the actor)."""

    at: int  # its place in the run
    t: float
    kind: str
    frm: str
    to: str
    typ: str  # the message's type, the note's kind, or "push-due"
    receipt: str | None  # MERCHANT/RECEIPT
    body: dict[str, Any]  # the message's phone_id, request_id, reason
    detail: str = ""  # a note's


class Verdict(NamedTuple):
    """A promise broken; ``hints``: facts the ledger's wording of it must name."""

    invariant: str
    receipt: str | None
    actors: tuple[str, ...]
    times: tuple[float, ...]
    hints: tuple[str, ...]


class Judged(NamedTuple):
    lost: tuple[Verdict, ...]
    lost_checked: int
    shown_twice: tuple[Verdict, ...]
    shown_checked: int
    pushed_after: tuple[Verdict, ...]
    withheld: int


class Binding(NamedTuple):
    phone: str  # the phone id the POS named
    pos: str
    ack: Ev  # the cloud's upload-ack that stored it


def first_of(pairs: Iterable[tuple[K, V]]) -> dict[K, V]:
    """Each key's first value, keys in the order first seen."""
    out: dict[K, V] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def is_phone(address: str) -> bool:
    return address.startswith(PHONE)


def is_pos(address: str) -> bool:
    return address != CLOUD and not is_phone(address)


def messages(run: Iterable[Ev], kind: str, *types: str) -> list[Ev]:
    return [e for e in run if e.kind == kind and e.typ in types]


def by_receipt(run: Sequence[Ev]) -> dict[str, list[Ev]]:
    """The events naming each receipt, in run order."""
    out: dict[str, list[Ev]] = {}
    for e in run:
        if e.receipt is not None:
            out.setdefault(e.receipt, []).append(e)
    return out


def reliable(run: Sequence[Ev]) -> bool:
    """Did the phones say what they showed (``shown`` notes, acknowledgements)? A trace
    without either (written before phones made them) is judged by what they received."""
    return any(e.typ in ACKS for e in run if e.kind not in {"note", "push-due"}) or any(
        e.kind == "note" and e.typ in {"shown", "already-shown"} for e in run
    )


def subscriptions(run: Sequence[Ev]) -> dict[str, Ev]:
    """Each phone id's first subscribe-ack from the cloud (the phone has subscribed)."""
    acks = messages(run, "send", "subscribe-ack")
    return first_of((e.to[len(PHONE) :], e) for e in acks if e.frm == CLOUD and is_phone(e.to))


def binding(events: Sequence[Ev]) -> Binding | None:
    """Step 502: the receipt is bound at the cloud's first upload-ack to a POS whose upload
    of it the cloud had received; to the phone that POS's last such upload named."""
    for ack in messages(events, "send", "upload-ack"):
        uploads = [
            u
            for u in messages(events, "recv", "purchase-upload")
            if u.at < ack.at and u.to == CLOUD and u.frm == ack.to
        ]
        if ack.frm == CLOUD and uploads:
            return Binding(str(uploads[-1].body.get("phone_id")), ack.to, ack)
    return None


def cloud_delivered(events: Sequence[Ev], address: str) -> float | None:
    """When the cloud first sent the receipt's products to ``address`` (any way)."""
    sent = messages(events, "send", *DELIVERIES)
    return next((e.t for e in sent if e.frm == CLOUD and e.to == address), None)


def decided_owed(events: Sequence[Ev], bound: Binding, subscribed: Ev) -> bool:
    """Did the cloud decide, after the binding and the named phone's subscription, that
    the phone is owed the products: its push timer fired (step 603), or it answered a
    mismatched requester (unit 8022: both devices)?"""
    named = PHONE + bound.phone
    timer = [e for e in events if e.kind == "push-due"]
    answers = [e for e in messages(events, "send", "association-response") if e.frm == CLOUD]
    mismatched = [e for e in answers if is_phone(e.to) and e.to != named]
    return any(e.at > max(bound.ack.at, subscribed.at) for e in timer + mismatched)


def owed_since(
    events: Sequence[Ev], bound: Binding, subscribed: Ev | None, push_timeout: float | None
) -> float | None:
    """When the named phone subscribed, if the delivery is owed to it (None: withheld):
    it subscribed before the cloud decided (:func:`decided_owed`), or by the push
    deadline: the upload's first arrival (else the binding) plus ``push_timeout``."""
    if subscribed is None:
        return None
    if decided_owed(events, bound, subscribed):
        return subscribed.t
    if push_timeout is not None:
        arrivals = [e.t for e in messages(events, "recv", "purchase-upload") if e.to == CLOUD]
        start = arrivals[0] if arrivals else bound.ack.t
        return subscribed.t if subscribed.t < start + push_timeout - EPSILON else None
    fired = any(e.kind == "push-due" for e in events)
    return None if fired else subscribed.t  # no deadline known: the timer bounds the wait


def unanswered_arrival(
    run: Sequence[Ev], arrived: Callable[[Ev], bool], answers: Callable[[Ev], bool]
) -> float | None:
    """When the first message ``arrived`` at the cloud (a ``recv`` there) after which the
    cloud sent no message ``answers`` and did not crash or restart before it sent anything
    at all (None: none did). A give-up excuses only what the network or a crash could
    have lost: not this. A crash loses only what reached the cloud since it last sent a
    message (a step's writes are committed before its messages go out): one hours after
    the cloud went past an arrival excuses nothing (reviewer Q's F1), nor one between
    steps right after it."""
    replies = [e for e in run if e.kind == "send" and e.frm == CLOUD and answers(e)]
    last_reply = max((e.at for e in replies), default=-1)
    for arrival in (e for e in run if e.kind == "recv" and e.to == CLOUD and arrived(e)):
        if arrival.at < last_reply:
            continue
        if not _lost_in_a_crash(run, arrival):
            return arrival.t
    return None


def _lost_in_a_crash(run: Sequence[Ev], arrival: Ev) -> bool:
    """Did the cloud crash or restart after ``arrival`` before it went on: sent any
    message, took another (each message a step of its own, committed before the next, as
    in a simulation), or had its PushDue timer fire? Not if the crash fell between steps
    (the step that took ``arrival`` was committed; a crash inside a step, or one whose
    event does not say where it fell, may have killed that step)."""
    for e in run:
        if e.at <= arrival.at:
            continue
        if e.kind == "recv" and e.to == CLOUD:
            return False
        if e.frm != CLOUD:
            continue
        if e.kind in {"send", "push-due"}:
            return False
        if e.kind in {"crash", "restart"}:
            # a crash between steps: the arrival's step was committed (it went on)
            return e.detail != "between-steps"
    return False


GaveUpOn = Callable[[str, str | None, str], bool]


def unreplied_request(
    run: Sequence[Ev], key: tuple[str, object], sent: Ev, end: float, gave_up_on: GaveUpOn
) -> Verdict | None:
    """The verdict of a request ``sent`` with no reply at its phone (None: excused, its
    phone gave up and the network or a crash could have lost it)."""
    phone, request_id = key
    hints = [f"request {request_id} for {sent.receipt}"]
    if gave_up_on(phone, sent.receipt, "association-request"):
        arrived = unanswered_arrival(
            run,
            lambda e: (
                e.typ == "association-request"
                and e.frm == phone
                and e.body.get("request_id") == request_id
            ),
            lambda e: (
                e.typ in {"association-response", "error-reply"}
                and e.to == phone
                and e.body.get("request_id") == request_id
            ),
        )
        if arrived is None:
            return None
        hints.append(f"the cloud received it at t={arrived:.3f} and sent none")
    return Verdict(NO_DELIVERY_LOST, sent.receipt, (phone, CLOUD), (sent.t, end), tuple(hints))


def unsettled_upload(
    run: Sequence[Ev], key: tuple[str | None, str], sent: Ev, end: float, gave_up_on: GaveUpOn
) -> Verdict | None:
    """The verdict of an upload ``sent`` neither acknowledged nor refused at its POS
    (None: excused, as :func:`unreplied_request`)."""
    receipt, pos = key
    hints = [f"upload of {receipt}", f"at {pos}"]
    if gave_up_on(pos, receipt, "purchase-upload"):
        arrived = unanswered_arrival(
            run,
            lambda e: e.typ == "purchase-upload" and e.frm == pos and e.receipt == receipt,
            lambda e: (
                e.typ in {"upload-ack", "error-reply"} and e.to == pos and e.receipt == receipt
            ),
        )
        if arrived is None:
            return None
        hints.append(f"the cloud received it at t={arrived:.3f} and sent no answer")
    return Verdict(NO_DELIVERY_LOST, receipt, (pos, CLOUD), (sent.t, end), tuple(hints))


def resubscriptions(run: Sequence[Ev], end: float) -> tuple[int, list[Verdict]]:
    """Each give-up of a phone's subscription whose next event of that phone, of a receipt
    notice received, its subscribe received by the cloud or another give-up of its
    subscription, is the notice: how many, and those never followed by one of the other
    two, of a phone the cloud never acknowledged."""
    counted, dead = 0, []
    acked = {PHONE + phone for phone in subscriptions(run)}

    def gave_up(e: Ev) -> bool:
        return (e.kind, e.typ, e.receipt) == ("note", "gave-up", None) and (
            is_phone(e.frm) and "no answer to subscribe " in e.detail
        )

    def again(e: Ev, phone: str) -> bool:
        arrived = (e.kind, e.typ, e.frm, e.to) == ("recv", "subscribe", phone, CLOUD)
        return arrived or (gave_up(e) and e.frm == phone)

    for g in run:
        if not gave_up(g):
            continue
        phone = g.frm
        notice = next(
            (
                e
                for e in run[g.at + 1 :]
                if again(e, phone) or (e.kind, e.typ, e.to) == ("recv", "receipt-notice", phone)
            ),
            None,
        )
        if notice is None or notice.typ != "receipt-notice":
            continue
        counted += 1
        if phone in acked or any(again(e, phone) for e in run[notice.at + 1 :]):
            continue
        dead.append(
            (
                notice.at,
                Verdict(
                    NO_DELIVERY_LOST,
                    notice.receipt,
                    (phone, CLOUD),
                    (g.t, notice.t, end),
                    (f"gave up at t={g.t:.3f}", f"reached it at t={notice.t:.3f}"),
                ),
            )
        )
    return counted, [verdict for _, verdict in sorted(dead)]


def judge(run: Sequence[Ev], push_timeout: float | None, end: float) -> Judged:
    """The verdicts of a run ending at ``end``."""
    receipts, subscribed, shows = by_receipt(run), subscriptions(run), reliable(run)
    gave_up = [e for e in run if e.kind == "note" and e.typ == "gave-up"]

    def gave_up_on(actor: str, receipt: str | None, typ: str) -> bool:
        return any(e.frm == actor and e.receipt == receipt and typ in e.detail for e in gave_up)

    def has_products(events: Sequence[Ev], address: str) -> bool:  # shown, or received
        if shows:
            return any(e.kind == "note" and e.typ == "shown" and e.frm == address for e in events)
        return any(e.to == address for e in messages(events, "recv", *DELIVERIES))

    # 1. An acknowledged upload owed to the phone the POS named is shown there (509, 605).
    bindings = {r: b for r, events in receipts.items() if (b := binding(events))}
    owed, withheld, undelivered = 0, 0, []
    for receipt, bound in sorted(bindings.items(), key=lambda item: item[1].ack.at):
        events = receipts[receipt]
        since = owed_since(events, bound, subscribed.get(bound.phone), push_timeout)
        if since is None:
            withheld += 1
            continue
        owed += 1
        address = PHONE + bound.phone
        if has_products(events, address):
            continue
        sent = cloud_delivered(events, address)
        hints = [
            f"named phone {bound.phone} (subscribed at t={since:.3f})",
            "never sent it" if sent is None else f"sent it at t={sent:.3f}",
        ]
        if gave_up_on(CLOUD, receipt, "association-push"):
            hints.append("gave up re-sending the push")
        times = (bound.ack.t, since, end)
        actors = (bound.pos, CLOUD, address)
        undelivered.append(Verdict(NO_DELIVERY_LOST, receipt, actors, times, tuple(hints)))
    # 2. Every request a phone sent (503) gets a reply there: a response (508) or a refusal;
    # unless the phone gave up on it and the network (or a crash) could have lost it.
    asked = messages(run, "send", "association-request")
    requests = first_of(
        ((e.frm, e.body.get("request_id")), e) for e in asked if e.receipt and is_phone(e.frm)
    )
    replies = messages(run, "recv", "association-response", "error-reply")
    replied = {(e.to, e.body.get("request_id")) for e in replies if is_phone(e.to)}
    unreplied = [
        verdict
        for key, e in requests.items()
        if key not in replied
        and (verdict := unreplied_request(run, key, e, end, gave_up_on)) is not None
    ]
    # 3. Every upload a POS sent (501) is acknowledged or refused at that POS (a second POS
    # uploading the receipt is owed its own answer), unless that POS gave up and the
    # network (or a crash) could have lost it: not if it reached the cloud and the cloud
    # answered it nothing since, and did not crash or restart since.
    uploads = first_of(
        ((e.receipt, e.frm), e)
        for e in messages(run, "send", "purchase-upload")
        if e.receipt and e.to == CLOUD and e.frm != CLOUD
    )
    answers = messages(run, "recv", "upload-ack", "error-reply")
    settled = {(e.receipt, e.to) for e in answers if e.frm == CLOUD and is_pos(e.to)}
    unsettled = [
        verdict
        for (receipt, pos), e in uploads.items()
        if (receipt, pos) not in settled
        and (verdict := unsettled_upload(run, (receipt, pos), e, end, gave_up_on)) is not None
    ]
    # 4. Every subscription the cloud received is acknowledged or refused.
    subscribing = first_of((e.frm, e) for e in messages(run, "recv", "subscribe") if e.to == CLOUD)
    acks = messages(run, "send", "subscribe-ack", "error-reply")  # a refusal naming nothing
    answered = {
        e.to
        for e in acks
        if e.frm == CLOUD and e.receipt is None and e.body.get("request_id") is None
    }
    unanswered = [
        Verdict(
            NO_DELIVERY_LOST,
            None,
            (phone, CLOUD),
            (e.t, end),
            (f"subscription of {phone} at t={e.t:.3f}",),
        )
        for phone, e in subscribing.items()
        if phone not in answered
    ]
    # 5. A phone whose subscription gave up subscribes again (a subscribe sent, or a late
    # subscribe-ack received) once a receipt notice reaches it after the give-up.
    noticed_after, dead = resubscriptions(run, end)
    lost = undelivered + unreplied + unsettled + unanswered + dead
    checked = owed + len(requests) + len(uploads) + len(subscribing) + noticed_after
    twice, pairs = shown_twice(run) if shows else received_twice(run)
    return Judged(tuple(lost), checked, twice, pairs, pushed_after(run), withheld)


def _again(
    events: Sequence[Ev], key: Callable[[Ev], object], hint: Callable[[Ev], str]
) -> tuple[tuple[Verdict, ...], int]:
    """Each event after the first of its key, as a duplicate; and how many keys."""
    first = first_of((key(e), e) for e in events)
    again = tuple(
        Verdict(NO_DUPLICATE_SHOWN, e.receipt, (e.to,), (first[key(e)].t, e.t), (hint(e),))
        for e in events
        if first[key(e)] is not e
    )
    return again, len(first)


def shown_twice(run: Sequence[Ev]) -> tuple[tuple[Verdict, ...], int]:
    """A phone shows its user each receipt's products once (``shown`` notes)."""
    shown = [e for e in run if e.kind == "note" and e.typ == "shown" and e.receipt]
    return _again(shown, lambda e: (e.to, e.receipt), lambda e: "shown again")


def received_twice(run: Sequence[Ev]) -> tuple[tuple[Verdict, ...], int]:
    """Without notes: a phone receives one response per request, one push per receipt."""
    got = [e for e in messages(run, "recv", *DELIVERIES) if e.receipt and is_phone(e.to)]

    def key(e: Ev) -> object:  # a response answers one request; a push, one receipt
        response = e.typ == "association-response"
        return (e.to, e.typ, e.body.get("request_id") if response else e.receipt)

    def hint(e: Ev) -> str:
        if e.typ == "association-response":
            return f"a second response to request {e.body.get('request_id')}"
        return "a second push"

    again, _ = _again(got, key, hint)
    return again, len({(e.to, e.receipt) for e in got})


def pushed_after(run: Sequence[Ev]) -> tuple[Verdict, ...]:
    """Step 603: a timeout push only when no request came; so never to a phone the cloud
    had already answered or dual-sent (unit 8022) that receipt."""
    sent = [e for e in messages(run, "send", *DELIVERIES) if e.frm == CLOUD and is_phone(e.to)]

    def firsts(which: Callable[[Ev], bool]) -> dict[tuple[str | None, str], Ev]:
        return first_of(((e.receipt, e.to), e) for e in sent if which(e))

    timeouts = firsts(lambda e: e.body.get("reason") == "timeout")  # the first, judged
    answers = firsts(lambda e: e.typ == "association-response")
    duals = firsts(lambda e: e.body.get("reason") == "dual-send")
    out = []
    for (receipt, phone), push in timeouts.items():
        for earlier, hint in (
            (answers.get((receipt, phone)), "answered"),
            (duals.get((receipt, phone)), "after the dual-send"),
        ):
            if earlier is not None and earlier.at < push.at:
                times = (earlier.t, push.t)
                out.append(Verdict(TIMEOUT_PUSH, receipt, (CLOUD, phone), times, (hint,)))
                break
    return tuple(out)
