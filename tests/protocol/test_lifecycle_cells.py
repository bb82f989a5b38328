"""Every cell of the lifecycle table, driven through the cloud, one step from each state.

For each state a fixed recipe brings one receipt there through a real
:class:`~protocol.CloudMachine`; then one step fires the event (an upload, a request, a push
deadline, an acknowledgement, re-sends until the outbox gives up). Two things are judged:

* the state derived from the store after the step is the one :data:`LIFECYCLE` names (the
  state before it, where the table refuses the event): the table and the cloud agree;
* the step shows it took the event (a response, a push, a note, a timer) exactly where the
  table allows it;
* the pushes and re-armed timers of the step are those the patent's rules owe, written
  here without the table (step 603: a timeout push only for a receipt armed and never
  delivered; unit 8022: a dual-send only to a phone not yet sent the products; step 602
  again: a repeated upload re-arms only a receipt neither armed nor delivered). The cloud
  consults the table for these decisions, so a wrong cell there moves the cloud and the
  table together, and only an expectation of its own can see it.

The hypothesis state machine of ``test_lifecycle.py`` judges the same agreement over random
walks; a mutation audit found that its default budget (60 walks) misses a three-step walk
(``tests/planted/lifecycle_mutants.py``). Here every cell is judged on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest

from protocol import (
    AssociationRequest,
    AssociationResponse,
    CloudConfig,
    CloudMachine,
    CloudNote,
    Effects,
    InMemoryStore,
    PushAck,
    PushDue,
    PushReason,
    ReceiptKey,
    RetryPolicy,
    RuleRecommender,
    Subscribe,
    phone_address,
)
from protocol._machines._lifecycle import (
    LIFECYCLE,
    ReceiptEvent,
    ReceiptState,
    allows,
    receipt_state,
    transition,
)
from protocol.lowlevel import OutboxNote, Resend
from tests.builders import ALICE, BOB, MERCHANT, POS, catalog_upload, sent_pushes
from tests.planted.any_push_state import any_push_receipt_state
from tests.planted.lifecycle_mutants import MUTANT_TABLES, mutant_table
from tests.planted.unrepairing_cloud import UnrepairingCloud

S, E = ReceiptState, ReceiptEvent
TIMEOUT = 60.0
RETRY = RetryPolicy(first_delay=1.0, max_attempts=2)
KEY = ReceiptKey(MERCHANT, "r-1")
UPLOAD = catalog_upload("r-1", ALICE)  # ALICE is the phone the POS names
CONFLICT = catalog_upload("r-1", ALICE, ("FOOD-PA-001",))
LATER = 10 * TIMEOUT  # every step is taken after the deadline and the re-sends reached so far


def _cloud(cloud_class: type[CloudMachine] = CloudMachine) -> CloudMachine:
    config = CloudConfig(push_timeout=TIMEOUT, retry=RETRY)
    return cloud_class(store=InMemoryStore(), recommender=RuleRecommender(), config=config)


def _subscribe(cloud: CloudMachine, phone: str) -> None:
    cloud.handle(Subscribe(phone), phone_address(phone), 0.0)


def _ask(cloud: CloudMachine, phone: str, now: float) -> Effects:
    return cloud.handle(AssociationRequest(1, "r-1", MERCHANT, phone), phone_address(phone), now)


def _reach(cloud: CloudMachine, state: ReceiptState, subscribed: bool) -> None:
    """Bring ``r-1`` to ``state``; ALICE (named) ends subscribed iff ``subscribed``; BOB is."""
    _subscribe(cloud, BOB)
    if state is S.NOT_UPLOADED:
        pass
    elif state is S.PUSH_PENDING:
        cloud.handle(UPLOAD, POS, 0.0)
    elif state is S.WITHHELD:
        cloud.handle(UPLOAD, POS, 0.0)
        cloud.timer_fired(PushDue("r-1", MERCHANT), TIMEOUT)  # ALICE not subscribed yet
    else:
        _subscribe(cloud, ALICE)
        cloud.handle(UPLOAD, POS, 0.0)
        if state is S.PUSHED:
            cloud.timer_fired(PushDue("r-1", MERCHANT), TIMEOUT)
        elif state is S.DUAL_SENT:
            _ask(cloud, BOB, 1.0)
        else:
            _ask(cloud, ALICE, 1.0)
    if subscribed:
        _subscribe(cloud, ALICE)
    assert receipt_state(cloud.store, KEY) is state, "the recipe missed its state"


def _give_up(cloud: CloudMachine) -> Effects:
    effects = Effects()
    for attempt in range(RETRY.max_attempts + 1):
        effects += cloud.timer_fired(Resend((KEY, ALICE)), LATER + attempt * TIMEOUT)
    return effects


def _upload(cloud: CloudMachine, state: ReceiptState) -> Effects:
    # A bound receipt's upload is a repeat or a conflict: the conflict is upload-stored.
    return cloud.handle(UPLOAD if state is S.NOT_UPLOADED else CONFLICT, POS, 1.0)


def _push_due(cloud: CloudMachine, state: ReceiptState) -> Effects:
    return cloud.timer_fired(PushDue("r-1", MERCHANT), LATER)


def _acknowledge(cloud: CloudMachine, state: ReceiptState) -> Effects:
    return cloud.handle(PushAck("r-1", MERCHANT, ALICE), phone_address(ALICE), LATER)


# Each driven event: whether ALICE must be subscribed for the step to be that event, and
# the step. PUSH_SUPERSEDED is no step of its own: it follows REQUEST_ANSWERED in one step.
STEPS: dict[ReceiptEvent, tuple[bool, Callable[[CloudMachine, ReceiptState], Effects]]] = {
    E.UPLOAD_STORED: (True, _upload),
    E.UPLOAD_REPEATED: (True, lambda cloud, state: cloud.handle(UPLOAD, POS, LATER)),
    E.REQUEST_ANSWERED: (True, lambda cloud, state: _ask(cloud, ALICE, LATER)),
    E.MISMATCH_DUAL_SENT: (True, lambda cloud, state: _ask(cloud, BOB, LATER)),
    E.DUAL_SEND_WITHHELD: (False, lambda cloud, state: _ask(cloud, BOB, LATER)),
    E.PUSH_DUE_SUBSCRIBED: (True, _push_due),
    E.PUSH_DUE_NOT_SUBSCRIBED: (False, _push_due),
    E.PUSH_ACKNOWLEDGED: (True, _acknowledge),
    E.PUSH_GAVE_UP: (True, lambda cloud, state: _give_up(cloud)),
}
# Only a phone that subscribed can be sent the products, and nobody unsubscribes.
NEEDS_SUBSCRIBED = frozenset({S.PUSHED, S.DUAL_SENT, S.DELIVERED})
# The cells no step reaches: the upload of an unbound receipt is upload-stored, never a repeat.
UNDRIVEN = {(S.NOT_UPLOADED, E.UPLOAD_REPEATED)}
CELLS = [
    (state, event)
    for state in S
    for event, (subscribed, _) in STEPS.items()
    if (subscribed or state not in NEEDS_SUBSCRIBED) and (state, event) not in UNDRIVEN
]


def _expected(state: ReceiptState, event: ReceiptEvent) -> ReceiptState:
    """The table's state after the step (a refused event leaves the receipt where it is)."""
    after = transition(state, event) if allows(state, event) else state
    if event is E.REQUEST_ANSWERED and allows(after, E.PUSH_SUPERSEDED):
        after = transition(after, E.PUSH_SUPERSEDED)  # the same step supersedes the push
    return after


