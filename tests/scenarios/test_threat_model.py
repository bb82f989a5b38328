"""The threat model of ``docs/security.md``, row by row: each attack performed by a small
hostile client over TCP against the field cloud's pieces (``serve cloud``'s Authenticator,
its notice relay and receipt-holder record, the Gatekeeper in front of the cloud machine).

Issue 14's attacks on merchant isolation also run against the bugs the checks exist for
(``tests/planted/trusting_relay.py``: a relay that trusts the merchant a notice claims;
``tests/planted/shared_namespace.py``: one receipt-id namespace for every merchant), and
the tests show that those leak what the real ones do not.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import pytest
import trio

from actors import Actor, MayRelay, SqliteStore, serve_tcp
from actors._tcp_server_side import _ServerSide
from protocol import (
    CLOUD,
    WIRE_VERSION,
    AssociationRequest,
    AssociationResponse,
    CloudConfig,
    CloudMachine,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    Message,
    NoticeAck,
    PromotionUpdate,
    PushAck,
    ReceiptKey,
    ReceiptNotice,
    RuleRecommender,
    Subscribe,
    SubscribeAck,
    UploadAck,
    phone_address,
    pos_address,
)
from protocol.lowlevel import (
    Authenticator,
    DeviceTokens,
    Gatekeeper,
    Hello,
    HelloAck,
    MerchantKeys,
    encode_frame,
    generate_key,
)
from scenarios._field._serve import ReceiptHolders, load_secret, relay_policy
from tests.actors.test_tcp import HOST, Raw
from tests.builders import ALICE, BOB, CAROL, catalog_upload
from tests.planted.any_ack_relay import any_ack_relay_policy
from tests.planted.lookup_first_relay import lookup_first_relay
from tests.planted.shared_namespace import SharedNamespaceStore
from tests.planted.trusting_relay import trusting_relay_policy

SHOP_1, SHOP_2 = "shop-01", "shop-02"
TILL_1, TILL_2 = pos_address(SHOP_1, "pos-1"), pos_address(SHOP_2, "pos-1")
MALLORY = CAROL  # a subscribed phone of the attacker's choosing
WAIT = 0.3  # seconds a client listens for what must not come


class Client:
    """A hostile client: a raw connection that numbers its frames and reads messages."""

    def __init__(self, raw: Raw, address: str) -> None:
        self.raw = raw
        self.address = address
        self._ids = iter(range(2, 1 << 30))  # the hello was frame 1

    async def tell(self, message: Message, to: str = CLOUD) -> None:
        await self.raw.send(encode_frame(message, next(self._ids), recipient=to))

    async def next(self) -> Message:
        with trio.fail_after(5):
            message = (await self.raw.frame()).message
        assert not isinstance(message, Hello | HelloAck), message
        return message

    async def ask(self, message: Message, to: str = CLOUD) -> Message:
        await self.tell(message, to)
        return await self.next()

    async def nothing_comes(self) -> bool:
        """True if no message arrives within ``WAIT``."""
        with trio.move_on_after(WAIT):
            await self.raw.frame()
            return False
        return True


@attrs.define
class Field:
    """A field cloud on loopback: its port, the merchants' keys, the store."""

    port: int
    keys: dict[str, str]
    tokens: DeviceTokens
    store: InMemoryStore

    async def till(self, merchant: str) -> Client:
        address = pos_address(merchant, "pos-1")
        return Client(
            await Raw.connect(self.port, hello=address, credential=self.keys[merchant]), address
        )

    async def phone(self, phone_id: str) -> Client:
        address = phone_address(phone_id)
        token = self.tokens.issue(phone_id)
        return Client(await Raw.connect(self.port, hello=address, credential=token), address)

    async def refused_hello(self, address: str, credential: str) -> list[ErrorCode]:
        """The codes of what a hello as ``address`` with ``credential`` gets, until closed."""
        raw = await Raw.connect(self.port)
        await raw.send(encode_frame(Hello(WIRE_VERSION, address, credential), 1))
        with trio.fail_after(5):
            frames = await raw.until_closed()
        return [f.message.code for f in frames if isinstance(f.message, ErrorReply)]


