"""The whole protocol as a hypothesis state machine over the pure machines (no trio).

One cloud, one or two POSes and three or four phones (the last may never subscribe) are
wired together by a model network: every message sent goes into a list of in-flight
messages, and the rules deliver them **in any order**, **lose** them or **duplicate**
them. Other rules ring up purchases (bound to the buyer's own phone id, or to another
phone's: the wrong-id case of unit 8022; or under a receipt id another POS already used),
make phones ask about receipts (noticed ones, any rung-up ones, unknown ones), advance the
virtual clock firing every due timer at its time (the machines' re-sends among them), and
restart the cloud on its store, or a POS or a phone (their timers die with them). The
driver moves a timer re-armed under the same key, and drops cancelled timers or not.

Everything sent is kept in a log. After every step the invariants check the safety rules
of ``protocol/_machines/_cloud.py``'s docstring against that log; each answer to a request is also
checked, when it is sent, against what the rules say it must be. At the end (``teardown``,
the healed phase: nothing more is lost) the network is drained and the clock run until no
timer is left, and the liveness rules are checked: every request answered, every purchase
shown once at its named phone.

The machine runs once per mismatch policy (``TestDualSendProtocol``, ``TestRejectProtocol``).
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from typing import ClassVar

import attrs
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
    CLOUD,
    Address,
    AskDue,
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    Binding,
    Checkout,
    CloudConfig,
    CloudMachine,
    Effects,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    Machine,
    Message,
    MismatchPolicy,
    Offer,
    PhoneMachine,
    PosMachine,
    PromotionUpdate,
    PurchaseUpload,
    PushReason,
    ReceiptKey,
    ReceiptNotice,
    RuleRecommender,
    Send,
    Subscribe,
    Timer,
    UploadAck,
    builtin_catalog,
    phone_address,
    pos_address,
)

PUSH_TIMEOUT = 60.0
CATALOG = builtin_catalog()
SHELF = (
    "SKIN-FW-001",
    "SKIN-LO-003",
    "FOOD-PA-001",
    "FOOD-BR-002",
    *(p.sku for p in CATALOG.in_category("top")[:2]),
)
"""SKUs the simulated shops sell: skin care, food and clothing."""
MERCHANTS = ("shop-a", "shop-b")
PROMOTIONS = PromotionUpdate(
    "shop-a", popular=("FOOD-CH-001",), offers=(Offer("SKIN-CR-002", "-30%", 9.99),)
)
PHONE_IDS = tuple(f"+86138000000{n:02d}" for n in range(1, 5))
ASK_DELAYS = (None, 0.0, 20.0, PUSH_TIMEOUT, 90.0)
"""How long a user waits after the receipt notice before asking (None: never asks)."""
CLOCK_STEPS = st.sampled_from([0.0, 1.0, 10.0, PUSH_TIMEOUT - 1, PUSH_TIMEOUT]) | st.floats(
    min_value=0.0, max_value=PUSH_TIMEOUT / 2, allow_nan=False
)
"""How far the clock moves in one step: often less than the push timeout, sometimes exactly."""


@attrs.frozen
class Sent:
    """One message a party sent, in the order of sending (``seq``) at virtual time ``at``."""

    seq: int
    at: float
    sender: Address
    to: Address
    message: Message


@attrs.frozen
class RungUp:
    """A purchase a POS rang up and uploaded: the phone id it was given, the one that paid."""

    upload: PurchaseUpload
    pos: Address
    named: str
    buyer: Address


@attrs.frozen
class Mismatch:
    """A request the cloud received from another phone than the one the POS named."""

    receipt: ReceiptKey
    requester: Address
    request_id: int
    named: str
    named_was_subscribed: bool


@attrs.frozen
class Expected:
    """What the rules say the cloud must answer to one request."""

    refusal: ErrorCode | None  # None: an AssociationResponse
    dual_send_to: str | None  # the named phone that must get the dual-send push


def products_receipt(message: Message) -> ReceiptKey | None:
    """The receipt whose associated products ``message`` carries, if it carries any."""
    if isinstance(message, AssociationResponse | AssociationPush):
        return message.receipt
    return None


class ProtocolStateMachine(RuleBasedStateMachine):
    """The cloud, POSes and phones on a reordering network; subclasses fix the policy."""

    policy: ClassVar[MismatchPolicy]

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self._seq = itertools.count()
        self.store = InMemoryStore()
        self.config = CloudConfig(push_timeout=PUSH_TIMEOUT, mismatch_policy=self.policy)
        self.cloud = self._new_cloud()
        self.poses: list[PosMachine] = []
        self.phones: list[PhoneMachine] = []
        self.machines: dict[Address, Machine] = {CLOUD: self.cloud}
        self.timers: dict[Address, list[Timer]] = {CLOUD: []}
        self.in_flight: list[tuple[Address, Address, Message]] = []
        self.honour_cancels = False
        # the log of everything sent, and what the model knows
        self.sent: list[Sent] = []
        self.rung_up: list[RungUp] = []  # every purchase uploaded, in order
        # Receipts by (merchant, receipt id): each merchant numbers its own (issue 14).
        self.stored: dict[ReceiptKey, PurchaseUpload] = {}  # the upload that arrived first
        self.stored_at: dict[ReceiptKey, float] = {}  # receipt -> when the cloud stored it
        self.subscribed_at: dict[str, int] = {}  # phone id -> seq of its Subscribe at the cloud
        self.asked_at: dict[tuple[ReceiptKey, Address], int] = {}  # first request received
        self.due_subscribed: dict[ReceiptKey, bool] = {}  # named phone subscribed when due
        self.noticed: dict[Address, list[ReceiptKey]] = {}  # phone -> receipts it was handed
        self.asks: Counter[Address] = Counter()  # phone -> times its user asked
        self.mismatches: list[Mismatch] = []
        self.receipt_numbers = itertools.count(1)
        self.lost = 0

    def _new_cloud(self) -> CloudMachine:
        return CloudMachine(store=self.store, recommender=RuleRecommender(), config=self.config)

    # ------------------------------------------------------------------ set-up

    @initialize(
        n_poses=st.integers(min_value=1, max_value=2),
        ask_delays=st.lists(st.sampled_from(ASK_DELAYS), min_size=3, max_size=4),
        last_subscribes=st.booleans(),
        honour_cancels=st.booleans(),
    )
    def set_up(
        self,
        n_poses: int,
        ask_delays: list[float | None],
        last_subscribes: bool,
        honour_cancels: bool,
    ) -> None:
        """Each user has a habit of asking; the last phone may never subscribe.

        ``honour_cancels``: whether the driver drops the timers a machine cancels.
        """
        self.honour_cancels = honour_cancels
        for n in range(n_poses):
            promotions = PROMOTIONS if MERCHANTS[n] == PROMOTIONS.merchant_id else None
            pos = PosMachine(MERCHANTS[n], f"pos-{n}", promotions=promotions)
            self._add(pos_address(pos.merchant_id, pos.pos_id), pos)
            self.poses.append(pos)
        for n, (phone_id, delay) in enumerate(zip(PHONE_IDS, ask_delays, strict=False)):
            subscribes = last_subscribes if n == len(ask_delays) - 1 else True
            phone = PhoneMachine(phone_id, subscribes=subscribes, default_ask_delay=delay)
            self._add(phone_address(phone_id), phone)
            self.phones.append(phone)
            self.noticed[phone_address(phone_id)] = []
        self._process(CLOUD, self.cloud.start(self.now))

    def _add(self, address: Address, machine: Machine) -> None:
        self.machines[address] = machine
        self.timers[address] = []
        self._process(address, machine.start(self.now))

    # ------------------------------------------------------------------ the driver

    def _next_seq(self) -> int:
        return next(self._seq)

    def _process(self, address: Address, effects: Effects) -> None:
        """Carry out one step's effects: send into the network, arm and cancel timers."""
        for send in effects.sends:
            assert send.to in self.machines, f"{address} sent to nobody: {send}"
            self.sent.append(Sent(self._next_seq(), self.now, address, send.to, send.message))
            self.in_flight.append((address, send.to, send.message))
        timers = self.timers[address]
        for timer in effects.timers:  # arming a key that is already armed moves it
            timers[:] = [t for t in timers if t.key != timer.key]
            timers.append(timer)
        if self.honour_cancels:  # optional: machines ignore timers that no longer matter
            timers[:] = [t for t in timers if t.key not in effects.cancels]

    def _deliver(self, index: int) -> None:
        sender, to, message = self.in_flight.pop(index)
        expected = None
        if to == CLOUD:
            expected = self._cloud_receives(message, sender)
        elif isinstance(message, ReceiptNotice):
            self.noticed[to].append(message.receipt)
        effects = self.machines[to].handle(message, sender, self.now)
        if expected is not None:
            assert isinstance(message, AssociationRequest)
            check_answer(message, sender, expected, effects)
        if to == CLOUD and isinstance(message, PurchaseUpload):
            check_upload_answer(message, sender, self.stored[message.receipt], effects)
        self._process(to, effects)
        self._advance_to(self.now)  # timers armed for right now fire at once

    def _cloud_receives(self, message: Message, sender: Address) -> Expected | None:
        """Update the model with what the cloud learns; the expected answer to a request."""
        if isinstance(message, Subscribe):
            self.subscribed_at.setdefault(message.phone_id, self._next_seq())
        elif isinstance(message, PurchaseUpload):
            self.stored.setdefault(message.receipt, message)  # the first upload wins
            self.stored_at.setdefault(message.receipt, self.now)
        elif isinstance(message, AssociationRequest):
            expected = self._expected_answer(message, sender)
            self.asked_at.setdefault((message.receipt, sender), self._next_seq())
            return expected
        return None

    def _expected_answer(self, request: AssociationRequest, sender: Address) -> Expected:
        """Steps 504-508 and unit 8022, from the model's point of view."""
        receipt = request.receipt
        if receipt not in self.stored_at:
            return Expected(ErrorCode.UNKNOWN_RECEIPT, None)
        if request.phone_id not in self.subscribed_at:
            return Expected(ErrorCode.NOT_SUBSCRIBED, None)
        named = self.stored[receipt].phone_id
        if request.phone_id == named:
            return Expected(None, None)
        named_subscribed = named in self.subscribed_at
        self.mismatches.append(
            Mismatch(receipt, sender, request.request_id, named, named_subscribed)
        )
        if self.policy is MismatchPolicy.REJECT:
            return Expected(ErrorCode.IDENTIFIER_MISMATCH, None)
        already = any(self.products_sent(receipt, phone_address(named)))
        return Expected(None, named if named_subscribed and not already else None)

    def _advance_to(self, target: float) -> None:
        """Run the clock to ``target``, firing every due timer at its own time, in order."""
        # Only deliveries change subscriptions, so whoever is subscribed now still is when
        # the clock passes a push deadline on its way to `target`.
        for receipt, stored_at in self.stored_at.items():
            if stored_at + PUSH_TIMEOUT <= target:
                named = self.stored[receipt].phone_id
                self.due_subscribed.setdefault(receipt, named in self.subscribed_at)
        while True:
            due = [
                (timer.at, n, address, timer)
                for address, timers in self.timers.items()
                for n, timer in enumerate(timers)
                if timer.at <= target
            ]
            if not due:
                break
            at, n, address, timer = min(due, key=lambda d: (d[0], d[2], d[1]))
            del self.timers[address][n]
            self.now = max(self.now, at)
            self._fire(address, timer)
        self.now = max(self.now, target)

    def _fire(self, address: Address, timer: Timer) -> None:
        key = timer.key
        if isinstance(key, AskDue):
            self.asks[address] += 1
        self._process(address, self.machines[address].timer_fired(key, self.now))

    # ------------------------------------------------------------------ rules

    @rule(
        pos=st.integers(min_value=0, max_value=1),
        buyer=st.integers(min_value=0, max_value=3),
        wrong_id=st.none() | st.integers(min_value=0, max_value=2),
        skus=st.lists(st.sampled_from(SHELF), min_size=1, max_size=3, unique=True),
    )
    def checkout(self, pos: int, buyer: int, wrong_id: int | None, skus: list[str]) -> None:
        """A buyer pays at a POS, which binds the purchase to a phone id (maybe not theirs)."""
        self._ring_up(pos, buyer, wrong_id, skus, f"r-{next(self.receipt_numbers)}")

    @precondition(lambda self: len(self.poses) > 1 and bool(self.rung_up))
    @rule(
        pos=st.integers(min_value=0, max_value=1),
        buyer=st.integers(min_value=0, max_value=3),
        skus=st.lists(st.sampled_from(SHELF), min_size=1, max_size=3, unique=True),
        which=st.integers(min_value=0, max_value=20),
    )
    def checkout_reusing_a_receipt_id(
        self, pos: int, buyer: int, skus: list[str], which: int
    ) -> None:
        """A POS prints a receipt id another POS already used.

        Receipt ids are per merchant (issue 14): another merchant's use of the id does not
        matter, both purchases are bound and noticed. Of one merchant, whichever upload
        reaches the cloud first would be bound and the other refused as conflicting.
        """
        till = self.poses[pos % len(self.poses)]
        address = pos_address(till.merchant_id, till.pos_id)
        here = {r.upload.receipt_id for r in self.rung_up if r.pos == address}
        elsewhere = sorted({r.upload.receipt_id for r in self.rung_up} - here)
        if elsewhere:
            self._ring_up(pos, buyer, None, skus, elsewhere[which % len(elsewhere)])

    def _ring_up(
        self, pos: int, buyer: int, wrong_id: int | None, skus: list[str], receipt: str
    ) -> None:
        till = self.poses[pos % len(self.poses)]
        address = pos_address(till.merchant_id, till.pos_id)
        paying = self.phones[buyer % len(self.phones)]
        if wrong_id is None:
            named = paying
        else:  # the POS was given another phone's id
            others = [phone for phone in self.phones if phone is not paying]
            named = others[wrong_id % len(others)]
        items = []
        for sku in skus:
            product = CATALOG.by_sku(sku)
            assert product is not None
            items.append(CATALOG.to_item(product))
        checkout = Checkout(
            at=self.now,
            receipt_id=receipt,
            phone_id=named.phone_id,
            buyer=phone_address(paying.phone_id),
            items=tuple(items),
        )
        effects = till.ring_up(checkout, self.now)
        (upload,) = [s.message for s in effects.sends if isinstance(s.message, PurchaseUpload)]
        self.rung_up.append(RungUp(upload, address, checkout.phone_id, checkout.buyer))
        self._process(address, effects)

    @rule(
        phone=st.integers(min_value=0, max_value=3),
        kind=st.sampled_from(["noticed", "rung-up", "unknown"]),
        which=st.integers(min_value=0, max_value=20),
    )
    def ask(self, phone: int, kind: str, which: int) -> None:
        """A user asks about a receipt: one handed to them, anyone's, or a made-up one."""
        asking = self.phones[phone % len(self.phones)]
        address = phone_address(asking.phone_id)
        rung_up = sorted({r.upload.receipt for r in self.rung_up})
        choices = {"noticed": self.noticed[address], "rung-up": rung_up}.get(kind)
        unknown = ReceiptKey(MERCHANTS[which % 2], f"r-unknown-{which}")
        receipt = choices[which % len(choices)] if choices else unknown
        self.asks[address] += 1
        self._process(address, asking.ask(receipt, self.now))

    @precondition(lambda self: bool(self.in_flight))
    @rule(index=st.integers(min_value=0, max_value=50))
    def deliver(self, index: int) -> None:
        """The network delivers any in-flight message (so in any order)."""
        self._deliver(index % len(self.in_flight))

    @precondition(lambda self: bool(self.in_flight))
    @rule()
    def deliver_everything(self) -> None:
        """The network delivers everything in flight, including what that causes to be sent."""
        while self.in_flight:
            self._deliver(0)

    @rule(step=CLOCK_STEPS)
    def advance_clock(self, step: float) -> None:
        """Virtual time passes; every timer due on the way fires at its own time."""
        self._advance_to(self.now + step)

    @precondition(lambda self: bool(self.rung_up))
    @rule(which=st.integers(min_value=0, max_value=20))
    def duplicate_upload(self, which: int) -> None:
        """A POS sends an upload again on its own (say, after a reboot): bound once."""
        retry = self.rung_up[which % len(self.rung_up)]
        self._process(retry.pos, Effects(sends=(Send(CLOUD, retry.upload),)))

    @precondition(lambda self: bool(self.in_flight))
    @rule(index=st.integers(min_value=0, max_value=50))
    def lose(self, index: int) -> None:
        """The network loses any in-flight message."""
        self.lost += 1
        del self.in_flight[index % len(self.in_flight)]

    @precondition(lambda self: bool(self.in_flight))
    @rule(index=st.integers(min_value=0, max_value=50))
    def duplicate(self, index: int) -> None:
        """The network duplicates any in-flight message."""
        self.in_flight.append(self.in_flight[index % len(self.in_flight)])

    @rule(which=st.integers(min_value=0, max_value=7))
    def restart_device(self, which: int) -> None:
        """A POS or a phone crashes and restarts: its timers die; its storage survives."""
        devices = [address for address in self.machines if address != CLOUD]
        address = devices[which % len(devices)]
        self.timers[address] = []
        self._process(address, self.machines[address].start(self.now))

    @rule()
    def restart_cloud(self) -> None:
        """The cloud process restarts on its store; its armed timers die with it."""
        self.cloud = self._new_cloud()
        self.machines[CLOUD] = self.cloud
        self.timers[CLOUD] = []
        self._process(CLOUD, self.cloud.start(self.now))

    # ------------------------------------------------------------------ the log

    def from_cloud(self) -> Iterator[Sent]:
        return (s for s in self.sent if s.sender == CLOUD)

    def products_sent(self, receipt: ReceiptKey, to: Address) -> Iterator[Sent]:
        """Every message that carried the products of ``receipt`` to ``to``."""
        return (
            s for s in self.from_cloud() if s.to == to and products_receipt(s.message) == receipt
        )

    def pushes(self, reason: PushReason | None = None) -> Iterator[Sent]:
        for s in self.from_cloud():
            if isinstance(s.message, AssociationPush) and reason in (None, s.message.reason):
                yield s

    def replies(self) -> dict[tuple[Address, int], list[Sent]]:
        """The cloud's answers to requests, by (requesting address, request id)."""
        answers: dict[tuple[Address, int], list[Sent]] = {}
        for s in self.from_cloud():
            request_id = getattr(s.message, "request_id", None)
            if isinstance(s.message, AssociationResponse | ErrorReply) and request_id is not None:
                answers.setdefault((s.to, request_id), []).append(s)
        return answers

    def requests(self) -> dict[tuple[Address, int], Sent]:
        """The first send of each request (re-sends repeat it unchanged)."""
        first: dict[tuple[Address, int], Sent] = {}
        for s in self.sent:
            if isinstance(s.message, AssociationRequest):
                first.setdefault((s.sender, s.message.request_id), s)
        return first

    # ------------------------------------------------------------------ safety

    @invariant()
    def bindings_are_what_the_pos_uploaded(self) -> None:
        self.check_bindings()

    def check_bindings(self) -> None:
        """Step 502: the cloud binds each purchase to the phone id the POS sent, once.

        The binding is the first upload of the receipt id that reached the cloud.
        """
        for rung_up in self.rung_up:
            receipt = rung_up.upload.receipt
            assert rung_up.upload.phone_id == rung_up.named, f"{rung_up.pos} bound another id"
            binding = self.store.binding(receipt)
            if receipt not in self.stored:
                assert binding is None, f"binding of {receipt} stored before any upload arrived"
                continue
            first = self.stored[receipt]
            assert binding == Binding(first, self.stored_at[receipt]), (
                f"binding of {receipt} is {binding}, the POS uploaded {first} "
                f"which arrived at {self.stored_at[receipt]}"
            )
            if first == rung_up.upload:
                assert binding.phone_id == rung_up.named

    @invariant()
    def timeout_pushes_wait_for_the_deadline(self) -> None:
        self.check_push_deadlines()

    def check_push_deadlines(self) -> None:
        """Step 603: a timeout push only once push_timeout has passed since the upload."""
        for s in self.pushes(PushReason.TIMEOUT):
            assert isinstance(s.message, AssociationPush)
            receipt = s.message.receipt
            deadline = self.stored_at[receipt] + PUSH_TIMEOUT
            assert s.at >= deadline, f"timeout push of {receipt} at {s.at}, before {deadline}"

    @invariant()
    def no_timeout_push_after_a_response(self) -> None:
        self.check_no_push_after_response()

    def check_no_push_after_response(self) -> None:
        """A push never follows an answered pull for the same receipt and phone."""
        for push in self.pushes(PushReason.TIMEOUT):
            assert isinstance(push.message, AssociationPush)
            for earlier in self.products_sent(push.message.receipt, push.to):
                assert not (
                    earlier.seq < push.seq and isinstance(earlier.message, AssociationResponse)
                ), f"timeout push {push} after the response {earlier}"

    @invariant()
    def at_most_one_unasked_delivery(self) -> None:
        self.check_one_unasked_delivery()

    def check_one_unasked_delivery(self) -> None:
        """One push (timeout or dual-send) per receipt and phone; its re-sends are identical."""
        counts = Counter(
            (s.message.receipt, s.to)
            for s in {(s.to, s.message): s for s in self.pushes()}.values()
            if isinstance(s.message, AssociationPush)
        )
        repeated = {key: n for key, n in counts.items() if n > 1}
        assert not repeated, f"pushed more than once: {repeated}"

    @invariant()
    def each_receipt_is_shown_once(self) -> None:
        self.check_shown_once()

    def check_shown_once(self) -> None:
        """However often a delivery arrives, the user sees a receipt's products once."""
        for phone in self.phones:
            receipts = Counter((d.merchant_id, d.receipt_id) for d in phone.deliveries)
            repeated = {r: n for r, n in receipts.items() if n > 1}
            assert not repeated, f"{phone.phone_id} showed {repeated}"

    @invariant()
    def products_reach_only_the_named_phone_or_an_asker(self) -> None:
        self.check_privacy()

    def check_privacy(self) -> None:
        """Products go to the POS-named phone, or to a phone that asked (never under reject)."""
        for s in self.from_cloud():
            receipt = products_receipt(s.message)
            if receipt is None:
                continue
            named = phone_address(self.stored[receipt].phone_id)
            if isinstance(s.message, AssociationPush):
                assert s.to == named == phone_address(s.message.phone_id), (
                    f"push {s} not to {named}"
                )
            elif self.policy is MismatchPolicy.REJECT:
                assert s.to == named, f"under reject, products of {receipt} went to {s.to}"
            else:
                asked = self.asked_at.get((receipt, s.to))
                assert s.to == named or (asked is not None and asked < s.seq), (
                    f"products of {receipt} went to {s.to}, which neither was named nor asked"
                )

    @invariant()
    def only_subscribed_phones_are_served(self) -> None:
        self.check_subscribed()

    def check_subscribed(self) -> None:
        """The cloud sends products only to phones whose subscription it had received."""
        phone_ids = {phone_address(p): p for p in PHONE_IDS}
        for s in self.from_cloud():
            if products_receipt(s.message) is not None:
                subscribed = self.subscribed_at.get(phone_ids[s.to])
                assert subscribed is not None and subscribed < s.seq, f"{s.to} is not subscribed"

    @invariant()
    def reject_policy_never_dual_sends(self) -> None:
        self.check_reject_policy()

    def check_reject_policy(self) -> None:
        """Under reject: no dual-send; a mismatching requester gets a refusal, no products."""
        if self.policy is not MismatchPolicy.REJECT:
            return
        assert not any(self.pushes(PushReason.DUAL_SEND)), "dual-send under the reject policy"
        replies = self.replies()
        for mismatch in self.mismatches:
            # each copy of the request was checked when answered (check_answer); earlier
            # copies may have been refused for another reason (not yet subscribed)
            for reply in replies.get((mismatch.requester, mismatch.request_id), []):
                assert isinstance(reply.message, ErrorReply), f"{mismatch} answered {reply}"
            leaked = list(self.products_sent(mismatch.receipt, mismatch.requester))
            assert not leaked, f"under reject, {mismatch.requester} got the products: {leaked}"

    @invariant()
    def replies_answer_requests(self) -> None:
        self.check_replies_answer_requests()

    def check_replies_answer_requests(self) -> None:
        """Every reply answers a request sent before it (each copy of a request gets one)."""
        requests = self.requests()
        for key, answers in self.replies().items():
            assert key in requests, f"a reply to {key}, which nobody asked: {answers}"
            assert all(a.seq > requests[key].seq for a in answers)

    def check_safety(self) -> None:
        self.check_bindings()
        self.check_push_deadlines()
        self.check_no_push_after_response()
        self.check_one_unasked_delivery()
        self.check_shown_once()
        self.check_privacy()
        self.check_subscribed()
        self.check_reject_policy()
        self.check_replies_answer_requests()

    # ------------------------------------------------------------------ liveness

    def teardown(self) -> None:
        """Let everything settle, then check that everything promised happened."""
        if sys.exc_info()[1] is not None:
            return  # a step failed and hypothesis is reporting it: do not mask it
        self.quiesce()
        self.check_safety()
        self.check_liveness()

    def quiesce(self) -> None:
        """Deliver everything, run the clock past every deadline, until nothing is left."""
        for _ in range(1000):
            while self.in_flight:
                self._deliver(0)
            armed = [t.at for timers in self.timers.values() for t in timers]
            # push deadlines too: their timers may have been cancelled
            last = max(
                [*armed, *(at + PUSH_TIMEOUT for at in self.stored_at.values())], default=0.0
            )
            if not armed and self.now > last:
                return
            self._advance_to(max(self.now, last) + 1.0)
        raise AssertionError("the system never quiesced")

    def check_liveness(self) -> None:
        self.check_every_request_answered()
        self.check_every_purchase_noticed()
        self.check_named_phone_served()
        self.check_dual_sends()
        self.check_phones_saw_what_was_sent()

    def check_every_request_answered(self) -> None:
        """Every ask became a request, and every request got a reply."""
        sent_requests = Counter(sender for sender, _ in self.requests())
        assert sent_requests == +self.asks, f"asks {self.asks}, requests sent {sent_requests}"
        replies = self.replies()
        for key in self.requests():
            assert replies.get(key), f"request {key} was never answered"
        for phone in self.phones:
            assert phone.unanswered == 0, f"{phone.phone_id} is still re-sending"

    def check_every_purchase_noticed(self) -> None:
        """Every upload was stored and its buyer handed the receipt once, or it was refused.

        An upload loses only to another POS's upload of the same receipt id that reached the
        cloud first; its POS is told so and its buyer gets no receipt to ask about.
        """
        for rung_up in self.rung_up:
            receipt = rung_up.upload.receipt
            assert receipt in self.stored, f"{receipt} never reached the cloud"
            notices = [
                s
                for s in self.sent
                if isinstance(s.message, ReceiptNotice)
                and (s.sender, s.message.receipt) == (rung_up.pos, receipt)
            ]
            answers = [s.message for s in self.from_cloud() if s.to == rung_up.pos]
            if self.stored[receipt] == rung_up.upload:
                assert {s.to for s in notices} == {rung_up.buyer}, (
                    f"notices of {receipt}: {notices}"
                )
                assert UploadAck(receipt.receipt_id, receipt.merchant_id) in answers
            else:
                assert notices == [], f"{receipt} was refused, yet noticed: {notices}"
                assert any(
                    isinstance(a, ErrorReply)
                    and (a.code, a.receipt_id) == (ErrorCode.CONFLICTING_UPLOAD, receipt.receipt_id)
                    for a in answers
                ), f"{rung_up.pos} was never told that {receipt} conflicts"

    def check_named_phone_served(self) -> None:
        """The named phone is shown the products once if it was subscribed when its push was
        due: by one push (re-sent until acknowledged) or by the answer to its own request.
        """
        shown = {
            (phone_address(p.phone_id), ReceiptKey(d.merchant_id, d.receipt_id))
            for p in self.phones
            for d in p.deliveries
        }
        for receipt, upload in self.stored.items():
            assert receipt in self.due_subscribed, f"the push of {receipt} never came due"
            named = phone_address(upload.phone_id)
            delivered = {s.message for s in self.products_sent(receipt, named)}
            pushes = [m for m in delivered if isinstance(m, AssociationPush)]
            if not self.due_subscribed[receipt]:
                continue
            assert (named, receipt) in shown, f"{receipt} never shown at {named}"
            if (receipt, named) in self.asked_at:
                assert len(pushes) <= 1, f"{receipt} to {named}: {delivered}"
            else:
                assert len(delivered) == len(pushes) == 1, f"{receipt} to {named}: {delivered}"

    def check_dual_sends(self) -> None:
        """Unit 8022: a mismatching request serves both the requester and the named phone."""
        if self.policy is not MismatchPolicy.DUAL_SEND:
            return
        replies = self.replies()
        for mismatch in self.mismatches:
            answers = replies[(mismatch.requester, mismatch.request_id)]
            assert any(isinstance(a.message, AssociationResponse) for a in answers), answers
            if not mismatch.named_was_subscribed:
                continue
            named = phone_address(mismatch.named)
            delivered = {s.message for s in self.products_sent(mismatch.receipt, named)}
            if (mismatch.receipt, named) in self.asked_at:
                assert delivered, f"{named} never got the products of {mismatch.receipt}"
            else:
                assert len(delivered) == 1, f"{named} got {mismatch.receipt}: {delivered}"

    def check_phones_saw_what_was_sent(self) -> None:
        """Each phone showed every receipt the cloud sent it products of, once, as the kind
        of one of those deliveries, and recorded only refusals the cloud sent it (unit 702).
        """
        for phone in self.phones:
            address = phone_address(phone.phone_id)
            kinds: dict[ReceiptKey, set[str]] = {}
            refusals = []
            for s in self.from_cloud():
                if s.to != address:
                    continue
                if isinstance(s.message, AssociationResponse):
                    kinds.setdefault(s.message.receipt, set()).add("response")
                elif isinstance(s.message, AssociationPush):
                    kinds.setdefault(s.message.receipt, set()).add(str(s.message.reason))
                elif isinstance(s.message, ErrorReply):
                    refusals.append(s.message)
            shown = {ReceiptKey(d.merchant_id, d.receipt_id): d.kind for d in phone.deliveries}
            assert shown.keys() == kinds.keys(), f"{address} showed {shown}, was sent {kinds}"
            for receipt, kind in shown.items():
                assert kind in kinds[receipt], f"{address} showed {receipt} as {kind}"
            assert all(r in refusals for r in phone.refusals), f"{address}: {phone.refusals}"


