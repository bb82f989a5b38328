"""The receipt lifecycle: its states, the events that move it, and the table between them.

Modelled on h11's ``_state.py``: a receipt is in one :class:`ReceiptState`; a
:class:`ReceiptEvent` (a step the cloud takes on it) moves it to the state that
:data:`LIFECYCLE` names, or is refused there with a :class:`Refusal` saying why. Every
(state, event) pair is in the table, the one place the lifecycle's rules are written:
:class:`~protocol.CloudMachine` decides with :func:`allows` and :data:`LIFECYCLE` (which
event a step is, is its business: who asked, whether the phone subscribed, whether the
deadline passed), the documentation shows the table (``docs/protocol.md``, from
:func:`markdown`), and the trace checker judges from the outside the cells whose
refusal a trace can show: a timeout push or a dual-send after a delivery, a push re-sent
after its PushAck or after the answer that supersedes it, products to a phone never
subscribed, and the first push's time (``scenarios/_trace/_checks.py``,
``scenarios/_sim/_promises.py``; which cell by which invariant: ``docs/protocol.md``, "What
the trace checker judges of the table"). The rest (a re-armed push, a give-up, the state
itself) no message shows.

The lifecycle is that of a receipt and the phone its POS named (the one the binding holds):
every push, and every delivery the cloud records, goes to that phone. A mismatched
requester is answered (step 508) but has no lifecycle: nothing is kept about it.

Nobody stores the state. It is a function of four of the cloud store's collections, the
binding, the pending push, the named phone's delivery record and its outgoing push
(:func:`receipt_state`; the table of :data:`DERIVATION`), so a restarted cloud is in the
same states as the one that stopped, and the store needs no column for it. The store
cannot tell an answered receipt from one whose push was acknowledged, superseded or given
up on, and neither does the protocol: from each of them the same events do the same
(nothing more is ever sent unasked), so they are one state, ``delivered``.

Not events: a refused message (a forged identifier, an unknown receipt, an unsubscribed
requester, a conflicting upload, a mismatch under ``MismatchPolicy.REJECT``) and a restart
leave every receipt as it is. One step may fire two events: a request answered while a push
of the receipt is outstanding (``request-answered``, then ``push-superseded``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from protocol._core._errors import LocalProtocolError
from protocol._core._messages import PushReason, ReceiptKey

from ._store import Binding, CloudStore

__all__ = [
    "DERIVATION",
    "LIFECYCLE",
    "Derivation",
    "InFlight",
    "ReceiptEvent",
    "ReceiptState",
    "Refusal",
    "allows",
    "derive_state",
    "markdown",
    "receipt_state",
    "transition",
]


class ReceiptState(enum.StrEnum):
    """Where a receipt is, for the phone its POS named."""

    NOT_UPLOADED = "not-uploaded"  # no binding: before step 502
    PUSH_PENDING = "push-pending"  # steps 502/602: bound, the push armed, waiting for 503
    WITHHELD = "withheld"  # step 603 found the phone unsubscribed: bound, nothing armed
    PUSHED = "pushed"  # step 603: the timeout push sent, not yet acknowledged
    DUAL_SENT = "dual-sent"  # unit 8022: the dual-send push sent, not yet acknowledged
    DELIVERED = "delivered"  # step 508 answered, or a push acknowledged/superseded/given up


class ReceiptEvent(enum.StrEnum):
    """A step the cloud takes on a receipt."""

    UPLOAD_STORED = "upload-stored"  # steps 502/602: bind, arm the push
    UPLOAD_REPEATED = "upload-repeated"  # step 501 re-sent (same content): re-arm if needed
    REQUEST_ANSWERED = "request-answered"  # steps 505-508: the named phone asked
    PUSH_SUPERSEDED = "push-superseded"  # the response supersedes an unacknowledged push
    MISMATCH_DUAL_SENT = "mismatch-dual-sent"  # unit 8022: the named phone gets a push too
    DUAL_SEND_WITHHELD = "dual-send-withheld"  # unit 8022: the named phone not subscribed
    PUSH_DUE_SUBSCRIBED = "push-due-subscribed"  # step 603: push unasked
    PUSH_DUE_NOT_SUBSCRIBED = "push-due-not-subscribed"  # step 603: withhold the push
    PUSH_ACKNOWLEDGED = "push-acknowledged"  # the phone's PushAck: it has the push (605)
    PUSH_GAVE_UP = "push-gave-up"  # the outbox's last re-send went unacknowledged


class Refusal(enum.StrEnum):
    """Why an event cannot happen in a state (the receipt stays where it is)."""

    NOT_BOUND = "not-bound"  # no upload stored: a request gets unknown-receipt
    ALREADY_BOUND = "already-bound"  # the upload is a repeat, or a conflicting-upload
    NOT_ARMED = "not-armed"  # no push armed: a stale timer
    ALREADY_DELIVERED = "already-delivered"  # the named phone was sent the products
    NOTHING_OUTSTANDING = "nothing-outstanding"  # no push awaits an acknowledgement


_S, _E, _R = ReceiptState, ReceiptEvent, Refusal

LIFECYCLE: Mapping[ReceiptState, Mapping[ReceiptEvent, ReceiptState | Refusal]] = {
    _S.NOT_UPLOADED: {
        _E.UPLOAD_STORED: _S.PUSH_PENDING,
        _E.UPLOAD_REPEATED: _R.NOT_BOUND,
        _E.REQUEST_ANSWERED: _R.NOT_BOUND,
        _E.PUSH_SUPERSEDED: _R.NOT_BOUND,
        _E.MISMATCH_DUAL_SENT: _R.NOT_BOUND,
        _E.DUAL_SEND_WITHHELD: _R.NOT_BOUND,
        _E.PUSH_DUE_SUBSCRIBED: _R.NOT_BOUND,
        _E.PUSH_DUE_NOT_SUBSCRIBED: _R.NOT_BOUND,
        _E.PUSH_ACKNOWLEDGED: _R.NOT_BOUND,
        _E.PUSH_GAVE_UP: _R.NOT_BOUND,
    },
    _S.PUSH_PENDING: {
        _E.UPLOAD_STORED: _R.ALREADY_BOUND,
        _E.UPLOAD_REPEATED: _S.PUSH_PENDING,
        _E.REQUEST_ANSWERED: _S.DELIVERED,  # the armed push is disarmed
        _E.PUSH_SUPERSEDED: _R.NOTHING_OUTSTANDING,
        _E.MISMATCH_DUAL_SENT: _S.DUAL_SENT,  # the armed push is disarmed
        _E.DUAL_SEND_WITHHELD: _S.PUSH_PENDING,
        _E.PUSH_DUE_SUBSCRIBED: _S.PUSHED,
        _E.PUSH_DUE_NOT_SUBSCRIBED: _S.WITHHELD,
        _E.PUSH_ACKNOWLEDGED: _R.NOTHING_OUTSTANDING,
        _E.PUSH_GAVE_UP: _R.NOTHING_OUTSTANDING,
    },
    _S.WITHHELD: {
        _E.UPLOAD_STORED: _R.ALREADY_BOUND,
        _E.UPLOAD_REPEATED: _S.PUSH_PENDING,  # step 602 again, at the original deadline
        _E.REQUEST_ANSWERED: _S.DELIVERED,  # the phone subscribed since, and asked
        _E.PUSH_SUPERSEDED: _R.NOTHING_OUTSTANDING,
        _E.MISMATCH_DUAL_SENT: _S.DUAL_SENT,  # the named phone subscribed since
        _E.DUAL_SEND_WITHHELD: _S.WITHHELD,
        _E.PUSH_DUE_SUBSCRIBED: _R.NOT_ARMED,
        _E.PUSH_DUE_NOT_SUBSCRIBED: _R.NOT_ARMED,
        _E.PUSH_ACKNOWLEDGED: _R.NOTHING_OUTSTANDING,
        _E.PUSH_GAVE_UP: _R.NOTHING_OUTSTANDING,
    },
    _S.PUSHED: {
        _E.UPLOAD_STORED: _R.ALREADY_BOUND,
        _E.UPLOAD_REPEATED: _S.PUSHED,
        _E.REQUEST_ANSWERED: _S.PUSHED,  # answered; then push-superseded
        _E.PUSH_SUPERSEDED: _S.DELIVERED,
        _E.MISMATCH_DUAL_SENT: _R.ALREADY_DELIVERED,
        _E.DUAL_SEND_WITHHELD: _S.PUSHED,
        _E.PUSH_DUE_SUBSCRIBED: _R.ALREADY_DELIVERED,  # a push at most once
        _E.PUSH_DUE_NOT_SUBSCRIBED: _R.ALREADY_DELIVERED,
        _E.PUSH_ACKNOWLEDGED: _S.DELIVERED,
        _E.PUSH_GAVE_UP: _S.DELIVERED,
    },
    _S.DUAL_SENT: {
        _E.UPLOAD_STORED: _R.ALREADY_BOUND,
        _E.UPLOAD_REPEATED: _S.DUAL_SENT,
        _E.REQUEST_ANSWERED: _S.DUAL_SENT,  # answered; then push-superseded
        _E.PUSH_SUPERSEDED: _S.DELIVERED,
        _E.MISMATCH_DUAL_SENT: _R.ALREADY_DELIVERED,  # a dual-send at most once
        _E.DUAL_SEND_WITHHELD: _S.DUAL_SENT,
        _E.PUSH_DUE_SUBSCRIBED: _R.ALREADY_DELIVERED,  # never a push after a delivery
        _E.PUSH_DUE_NOT_SUBSCRIBED: _R.ALREADY_DELIVERED,
        _E.PUSH_ACKNOWLEDGED: _S.DELIVERED,
        _E.PUSH_GAVE_UP: _S.DELIVERED,
    },
    _S.DELIVERED: {
        _E.UPLOAD_STORED: _R.ALREADY_BOUND,
        _E.UPLOAD_REPEATED: _S.DELIVERED,
        _E.REQUEST_ANSWERED: _S.DELIVERED,  # the user asks again: answered again
        _E.PUSH_SUPERSEDED: _R.NOTHING_OUTSTANDING,
        _E.MISMATCH_DUAL_SENT: _R.ALREADY_DELIVERED,
        _E.DUAL_SEND_WITHHELD: _S.DELIVERED,
        _E.PUSH_DUE_SUBSCRIBED: _R.ALREADY_DELIVERED,  # never a push after a delivery
        _E.PUSH_DUE_NOT_SUBSCRIBED: _R.ALREADY_DELIVERED,
        _E.PUSH_ACKNOWLEDGED: _R.NOTHING_OUTSTANDING,  # a repeated or late acknowledgement
        _E.PUSH_GAVE_UP: _R.NOTHING_OUTSTANDING,
    },
}
"""``LIFECYCLE[state][event]``: the state the event moves a receipt to, or the
:class:`Refusal` of the event there. Complete: every state has a row, every row every
event."""


def allows(state: ReceiptState, event: ReceiptEvent) -> bool:
    """Whether ``event`` can happen to a receipt in ``state``."""
    return isinstance(LIFECYCLE[state][event], ReceiptState)


def transition(state: ReceiptState, event: ReceiptEvent) -> ReceiptState:
    """The state ``event`` moves a receipt in ``state`` to.

    Raises :class:`~protocol.LocalProtocolError` if the table refuses the event there.
    """
    to = LIFECYCLE[state][event]
    if isinstance(to, ReceiptState):
        return to
    raise LocalProtocolError(f"can't {event} when the receipt is {state}: {to}")


# ------------------------------------------------------------------ the state, from the store


def derive_state(
    *, bound: bool, delivered: bool, outgoing: PushReason | None, armed: bool
) -> ReceiptState:
    """The state of a receipt from four facts the cloud's store keeps about it and its
    named phone: a binding (step 502), a delivery record, the reason of an outgoing push
    not yet acknowledged, a pending push (step 602).

    A delivery record outranks a pending push (a stale one: the machine never pushes after
    a delivery), and an outgoing push counts only beside a delivery record (the cloud
    records the delivery before it keeps the push). See :data:`DERIVATION`.
    """
    if not bound:
        return ReceiptState.NOT_UPLOADED
    if delivered:
        if outgoing is None:
            return ReceiptState.DELIVERED
        return ReceiptState.DUAL_SENT if outgoing is PushReason.DUAL_SEND else ReceiptState.PUSHED
    return ReceiptState.PUSH_PENDING if armed else ReceiptState.WITHHELD


class InFlight(Protocol):
    """The keys ``(receipt, phone_id)`` of pushes known to be outgoing (an outbox)."""

    def __contains__(self, key: tuple[ReceiptKey, str], /) -> bool: ...


def receipt_state(
    store: CloudStore,
    receipt: ReceiptKey,
    *,
    binding: Binding | None = None,
    in_flight: InFlight | None = None,
) -> ReceiptState:
    """The state of ``receipt`` (merchant, receipt id), derived from ``store``
    (:func:`derive_state`).

    ``binding``: the receipt's binding if the caller has read it already (else it is read
    here). ``in_flight``: the keys ``(receipt, phone_id)`` of the pushes the caller
    knows to be outgoing (the cloud's outbox holds exactly its store's outgoing pushes);
    given, the store's outgoing list is searched only for a receipt whose key is in it.
    """
    if binding is None:
        binding = store.binding(receipt)
        if binding is None:
            return ReceiptState.NOT_UPLOADED
    phone_id = binding.phone_id
    delivered = store.was_delivered(receipt, phone_id)
    outgoing: PushReason | None = None
    if delivered and (in_flight is None or (receipt, phone_id) in in_flight):
        for push in store.outgoing():
            if push.receipt == receipt and push.phone_id == phone_id:
                outgoing = push.reason
                break
    armed = not delivered and store.pending_push(receipt) is not None
    return derive_state(bound=True, delivered=delivered, outgoing=outgoing, armed=armed)


class Derivation(NamedTuple):
    """One row of :data:`DERIVATION`: facts of the store (``"any"``: whichever) and the
    state they make."""

    binding: str  # "yes" / "no": the receipt is bound (step 502)
    delivered: str  # "yes" / "no": a delivery to the named phone is recorded
    outgoing: str  # "timeout" / "dual-send" / "none": the push kept until acknowledged
    armed: str  # "yes" / "no": a pending push (step 602)
    state: ReceiptState


DERIVATION: tuple[Derivation, ...] = (
    Derivation("no", "any", "any", "any", ReceiptState.NOT_UPLOADED),
    Derivation("yes", "yes", "timeout", "any", ReceiptState.PUSHED),
    Derivation("yes", "yes", "dual-send", "any", ReceiptState.DUAL_SENT),
    Derivation("yes", "yes", "none", "any", ReceiptState.DELIVERED),
    Derivation("yes", "no", "any", "yes", ReceiptState.PUSH_PENDING),
    Derivation("yes", "no", "any", "no", ReceiptState.WITHHELD),
)
""":func:`derive_state` as a table, first matching row first (``docs/protocol.md``)."""


# ------------------------------------------------------------------ the table, for the docs


def markdown() -> str:
    """Both tables in Markdown, as ``docs/protocol.md`` shows them (a test compares)."""
    lines = [
        "| binding (502) | delivery recorded | outgoing push | pending push (602) | state |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {row.binding} | {row.delivered} | {row.outgoing} | {row.armed} | `{row.state}` |"
            for row in DERIVATION
        ),
        "",
        "| event \\ state | " + " | ".join(f"`{state}`" for state in ReceiptState) + " |",
        "| --- |" + " --- |" * len(ReceiptState),
    ]
    for event in ReceiptEvent:
        cells = []
        for state in ReceiptState:
            to = LIFECYCLE[state][event]
            if isinstance(to, Refusal):
                cells.append(f"refused: {to}")
            elif to is state:
                cells.append("stays")
            else:
                cells.append(f"**`{to}`**")
        lines.append(f"| `{event}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