@asynccontextmanager
async def field(
    *,
    relay: Callable[[ReceiptHolders], MayRelay] = relay_policy,
    store: InMemoryStore | None = None,
) -> AsyncIterator[Field]:
    """``serve cloud``'s pieces on a free port: merchant keys for shop-01 and shop-02, Alice,
    Bob and Mallory subscribed (their tokens issued), the relay and the Gatekeeper."""
    keys = {shop: generate_key() for shop in (SHOP_1, SHOP_2)}
    merchant_keys = MerchantKeys()
    for shop, key in keys.items():
        merchant_keys.add(shop, key)
    tokens = DeviceTokens(secrets.token_bytes(32))
    store = store if store is not None else InMemoryStore()
    for phone_id in (ALICE, BOB, MALLORY):
        store.subscribe(phone_id, 0.0)
    holders = ReceiptHolders(None)
    cloud = CloudMachine(
        store=store,
        recommender=RuleRecommender(),
        config=CloudConfig(push_timeout=600.0),
        device_tokens=tokens,
    )
    machine = Gatekeeper(cloud, store=store, holders=holders)
    authenticate = Authenticator(merchant_keys, tokens, is_enrolled=store.is_subscribed)
    async with (
        serve_tcp(HOST, 0, authenticate=authenticate, may_relay=relay(holders)) as server,
        trio.open_nursery() as nursery,
    ):
        await nursery.start(Actor(machine, server.open_endpoint(CLOUD)).run)
        yield Field(server.port, keys, tokens, store)
        nursery.cancel_scope.cancel()


def upload(merchant: str, receipt_id: str, phone_id: str, skus: tuple[str, ...]) -> Message:
    """A purchase at ``merchant``'s till ``pos-1``."""
    return catalog_upload(receipt_id, phone_id, skus, merchant_id=merchant)


# --------------------------------------------------------------------------- anyone


async def test_anyone_on_the_network_gets_a_refusal_and_nothing_else() -> None:
    """Row "anyone who can reach the port": no hello-ack for an address it cannot prove."""
    async with field() as f:
        assert await f.refused_hello(TILL_1, "not-the-key-" + "x" * 30) == [ErrorCode.UNAUTHORIZED]
        assert await f.refused_hello(TILL_1, f.keys[SHOP_2]) == [ErrorCode.UNAUTHORIZED]
        assert await f.refused_hello(CLOUD, "") == [ErrorCode.UNAUTHORIZED]
        assert await f.refused_hello(phone_address(ALICE), "") == [ErrorCode.UNAUTHORIZED]
        stranger = await Raw.connect(f.port)  # no hello: a message straight away
        await stranger.send(encode_frame(upload(SHOP_1, "R1", ALICE, ("SKIN-FW-001",)), 1))
        with trio.fail_after(5):
            frames = await stranger.until_closed()
        codes = [m.code for m in (frame.message for frame in frames) if isinstance(m, ErrorReply)]
        assert codes == [ErrorCode.HELLO_REQUIRED]
        assert not tuple(f.store.bindings())


async def presence_answers(f: Field) -> tuple[Message | None, Message | None]:
    """What a token-less newcomer gets for a message the relay refuses, sent to Alice
    (online) and to Bob (offline): the same refusal, or the oracle's answer and silence."""
    alice = await f.phone(ALICE)  # Alice is online (while referenced); Bob is not
    newcomer = "+8613800000077"
    raw = await Raw.connect(f.port, hello=phone_address(newcomer), credential="")
    spy = Client(raw, phone_address(newcomer))
    answers: list[Message | None] = []
    for target in (ALICE, BOB):
        await spy.tell(Subscribe(newcomer), to=phone_address(target))
        answer = None
        with trio.move_on_after(WAIT * 3):
            answer = await spy.next()
        answers.append(answer)
    assert await alice.nothing_comes()  # still connected, and relayed nothing
    return answers[0], answers[1]


def refused_as(answer: Message | None, recipient: str) -> bool:
    """``answer`` is the relay's refusal of a Subscribe to ``recipient``."""
    return (
        isinstance(answer, ErrorReply)
        and answer.code is ErrorCode.UNAUTHORIZED
        and (answer.detail.endswith(f"may not send subscribe to {phone_address(recipient)}"))
    )


async def test_nobody_learns_who_is_online() -> None:
    """Row "anyone who can reach the port" (reviewer finding S1): a message the relay
    refuses gets the same refusal whether its recipient is connected or not."""
    async with field() as f:
        online, offline = await presence_answers(f)
        assert refused_as(online, ALICE) and refused_as(offline, BOB)