def check_answer(
    request: AssociationRequest, sender: Address, expected: Expected, effects: Effects
) -> None:
    """The cloud's answer to ``request`` is exactly what the rules say (steps 504-508)."""
    assert effects.sends, f"no answer to {request}"
    reply, *others = effects.sends
    assert reply.to == sender, f"answer to {request} went to {reply.to}"
    answer = reply.message
    if expected.refusal is not None:
        assert isinstance(answer, ErrorReply), f"{request}: expected {expected}, got {answer}"
        assert answer.code is expected.refusal, f"{request}: expected {expected}, got {answer}"
        assert (answer.request_id, answer.receipt_id) == (request.request_id, request.receipt_id)
        assert others == [], f"{request} was refused, yet the cloud also sent {others}"
        return
    assert isinstance(answer, AssociationResponse), f"{request}: expected {expected}, got {answer}"
    assert (answer.request_id, answer.receipt) == (request.request_id, request.receipt)
    dual_sends: list[Send] = []
    if expected.dual_send_to is not None:
        push = AssociationPush(
            request.receipt_id,
            request.merchant_id,
            expected.dual_send_to,
            PushReason.DUAL_SEND,
            answer.products,
        )
        dual_sends = [Send(phone_address(expected.dual_send_to), push)]
    assert others == dual_sends, f"{request}: expected dual-send {dual_sends}, got {others}"
    check_products(answer.products)