def _owed(state: ReceiptState, event: ReceiptEvent) -> tuple[list[PushReason], bool]:
    """The patent's rules, without the table: the pushes the step sends (first sends only,
    not re-sends), and whether it arms the push timer (step 602)."""
    never_delivered = state in (S.PUSH_PENDING, S.WITHHELD)
    if event is E.PUSH_DUE_SUBSCRIBED and state is S.PUSH_PENDING:
        return [PushReason.TIMEOUT], False  # 603: no request within the period
    if event is E.MISMATCH_DUAL_SENT and never_delivered:
        return [PushReason.DUAL_SEND], False  # 8022: the named phone gets them too
    if event is E.UPLOAD_STORED and state is S.NOT_UPLOADED:
        return [], True  # 602
    if event is E.UPLOAD_REPEATED and state is S.WITHHELD:
        return [], True  # 602 again: neither armed nor delivered (the repair)
    return [], False


@pytest.mark.parametrize(("state", "event"), CELLS, ids=[f"{s}-{e}" for s, e in CELLS])
def test_the_cloud_takes_every_cell_as_the_table_says(
    state: ReceiptState, event: ReceiptEvent
) -> None:
    check_cell(state, event)


def check_cell(
    state: ReceiptState, event: ReceiptEvent, cloud_class: type[CloudMachine] = CloudMachine
) -> None:
    """One cell: the derived state is the table's, and the step's pushes and timers are
    what the rules owe."""
    subscribed, step = STEPS[event]
    cloud = _cloud(cloud_class)
    _reach(cloud, state, subscribed)
    effects = step(cloud, state)
    assert receipt_state(cloud.store, KEY) is _expected(state, event), (state, event)
    pushes, armed = _owed(state, event)
    first_sends = [p.reason for p in sent_pushes(effects)] if event is not E.PUSH_GAVE_UP else []
    assert first_sends == pushes, (state, event)
    arms = [t for t in effects.timers if isinstance(t.key, PushDue)]
    assert bool(arms) is armed, (state, event)
    seen = _seen(event, effects)
    assert seen is None or seen is allows(state, event), (state, event, "allowed?")