async def test_planted_a_relay_looking_up_the_recipient_first_tells_who_is_online(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_ServerSide, "_relay", lookup_first_relay)
    async with field() as f:
        online, offline = await presence_answers(f)
        assert refused_as(online, ALICE) and offline is None


# --------------------------------------------------------------------------- a merchant


@attrs.frozen
class MerchantAttack:
    """What shop-02's till and Mallory's phone got out of shop-01's receipt R1."""

    own_upload: Message  # shop-02 uploads an R1 of its own after shop-01's R1
    notice_relayed: bool  # shop-02's notice naming shop-01's R1 reached Mallory
    mallory_answer: Message  # Mallory, handed "R1" by shop-02's till, asks about it
    alice_unasked: bool  # shop-01's customer got no unasked delivery
    alice_delivered: bool  # the store says shop-01's R1 was delivered to Alice


async def merchant_attack(f: Field) -> MerchantAttack:
    alice, mallory = await f.phone(ALICE), await f.phone(MALLORY)
    till_1, till_2 = await f.till(SHOP_1), await f.till(SHOP_2)
    assert await till_1.ask(upload(SHOP_1, "R1", ALICE, ("SKIN-FW-001",))) == UploadAck(
        "R1", SHOP_1
    )
    own = await till_2.ask(upload(SHOP_2, "R1", BOB, ("FOOD-PA-001",)))
    # Issue 14 item 4: shop-02's till hands its own phone a notice naming shop-01's R1.
    await till_2.tell(ReceiptNotice("R1", SHOP_1, 0.0), to=phone_address(MALLORY))
    relayed = False
    # A relay that passes it does so before Mallory asks; one that passed it later would
    # still be caught, its notice taken for the answer to Mallory's question.
    with trio.move_on_after(WAIT):
        relayed = isinstance(await mallory.next(), ReceiptNotice)
    answer = await mallory.ask(AssociationRequest(1, "R1", SHOP_1, MALLORY))
    unasked = await alice.nothing_comes()
    delivered = f.store.was_delivered(ReceiptKey(SHOP_1, "R1"), ALICE)
    return MerchantAttack(own, relayed, answer, unasked, delivered)


def unknown_receipt(receipt_id: str, request_id: int, merchant: str) -> ErrorReply:
    return ErrorReply(
        ErrorCode.UNKNOWN_RECEIPT,
        f"no purchase with receipt id {receipt_id} was uploaded",
        receipt_id,
        request_id,
        merchant,
    )


async def test_a_merchant_gets_nothing_of_another_merchants_receipts() -> None:
    """Row "a merchant's till": its R1 is its own (acknowledged, no oracle of shop-01's
    R1); a notice claiming shop-01 is not relayed as shop-01's; Mallory, handed the id,
    gets word for word what an unknown receipt gets; Alice gets no unasked dual-send."""
    async with field() as f:
        attack = await merchant_attack(f)
        assert attack.own_upload == UploadAck("R1", SHOP_2)
        assert not attack.notice_relayed
        assert attack.mallory_answer == unknown_receipt("R1", 1, SHOP_1)
        assert attack.alice_unasked and not attack.alice_delivered
        till_2 = await f.till(SHOP_2)
        mallory = await f.phone(MALLORY)
        stranger = await mallory.ask(AssociationRequest(2, "R404", SHOP_1, MALLORY))
        assert stranger == unknown_receipt("R404", 2, SHOP_1)  # the same words
        forged = await till_2.ask(upload(SHOP_1, "R9", BOB, ("SKIN-FW-001",)))
        assert isinstance(forged, ErrorReply) and forged.code is ErrorCode.FORGED_IDENTIFIER
        promotions = await till_2.ask(PromotionUpdate(SHOP_1, (), ()))
        assert isinstance(promotions, ErrorReply)
        assert promotions.code is ErrorCode.FORGED_IDENTIFIER
        assert f.store.binding(ReceiptKey(SHOP_1, "R9")) is None
        assert f.store.promotions(SHOP_1) is None


async def test_planted_a_relay_that_trusts_the_claimed_merchant_leaks_both_ways() -> None:
    """The bug of issue 14 item 4: Mallory gets shop-01's products, Alice a dual-send."""
    async with field(relay=trusting_relay_policy) as f:
        attack = await merchant_attack(f)
        assert attack.notice_relayed
        assert isinstance(attack.mallory_answer, AssociationResponse)
        assert attack.mallory_answer.products  # derived from shop-01's basket
        assert not attack.alice_unasked and attack.alice_delivered