def check_upload_answer(
    upload: PurchaseUpload, sender: Address, stored: PurchaseUpload, effects: Effects
) -> None:
    """Step 502: an upload is acknowledged if it is the one bound, else refused."""
    if upload == stored:
        expected: Message = UploadAck(upload.receipt_id, upload.merchant_id)
        assert effects.sends == (Send(sender, expected),), f"{upload} answered {effects}"
        return
    (refusal,) = effects.sends
    assert refusal.to == sender
    assert isinstance(refusal.message, ErrorReply), f"conflicting {upload} answered {refusal}"
    assert refusal.message.code is ErrorCode.CONFLICTING_UPLOAD
    assert refusal.message.receipt_id == upload.receipt_id
    assert effects.timers == ()


def check_products(products: tuple[AssociatedProduct, ...]) -> None:
    """Step 506: catalog products, promoted ones last."""
    assert all(CATALOG.by_sku(p.sku) is not None for p in products)
    flags = [p.reason.is_promotion for p in products]
    assert flags == sorted(flags), "promotions must follow the ranked products"


STATE_MACHINE_SETTINGS = settings(stateful_step_count=40, deadline=None)
"""Steps per run; the number of runs comes from the active hypothesis profile."""


class DualSendProtocol(ProtocolStateMachine):
    policy = MismatchPolicy.DUAL_SEND


class RejectProtocol(ProtocolStateMachine):
    policy = MismatchPolicy.REJECT


TestDualSendProtocol = DualSendProtocol.TestCase
TestDualSendProtocol.settings = STATE_MACHINE_SETTINGS
TestRejectProtocol = RejectProtocol.TestCase
TestRejectProtocol.settings = STATE_MACHINE_SETTINGS