def _seen(event: ReceiptEvent, effects: Effects) -> bool | None:
    """Whether the step shows it took ``event`` (a refused event leaves no such sign);
    None for the events that leave no sign but in the store."""
    notes = {note.kind for note in effects.notes}
    reasons = [p.reason for p in sent_pushes(effects)]
    signs = {
        E.UPLOAD_STORED: any(isinstance(t.key, PushDue) for t in effects.timers),
        E.REQUEST_ANSWERED: any(isinstance(s.message, AssociationResponse) for s in effects.sends),
        E.MISMATCH_DUAL_SENT: PushReason.DUAL_SEND in reasons,
        E.DUAL_SEND_WITHHELD: CloudNote.DUAL_SEND_WITHHELD in notes,
        E.PUSH_DUE_SUBSCRIBED: PushReason.TIMEOUT in reasons,
        E.PUSH_DUE_NOT_SUBSCRIBED: CloudNote.PUSH_WITHHELD in notes,
        E.PUSH_GAVE_UP: OutboxNote.GAVE_UP in notes,
    }
    return signs.get(event)


def test_every_cell_a_step_reaches_is_judged() -> None:
    # Every (state, event) pair is driven, except the few no step can reach, named here.
    judged = set(CELLS)
    missed = {(s, e) for s in S for e in E} - judged
    assert missed == UNDRIVEN | {(s, E.PUSH_SUPERSEDED) for s in S} | {
        (s, e) for s in NEEDS_SUBSCRIBED for e, (subscribed, _) in STEPS.items() if not subscribed
    }


@pytest.mark.parametrize("name", sorted(MUTANT_TABLES))
def test_a_wrong_cell_is_caught(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The survivors of the mutation audit (M_results): each is one cell changed; the
    # cells test fails on it (the table and the cloud disagree, or a push is missed).
    wrong = mutant_table(*MUTANT_TABLES[name])
    rows = cast(dict[ReceiptState, object], LIFECYCLE)
    for state, row in wrong.items():  # the cloud and the test both read the wrong table
        monkeypatch.setitem(rows, state, row)
    caught = []
    for cell in CELLS:
        try:
            check_cell(*cell)
        except AssertionError:
            caught.append(cell)
    assert caught, f"no cell catches {name}"


def test_a_cloud_that_never_mends_a_lost_push_is_caught() -> None:
    # Planted: the cloud's own reading of the table's answer made wrong (not the table).
    with pytest.raises(AssertionError, match=r"withheld.*upload-repeated"):
        check_cell(S.WITHHELD, E.UPLOAD_REPEATED, UnrepairingCloud)


# --------------------------------------------------------------------------- one phone, many pushes


def _three_receipts_of_one_phone() -> CloudMachine:
    """ALICE named on r-1 (dual-sent), r-2 (pushed, first) and r-3 (answered)."""
    cloud = _cloud()
    for phone in (ALICE, BOB):
        _subscribe(cloud, phone)
    for receipt in ("r-1", "r-2", "r-3"):
        cloud.handle(catalog_upload(receipt, ALICE), POS, 0.0)
    cloud.timer_fired(PushDue("r-2", MERCHANT), TIMEOUT)
    cloud.handle(AssociationRequest(1, "r-1", MERCHANT, BOB), phone_address(BOB), TIMEOUT + 1)
    cloud.handle(AssociationRequest(2, "r-3", MERCHANT, ALICE), phone_address(ALICE), 1.0)
    return cloud


THREE_STATES = {"r-1": S.DUAL_SENT, "r-2": S.PUSHED, "r-3": S.DELIVERED}


@pytest.mark.parametrize("hinted", [False, True])
def test_each_receipt_is_judged_by_its_own_push(hinted: bool) -> None:
    # The phone's other receipts' pushes are not this receipt's (the store keeps one list).
    cloud = _three_receipts_of_one_phone()
    in_flight = cloud._pushes if hinted else None
    for receipt, state in THREE_STATES.items():
        key = ReceiptKey(MERCHANT, receipt)
        assert receipt_state(cloud.store, key, in_flight=in_flight) is state, receipt


def test_a_push_matched_by_phone_alone_is_caught() -> None:
    # Planted: receipt_state taking any outgoing push of the phone (or of the receipt).
    cloud = _three_receipts_of_one_phone()
    judged = {
        receipt: any_push_receipt_state(cloud.store, ReceiptKey(MERCHANT, receipt))
        for receipt in THREE_STATES
    }
    assert judged != THREE_STATES