async def test_planted_one_namespace_refuses_the_second_merchant_and_tells_it() -> None:
    """The bug of issue 14 item 5: shop-02's R1 is refused as shop-01's."""
    async with field(store=SharedNamespaceStore()) as f:
        attack = await merchant_attack(f)
        assert isinstance(attack.own_upload, ErrorReply)
        assert attack.own_upload.code is ErrorCode.CONFLICTING_UPLOAD


async def test_the_first_merchant_to_use_an_id_takes_nothing_from_the_second() -> None:
    """Issue 14 item 5, the other order: shop-02 uploads R5 first; shop-01's real sale R5
    is accepted, and its customer is served its own products."""
    async with field() as f:
        till_1, till_2 = await f.till(SHOP_1), await f.till(SHOP_2)
        alice = await f.phone(ALICE)
        assert await till_2.ask(upload(SHOP_2, "R5", BOB, ("FOOD-PA-001",))) == UploadAck(
            "R5", SHOP_2
        )
        assert await till_1.ask(upload(SHOP_1, "R5", ALICE, ("SKIN-FW-001",))) == UploadAck(
            "R5", SHOP_1
        )
        answer = await alice.ask(AssociationRequest(1, "R5", SHOP_1, ALICE))
        assert isinstance(answer, AssociationResponse) and answer.merchant_id == SHOP_1
        bound = f.store.binding(ReceiptKey(SHOP_1, "R5"))
        assert bound is not None and bound.phone_id == ALICE
        other = f.store.binding(ReceiptKey(SHOP_2, "R5"))
        assert other is not None and other.phone_id == BOB


# --------------------------------------------------------------------------- a phone


async def test_a_phone_gets_nothing_of_another_phones_receipts_or_identity() -> None:
    """Row "an enrolled phone": no products of a receipt bound to another phone it was not
    handed, no acting as another phone, no other phone's credential."""
    async with field() as f:
        till = await f.till(SHOP_1)
        assert await till.ask(upload(SHOP_1, "R1", ALICE, ("SKIN-FW-001",))) == UploadAck(
            "R1", SHOP_1
        )
        alice, mallory = await f.phone(ALICE), await f.phone(MALLORY)
        assert await mallory.ask(AssociationRequest(1, "R1", SHOP_1, MALLORY)) == unknown_receipt(
            "R1", 1, SHOP_1
        )
        for forged in (
            AssociationRequest(2, "R1", SHOP_1, ALICE),
            Subscribe(ALICE),
            PushAck("R1", SHOP_1, ALICE),
        ):
            reply = await mallory.ask(forged)
            assert isinstance(reply, ErrorReply) and reply.code is ErrorCode.FORGED_IDENTIFIER
        assert await alice.nothing_comes()  # no dual-send to Alice
        assert f.store.pending_push(ReceiptKey(SHOP_1, "R1")) is not None  # her push still due
        mallorys_token = f.tokens.issue(MALLORY)
        assert await f.refused_hello(phone_address(ALICE), mallorys_token) == [
            ErrorCode.UNAUTHORIZED
        ]
        # a notice of a merchant's receipt reaches only the phone it is addressed to
        await till.tell(ReceiptNotice("R1", SHOP_1, 0.0), to=phone_address(ALICE))
        assert isinstance(await alice.next(), ReceiptNotice)
        assert await mallory.nothing_comes()


@attrs.frozen
class AckAttack:
    """What strangers' acknowledgements of Alice's notice of shop-01's R1 did."""

    mallory_answer: Message | None  # the enrolled Mallory acks R1 to the till
    newcomer_answer: Message | None  # so does a token-less enrolling phone
    till_got_a_strangers_ack: bool
    till_got_alices_ack: bool  # Alice, back online, gets the notice and acks it


