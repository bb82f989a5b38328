"""The receipt lifecycle (protocol._machines._lifecycle): the table, the state derived from
the store, the cloud following the table, and the table in docs/protocol.md.

A hypothesis state machine drives one :class:`~protocol.CloudMachine` by hand (uploads,
repeats, requests from the named phone and from others, push deadlines, acknowledgements,
re-sends until it gives up, restarts) and keeps a model of every receipt's state that moves
only by :data:`~protocol._machines._lifecycle.LIFECYCLE`. After every step the state derived
from the store must be the model's, and what the cloud sent must be what the table allows.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import cast

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from protocol import (
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    CloudConfig,
    CloudMachine,
    CloudNote,
    ErrorReply,
    InMemoryStore,
    LocalProtocolError,
    MismatchPolicy,
    PurchaseUpload,
    PushAck,
    PushDue,
    PushReason,
    ReceiptKey,
    RetryPolicy,
    RuleRecommender,
    Subscribe,
    builtin_catalog,
    phone_address,
)
from protocol._machines._lifecycle import (
    DERIVATION,
    LIFECYCLE,
    ReceiptEvent,
    ReceiptState,
    Refusal,
    allows,
    derive_state,
    markdown,
    receipt_state,
    transition,
)
from protocol.lowlevel import (
    Resend,
)
from tests.builders import MERCHANT, PHONES, POS, catalog_upload, sent_pushes

S, E = ReceiptState, ReceiptEvent
CATALOG = builtin_catalog()
TIMEOUT = 60.0
RECEIPTS = ("r-1", "r-2", "r-3")
SKUS = ("SKIN-FW-001", "FOOD-PA-001")
DOC = Path(__file__).parents[2] / "docs" / "protocol.md"
DELIVERED_STATES = frozenset({S.PUSHED, S.DUAL_SENT, S.DELIVERED})


# --------------------------------------------------------------------------- the table


def test_the_table_is_complete() -> None:
    assert list(LIFECYCLE) == list(ReceiptState)
    for state, row in LIFECYCLE.items():
        assert list(row) == list(ReceiptEvent), state
        for event, to in row.items():
            assert isinstance(to, ReceiptState | Refusal), (state, event)


def test_every_state_is_reachable_and_every_event_happens_somewhere() -> None:
    reached = {S.NOT_UPLOADED}
    frontier = [S.NOT_UPLOADED]
    while frontier:
        state = frontier.pop()
        for to in LIFECYCLE[state].values():
            if isinstance(to, ReceiptState) and to not in reached:
                reached.add(to)
                frontier.append(to)
    assert reached == set(ReceiptState)
    for event in ReceiptEvent:
        assert any(allows(state, event) for state in ReceiptState), event


def test_a_push_at_most_once_and_never_after_a_delivery() -> None:
    # Step 603: only an armed receipt is pushed; unit 8022: a dual-send only before any
    # delivery; once the phone was sent the products, nothing leads back.
    assert {s for s in S if allows(s, E.PUSH_DUE_SUBSCRIBED)} == {S.PUSH_PENDING}
    assert {s for s in S if allows(s, E.PUSH_DUE_NOT_SUBSCRIBED)} == {S.PUSH_PENDING}
    assert {s for s in S if allows(s, E.MISMATCH_DUAL_SENT)} == {S.PUSH_PENDING, S.WITHHELD}
    for state in DELIVERED_STATES:
        for event, to in LIFECYCLE[state].items():
            assert not isinstance(to, ReceiptState) or to in DELIVERED_STATES, (state, event)
            if event in (E.PUSH_DUE_SUBSCRIBED, E.MISMATCH_DUAL_SENT):
                assert to is Refusal.ALREADY_DELIVERED


def test_only_an_outstanding_push_is_acknowledged_superseded_or_given_up() -> None:
    for event in (E.PUSH_ACKNOWLEDGED, E.PUSH_SUPERSEDED, E.PUSH_GAVE_UP):
        assert {s for s in S if allows(s, event)} == {S.PUSHED, S.DUAL_SENT}
        assert transition(S.PUSHED, event) is transition(S.DUAL_SENT, event) is S.DELIVERED


def test_a_refused_event_raises_a_local_protocol_error() -> None:
    with pytest.raises(LocalProtocolError, match=r"can't push-due-subscribed .* delivered"):
        transition(S.DELIVERED, E.PUSH_DUE_SUBSCRIBED)
    assert transition(S.PUSH_PENDING, E.PUSH_DUE_SUBSCRIBED) is S.PUSHED


# --------------------------------------------------------------------------- the derivation

YES_NO = (("yes", True), ("no", False))
OUTGOING = (("timeout", PushReason.TIMEOUT), ("dual-send", PushReason.DUAL_SEND), ("none", None))


def test_the_derivation_table_is_derive_state() -> None:
    # Every combination of the four facts: the first row of DERIVATION it matches
    # ("any" matches whatever) names the state derive_state gives.
    for (b, bound), (d, delivered), (o, outgoing), (a, armed) in itertools.product(
        YES_NO, YES_NO, OUTGOING, YES_NO
    ):
        facts = (b, d, o, a)
        row = next(
            row
            for row in DERIVATION
            if all(want in ("any", have) for want, have in zip(row[:4], facts, strict=True))
        )
        derived = derive_state(bound=bound, delivered=delivered, outgoing=outgoing, armed=armed)
        assert row.state is derived, facts


# --------------------------------------------------------------------------- the docs


def test_docs_show_the_table_the_code_has() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- lifecycle: begin.*?-->\n\n(.*?)\n<!-- lifecycle: end -->", text, re.S)
    assert found is not None, "docs/protocol.md lost its lifecycle markers"
    assert found.group(1) == markdown(), (
        "docs/protocol.md's lifecycle tables differ from the code: paste the output of\n"
        "python -c 'from protocol._machines._lifecycle import markdown; "
        'print(markdown(), end="")\''
    )


# --------------------------------------------------------------------------- the cloud obeys


def _cloud() -> CloudMachine:
    return CloudMachine(
        store=InMemoryStore(),
        recommender=RuleRecommender(),
        config=CloudConfig(push_timeout=TIMEOUT),
    )


def test_the_cloud_pushes_only_where_the_table_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = cast(dict[ReceiptState, dict[ReceiptEvent, ReceiptState | Refusal]], LIFECYCLE)
    monkeypatch.setitem(rows[S.PUSH_PENDING], E.PUSH_DUE_SUBSCRIBED, Refusal.NOT_ARMED)
    monkeypatch.setitem(rows[S.PUSH_PENDING], E.MISMATCH_DUAL_SENT, Refusal.ALREADY_DELIVERED)
    cloud = _cloud()
    alice, bob = PHONES[:2]
    for phone in (alice, bob):
        cloud.handle(Subscribe(phone), phone_address(phone), 0.0)
    cloud.handle(catalog_upload("r-1", alice), POS, 0.0)
    cloud.handle(catalog_upload("r-2", alice), POS, 0.0)
    mismatched = cloud.handle(AssociationRequest(1, "r-2", "shop-a", bob), phone_address(bob), 1.0)
    assert [s.message for s in mismatched.sends if isinstance(s.message, AssociationResponse)]
    assert sent_pushes(mismatched) == []
    assert sent_pushes(cloud.timer_fired(PushDue("r-1", "shop-a"), TIMEOUT)) == []


# --------------------------------------------------------------------------- random steps


class CloudLifecycle(RuleBasedStateMachine):
    """A cloud driven by random steps; each receipt's model state moves by the table only."""

    def __init__(self) -> None:
        super().__init__()
        self.policy = MismatchPolicy.DUAL_SEND
        self.store = InMemoryStore()
        self.cloud = self._new_cloud()
        self.now = 0.0
        self.model = dict.fromkeys(RECEIPTS, S.NOT_UPLOADED)
        self.uploads: dict[str, PurchaseUpload] = {}
        self.deadline: dict[str, float] = {}
        self.subscribed: set[str] = set()
        self.restarts = 0

    def _new_cloud(self) -> CloudMachine:
        config = CloudConfig(
            push_timeout=TIMEOUT,
            mismatch_policy=self.policy,
            retry=RetryPolicy(first_delay=1.0, max_attempts=2),
        )
        return CloudMachine(store=self.store, recommender=RuleRecommender(), config=config)

    def _fire(self, receipt: str, event: ReceiptEvent) -> bool:
        """Move the model by ``event`` if the table allows it; say whether it did."""
        if not allows(self.model[receipt], event):
            return False
        self.model[receipt] = transition(self.model[receipt], event)
        return True

    def _named(self, receipt: str) -> str:
        return self.uploads[receipt].phone_id

    def _phone(self, receipt: str, phone: str | None) -> str:
        """``phone``, or (None) the phone named for ``receipt`` (the first if not bound)."""
        if phone is not None:
            return phone
        return self._named(receipt) if receipt in self.uploads else PHONES[0]

    @initialize(policy=st.sampled_from(MismatchPolicy), phones=st.sets(st.sampled_from(PHONES[:2])))
    def choose_policy_and_subscribe(self, policy: MismatchPolicy, phones: set[str]) -> None:
        self.policy = policy
        self.cloud = self._new_cloud()
        for phone in sorted(phones):
            self.subscribe(phone)

    @rule(phone=st.sampled_from(PHONES[:2]))  # the third phone never subscribes
    def subscribe(self, phone: str) -> None:
        self.cloud.handle(Subscribe(phone), phone_address(phone), self.now)
        self.subscribed.add(phone)

    @rule(receipt=st.sampled_from(RECEIPTS), phone=st.sampled_from(PHONES))
    def upload(self, receipt: str, phone: str) -> None:
        upload = self.uploads.get(receipt, catalog_upload(receipt, phone))
        effects = self.cloud.handle(upload, POS, self.now)
        assert effects.sends
        if receipt not in self.uploads:
            assert self._fire(receipt, E.UPLOAD_STORED)
            self.uploads[receipt] = upload
            self.deadline[receipt] = self.now + TIMEOUT
        else:
            assert self._fire(receipt, E.UPLOAD_REPEATED)

    @precondition(lambda self: self.uploads)
    @rule(data=st.data(), phone=st.sampled_from(PHONES))
    def conflicting_upload(self, data: st.DataObject, phone: str) -> None:
        receipt = data.draw(st.sampled_from(sorted(self.uploads)))
        upload = self.uploads[receipt]
        other = catalog_upload(
            receipt, phone, (SKUS[1] if upload.items[0].sku == SKUS[0] else SKUS[0],)
        )
        effects = self.cloud.handle(other, POS, self.now)  # refused: changes nothing
        assert isinstance(effects.sends[0].message, ErrorReply)

    @rule(receipt=st.sampled_from(RECEIPTS), who=st.sampled_from((None, *PHONES)))
    def ask(self, receipt: str, who: str | None) -> None:
        phone = self._phone(receipt, who)
        request = AssociationRequest(1, receipt, "shop-a", phone)
        effects = self.cloud.handle(request, phone_address(phone), self.now)
        pushes = sent_pushes(effects)
        if receipt not in self.uploads:  # refused: not-bound (unknown-receipt)
            assert isinstance(effects.sends[0].message, ErrorReply)
            assert not allows(self.model[receipt], E.REQUEST_ANSWERED)
        elif phone not in self.subscribed:  # refused as a message: not-subscribed
            assert isinstance(effects.sends[0].message, ErrorReply)
        elif phone == self._named(receipt):
            assert isinstance(effects.sends[0].message, AssociationResponse)
            assert self._fire(receipt, E.REQUEST_ANSWERED)
            self._fire(receipt, E.PUSH_SUPERSEDED)
        elif self.policy is MismatchPolicy.REJECT:
            assert isinstance(effects.sends[0].message, ErrorReply)
        elif self._named(receipt) not in self.subscribed:
            assert self._fire(receipt, E.DUAL_SEND_WITHHELD)
            assert CloudNote.DUAL_SEND_WITHHELD in {n.kind for n in effects.notes}
        elif self._fire(receipt, E.MISMATCH_DUAL_SENT):
            assert [p.reason for p in pushes] == [PushReason.DUAL_SEND]
            return
        assert pushes == []

    @rule(seconds=st.sampled_from([1.0, TIMEOUT / 2, TIMEOUT]))
    def tick(self, seconds: float) -> None:
        self.now += seconds

    @rule(receipt=st.sampled_from(RECEIPTS), wait=st.booleans())
    def push_due(self, receipt: str, wait: bool) -> None:
        if wait and receipt in self.uploads:  # the clock reaches the deadline first
            self.now = max(self.now, self.deadline[receipt])
        effects = self.cloud.timer_fired(PushDue(receipt, "shop-a"), self.now)
        notes = {note.kind for note in effects.notes}
        pushed = False
        if receipt in self.uploads and self.now >= self.deadline[receipt]:
            if self._named(receipt) in self.subscribed:
                pushed = self._fire(receipt, E.PUSH_DUE_SUBSCRIBED)
            elif self._fire(receipt, E.PUSH_DUE_NOT_SUBSCRIBED):
                assert notes == {CloudNote.PUSH_WITHHELD}
        assert [p.reason for p in sent_pushes(effects)] == ([PushReason.TIMEOUT] if pushed else [])

    def _outstanding(self) -> list[str]:
        """The receipts with a push in flight (all of them if none has)."""
        return [r for r in RECEIPTS if self.model[r] in (S.PUSHED, S.DUAL_SENT)] or list(RECEIPTS)

    @rule(data=st.data(), who=st.sampled_from((None, None, *PHONES)))
    def acknowledge(self, data: st.DataObject, who: str | None) -> None:
        receipt = data.draw(st.sampled_from(self._outstanding()))
        phone = self._phone(receipt, who)
        self.cloud.handle(PushAck(receipt, "shop-a", phone), phone_address(phone), self.now)
        if receipt in self.uploads and phone == self._named(receipt):
            self._fire(receipt, E.PUSH_ACKNOWLEDGED)

    @precondition(lambda self: self.uploads)
    @rule(data=st.data())
    def resend(self, data: st.DataObject) -> None:
        receipt = data.draw(st.sampled_from([r for r in self._outstanding() if r in self.uploads]))
        effects = self.cloud.timer_fired(Resend((receipt, self._named(receipt))), self.now)
        if "gave-up" in {note.kind for note in effects.notes}:
            assert self._fire(receipt, E.PUSH_GAVE_UP)
        else:
            assert {type(s.message) for s in effects.sends} <= {AssociationPush}

    @precondition(lambda self: self.restarts < 2)
    @rule()
    def restart(self) -> None:
        self.restarts += 1
        self.cloud = self._new_cloud()
        effects = self.cloud.start(self.now)
        outstanding = {(p.receipt_id, p.reason) for p in sent_pushes(effects)}
        expected = {S.PUSHED: PushReason.TIMEOUT, S.DUAL_SENT: PushReason.DUAL_SEND}
        assert outstanding == {(r, expected[s]) for r, s in self.model.items() if s in expected}

    @invariant()
    def the_store_says_what_the_table_says(self) -> None:
        for receipt, state in self.model.items():
            key = ReceiptKey(MERCHANT, receipt)
            assert receipt_state(self.store, key) is state, receipt
            hinted = receipt_state(self.store, key, in_flight=self.cloud._pushes)
            assert hinted is state, receipt


TestCloudLifecycle = CloudLifecycle.TestCase
TestCloudLifecycle.settings = settings(stateful_step_count=40, deadline=None)