async def ack_attack(f: Field) -> AckAttack:
    till = await f.till(SHOP_1)
    assert await till.ask(upload(SHOP_1, "R1", ALICE, ("SKIN-FW-001",))) == UploadAck("R1", SHOP_1)
    await till.tell(ReceiptNotice("R1", SHOP_1, 0.0), to=phone_address(ALICE))  # offline
    mallory = await f.phone(MALLORY)
    await mallory.tell(NoticeAck("R1", SHOP_1), to=TILL_1)
    answers: list[Message | None] = []
    with trio.move_on_after(WAIT * 3):
        answers.append(await mallory.next())
    newcomer = "+8613800000077"
    raw = await Raw.connect(f.port, hello=phone_address(newcomer), credential="")
    spy = Client(raw, phone_address(newcomer))
    await spy.tell(NoticeAck("R1", SHOP_1), to=TILL_1)
    with trio.move_on_after(WAIT * 3):
        answers.append(await spy.next())
    answers.extend([None] * (2 - len(answers)))
    strangers = not await till.nothing_comes()
    alice = await f.phone(ALICE)  # the till re-sends its notice; here, once by hand
    await till.tell(ReceiptNotice("R1", SHOP_1, 0.0), to=phone_address(ALICE))
    assert isinstance(await alice.next(), ReceiptNotice)
    await alice.tell(NoticeAck("R1", SHOP_1), to=TILL_1)
    alices = await till.next() == NoticeAck("R1", SHOP_1)
    return AckAttack(answers[0], answers[1], strangers, alices)


def ack_refused(answer: Message | None) -> bool:
    return isinstance(answer, ErrorReply) and answer.code is ErrorCode.UNAUTHORIZED


async def test_a_phone_cannot_silence_another_phones_receipt_notice() -> None:
    """Rows "an enrolled phone" and "an enrolling phone" (reviewer finding S2): only a
    phone the till handed the notice to may acknowledge it; anyone else's ack is refused
    and never reaches the till, which keeps re-sending until the buyer acknowledges."""
    async with field() as f:
        attack = await ack_attack(f)
        assert ack_refused(attack.mallory_answer) and ack_refused(attack.newcomer_answer)
        assert not attack.till_got_a_strangers_ack
        assert attack.till_got_alices_ack


async def test_planted_a_relay_passing_anyones_ack_lets_strangers_silence_a_till() -> None:
    async with field(relay=any_ack_relay_policy) as f:
        attack = await ack_attack(f)
        assert attack.mallory_answer is None and attack.newcomer_answer is None
        assert attack.till_got_a_strangers_ack


async def test_an_enrolling_phone_gets_its_own_token_once_and_no_other() -> None:
    """Row "an enrolling phone": without a token it may subscribe its own number (and gets
    that number's token), never another's; once enrolled, a token-less hello is refused."""
    async with field() as f:
        newcomer = "+8613800000009"
        raw = await Raw.connect(f.port, hello=phone_address(newcomer), credential="")
        phone = Client(raw, phone_address(newcomer))
        other = await phone.ask(Subscribe(ALICE))
        assert isinstance(other, ErrorReply) and other.code is ErrorCode.FORGED_IDENTIFIER
        own = await phone.ask(Subscribe(newcomer))
        assert own == SubscribeAck(newcomer, f.tokens.issue(newcomer))
        assert f.tokens.issue(newcomer) != f.tokens.issue(ALICE)
        assert await f.refused_hello(phone_address(newcomer), "") == [ErrorCode.UNAUTHORIZED]


# --------------------------------------------------------------------------- the host


def test_another_local_user_cannot_read_what_the_cloud_keeps(tmp_path: Path) -> None:
    """Row "another user of the cloud's host": the store, its WAL and shared memory, the
    receipt-holder record and the device-token secret (as ``serve cloud`` makes it) are
    created 0600 whatever the umask."""
    old = os.umask(0o022)
    try:
        with SqliteStore(tmp_path / "cloud.db") as store:
            store.subscribe(ALICE, 0.0)
            holders = ReceiptHolders(tmp_path / "cloud.db.holders")
            holders.record(ReceiptKey(SHOP_1, "R1"), ALICE)
            holders.close()
            _, created = load_secret(tmp_path / "cloud.db.secret", create=True)
            assert created
            files = ["cloud.db", "cloud.db-wal", "cloud.db-shm", "cloud.db.holders"]
            files.append("cloud.db.secret")
            modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in files}
    finally:
        os.umask(old)
    assert modes == dict.fromkeys(files, 0o600)


def test_each_row_of_the_threat_model_names_its_tests() -> None:
    """docs/security.md's threat-model table: every row names tests of this module."""
    text = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    named = [re.findall(r"`(test_\w+)`", row) for row in rows[1:]]  # after the header
    assert len(named) >= 6 and all(named), rows
    assert {name for names in named for name in names} <= set(globals())
