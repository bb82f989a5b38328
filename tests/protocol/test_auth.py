"""The cloud's security core (protocol._machines._auth and the cloud's step 504), without I/O.

Merchant keys, device tokens, the hello check, and what an authenticated sender may claim:
every forgery is refused before the cloud does any work, and nothing leaks.
"""

from __future__ import annotations

import json

import attrs
import pytest

from protocol import (
    WIRE_VERSION,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    AuthenticationError,
    CloudConfig,
    CloudMachine,
    Effects,
    ErrorCode,
    ErrorReply,
    InMemoryStore,
    LocalProtocolError,
    Message,
    PhoneMachine,
    PromotionAck,
    PromotionUpdate,
    PushAck,
    PushDue,
    PushReason,
    ReceiptKey,
    RuleRecommender,
    Subscribe,
    SubscribeAck,
    UploadAck,
    builtin_catalog,
    encode_json,
    identify_requester,
    phone_address,
    pos_address,
)
from protocol.lowlevel import (
    Authenticator,
    DeviceTokens,
    Gatekeeper,
    GatekeeperNote,
    Hello,
    MerchantKeys,
    claims_refusal,
    generate_key,
    generate_secret,
    hash_key,
    phone_of,
    pos_of,
)
from scenarios import Scenario, run_scenario
from tests.builders import ALICE, BOB, POS, catalog_upload, receipt

EVE = "+8613800000666"
SHOP = "shop-a"
OTHER_SHOP = "shop-b"
OTHER_POS = pos_address(OTHER_SHOP, "pos-1")
SECRET = b"k" * 32
CATALOG = builtin_catalog()


def hello(address: str, credential: str = "") -> Hello:
    return Hello(version=WIRE_VERSION, address=address, credential=credential)


# --------------------------------------------------------------------------- merchant keys


def test_a_merchant_key_verifies_and_only_its_hash_is_kept() -> None:
    key = generate_key()
    keys = MerchantKeys()
    keys.add(SHOP, key)
    assert keys.verify(SHOP, key)
    assert not keys.verify(SHOP, key[:-1] + ("A" if key[-1] != "A" else "B"))  # wrong key
    assert not keys.verify(OTHER_SHOP, key)  # unknown merchant
    assert not keys.verify(SHOP, "")
    assert not keys.verify(SHOP, "ключ-ключ-ключ-ключ")  # not ASCII: never a key
    text = keys.to_json()
    assert key not in text
    stored = json.loads(text)["merchants"][SHOP]
    assert stored.startswith("sha256$")
    reread = MerchantKeys.from_json(text)
    assert reread.merchants == (SHOP,) and reread.verify(SHOP, key)


def test_hashes_are_salted() -> None:
    key = generate_key()
    assert hash_key(key) != hash_key(key)
    assert hash_key(key, salt=b"s" * 16) == hash_key(key, salt=b"s" * 16)


@pytest.mark.parametrize(
    "key", ["short", "with a space in it!", "tab\there-is-long-enough", "é" * 20]
)
def test_weak_or_odd_keys_are_refused_when_added(key: str) -> None:
    with pytest.raises(LocalProtocolError, match="at least 16 printable ASCII"):
        MerchantKeys().add(SHOP, key)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not valid JSON"),
        ("[]", "not a merchant keys file"),
        ('{"format": "other"}', "not a merchant keys file"),
        ('{"format": "assocsim-merchant-keys/1"}', '"merchants" object'),
        ('{"format": "assocsim-merchant-keys/1", "merchants": {"s": 3}}', "key hash must be text"),
        ('{"format": "assocsim-merchant-keys/1", "merchants": {"s": "md5$a$b"}}', "must read"),
        ('{"format": "assocsim-merchant-keys/1", "merchants": {"s": "sha256$zz$00"}}', "hex"),
        ('{"format": "assocsim-merchant-keys/1", "merchants": {"s": "sha256$00$00"}}', "short"),
        (
            '{"format": "assocsim-merchant-keys/1", "merchants": {"a:b": "sha256$'
            + "00" * 16
            + "$"
            + "00" * 32
            + '"}}',
            "merchant id",
        ),
    ],
)
def test_a_bad_keys_file_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(LocalProtocolError, match=problem):
        MerchantKeys.from_json(text)


# --------------------------------------------------------------------------- device tokens


def test_a_device_token_is_bound_to_its_phone_and_its_secret() -> None:
    tokens = DeviceTokens(SECRET)
    token = tokens.issue(ALICE)
    assert token.startswith("dt1.") and len(token) == 47
    assert tokens.issue(ALICE) == token  # stateless: the same every time, after restarts too
    assert tokens.verify(ALICE, token)
    assert not tokens.verify(BOB, token)  # stolen, used for another phone
    assert not tokens.verify(ALICE, token[:-1] + ("A" if token[-1] != "A" else "B"))  # forged
    assert not tokens.verify(ALICE, "")
    assert not tokens.verify(ALICE, "dt1.é")
    assert not DeviceTokens(b"x" * 32).verify(ALICE, token)  # a new secret revokes them all
    assert DeviceTokens(generate_secret()).issue(ALICE) != token


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="at least 32 random bytes"):
        DeviceTokens(b"short")


# --------------------------------------------------------------------------- the hello check


def authenticator(enrolled: frozenset[str] = frozenset()) -> tuple[Authenticator, str]:
    key = generate_key()
    keys = MerchantKeys()
    keys.add(SHOP, key)
    return Authenticator(keys, DeviceTokens(SECRET), is_enrolled=enrolled.__contains__), key


def test_a_pos_with_its_merchants_key_is_authenticated() -> None:
    auth, key = authenticator()
    assert auth.authenticate(hello(POS, key)) == POS
    assert auth.authenticate(hello(pos_address(SHOP, "pos-9"), key)) == pos_address(SHOP, "pos-9")
    assert auth.accepted == 2 and auth.refused == 0


def test_unknown_merchant_and_wrong_key_are_refused_alike() -> None:
    auth, key = authenticator()
    with pytest.raises(AuthenticationError) as wrong:
        auth.authenticate(hello(POS, generate_key()))
    with pytest.raises(AuthenticationError) as unknown:
        auth.authenticate(hello(OTHER_POS, key))  # shop-a's key does not open shop-b
    for refusal in (wrong, unknown):
        assert "merchant key refused (unknown merchant or wrong key)" in str(refusal.value)
        assert key not in str(refusal.value)
    assert auth.refused == 2


def test_an_ambiguous_pos_address_is_refused() -> None:
    """pos:shop-a:x:y could be merchant shop-a or shop-a:x: never authenticated."""
    auth, key = authenticator()
    with pytest.raises(AuthenticationError, match="not a client address"):
        auth.authenticate(hello("pos:shop-a:x:y", key))
    assert pos_of("pos:shop-a:x:y") is None
    assert pos_of(POS) == (SHOP, "pos-1")


def test_a_phone_proves_its_id_with_its_token() -> None:
    auth, _ = authenticator(frozenset({ALICE, BOB}))
    tokens = DeviceTokens(SECRET)
    assert auth.authenticate(hello(phone_address(ALICE), tokens.issue(ALICE))) == phone_address(
        ALICE
    )
    with pytest.raises(AuthenticationError, match="device token refused"):
        auth.authenticate(hello(phone_address(BOB), tokens.issue(ALICE)))  # a stolen token
    forged = tokens.issue(BOB)[:-2] + "xx"
    with pytest.raises(AuthenticationError, match="device token refused"):
        auth.authenticate(hello(phone_address(BOB), forged))
    with pytest.raises(AuthenticationError, match="device token refused"):
        auth.authenticate(hello(phone_address(BOB), DeviceTokens(b"z" * 32).issue(BOB)))


def test_a_phone_without_a_token_may_only_enrol_once() -> None:
    auth, _ = authenticator(frozenset({ALICE}))
    assert auth.authenticate(hello(phone_address(BOB))) == phone_address(BOB)  # enrolling
    with pytest.raises(AuthenticationError, match="this phone is enrolled"):
        auth.authenticate(hello(phone_address(ALICE)))  # nobody enrols as Alice again
    # The caller may look the enrolment up itself (e.g. in the store, asynchronously):
    with pytest.raises(AuthenticationError, match="this phone is enrolled"):
        auth.authenticate(hello(phone_address(BOB)), enrolled=True)


@pytest.mark.parametrize("address", ["cloud", "relay:7", "phone:12345", "pos:shop-a"])
def test_other_addresses_are_refused(address: str) -> None:
    auth, key = authenticator()
    with pytest.raises(AuthenticationError):
        auth.authenticate(hello(address, key))


def test_address_parsing() -> None:
    assert phone_of(phone_address(ALICE)) == ALICE
    assert phone_of("phone:nope") is None
    assert phone_of(POS) is None
    assert identify_requester(phone_address(ALICE)) == ALICE
    assert identify_requester(POS) is None


# --------------------------------------------------------------------------- claims vs sender


class Cloud:
    """A gatekept cloud that issues device tokens, with an in-memory store."""

    def __init__(self, holders: dict[ReceiptKey, set[str]] | None = None) -> None:
        self.store = InMemoryStore()
        self.tokens = DeviceTokens(SECRET)
        self.bare = CloudMachine(
            store=self.store,
            recommender=RuleRecommender(),
            config=CloudConfig(push_timeout=60.0),
            device_tokens=self.tokens,
        )
        self.holders = holders if holders is not None else {}
        self.machine = Gatekeeper(
            self.bare, store=self.store, holders=lambda r: self.holders.get(r, set())
        )

    def send(self, message: Message, sender: str, now: float = 0.0) -> Effects:
        return self.machine.handle(message, sender, now)


def only_refusal(effects: Effects, to: str, code: ErrorCode) -> ErrorReply:
    assert len(effects.sends) == 1, effects
    send = effects.sends[0]
    assert send.to == to
    assert isinstance(send.message, ErrorReply)
    assert send.message.code is code
    assert not effects.timers and not effects.cancels
    return send.message


def test_subscribing_returns_the_phones_device_token() -> None:
    cloud = Cloud()
    effects = cloud.send(Subscribe(ALICE), phone_address(ALICE))
    ack = effects.sends[0].message
    assert ack == SubscribeAck(ALICE, cloud.tokens.issue(ALICE))
    again = cloud.send(Subscribe(ALICE), phone_address(ALICE), now=5.0)
    assert again.sends[0].message == ack  # a re-sent subscription: the same token


def test_a_simulated_cloud_issues_no_token() -> None:
    cloud = CloudMachine(store=InMemoryStore(), recommender=RuleRecommender())
    effects = cloud.handle(Subscribe(ALICE), phone_address(ALICE), 0.0)
    assert effects.sends[0].message == SubscribeAck(ALICE, None)


def test_the_phone_keeps_its_token() -> None:
    phone = PhoneMachine(ALICE)
    phone.subscribe(0.0)
    phone.handle(SubscribeAck(ALICE, "dt1.token"), "cloud", 1.0)
    assert phone.subscribed and phone.device_token == "dt1.token"
    phone.handle(SubscribeAck(BOB, "dt1.other"), "cloud", 2.0)  # not its own: ignored
    assert phone.device_token == "dt1.token"


def test_nobody_subscribes_another_phone_or_gets_its_token() -> None:
    cloud = Cloud()
    for sender in (phone_address(EVE), POS):
        for machine in (cloud.machine, cloud.bare):  # the gatekeeper, and the cloud itself
            effects = machine.handle(Subscribe(ALICE), sender, 0.0)
            refusal = only_refusal(effects, sender, ErrorCode.FORGED_IDENTIFIER)
            assert cloud.tokens.issue(ALICE) not in encode_json(refusal).decode()
    assert not cloud.store.is_subscribed(ALICE)


def test_an_upload_from_another_pos_is_refused_before_anything_is_stored() -> None:
    cloud = Cloud()
    for sender in (OTHER_POS, pos_address(SHOP, "pos-2"), phone_address(EVE)):
        effects = cloud.send(catalog_upload(), sender)
        refusal = only_refusal(effects, sender, ErrorCode.FORGED_IDENTIFIER)
        assert refusal.receipt_id == "r-1"  # so the POS stops re-sending it
        assert [note.kind for note in effects.notes] == [GatekeeperNote.FORGED]
    assert cloud.store.binding(receipt("r-1")) is None
    assert cloud.send(catalog_upload(), POS).sends[0].message == UploadAck("r-1", "shop-a")


def test_promotions_of_another_merchant_are_refused() -> None:
    cloud = Cloud()
    update = PromotionUpdate(OTHER_SHOP, ("SKIN-LO-002",), ())
    only_refusal(cloud.send(update, POS), POS, ErrorCode.FORGED_IDENTIFIER)
    assert cloud.store.promotions(OTHER_SHOP) is None
    assert cloud.send(update, OTHER_POS).sends[0].message == PromotionAck(OTHER_SHOP)


def test_a_request_forging_another_phone_is_refused_and_nothing_leaks() -> None:
    cloud = Cloud()
    cloud.send(Subscribe(ALICE), phone_address(ALICE))
    cloud.send(Subscribe(EVE), phone_address(EVE))
    cloud.send(catalog_upload(phone_id=ALICE), POS)
    forged = AssociationRequest(1, "r-1", "shop-a", ALICE)  # Eve claims to be Alice
    for machine in (cloud.machine, cloud.bare):
        effects = machine.handle(forged, phone_address(EVE), 10.0)
        refusal = only_refusal(effects, phone_address(EVE), ErrorCode.FORGED_IDENTIFIER)
        assert (refusal.receipt_id, refusal.request_id) == ("r-1", 1)
    assert not cloud.store.was_delivered(receipt("r-1"), ALICE)
    assert cloud.store.pending_push(receipt("r-1")) is not None  # Alice's push still comes
    assert cloud.store.matching_relation(receipt("r-1")) is None  # no pairing was even computed
    push = cloud.machine.timer_fired(PushDue("r-1", "shop-a"), 60.0)
    assert [s.to for s in push.sends] == [phone_address(ALICE)]


def test_a_phone_asking_for_another_phones_receipt_learns_nothing() -> None:
    """Eve asks, as herself, about Alice's receipt she was never handed: refused as an
    unknown receipt would be, no products, no dual-send, Alice's push unchanged."""
    cloud = Cloud()
    cloud.send(Subscribe(ALICE), phone_address(ALICE))
    cloud.send(Subscribe(EVE), phone_address(EVE))
    cloud.send(catalog_upload(phone_id=ALICE), POS)
    effects = cloud.send(AssociationRequest(1, "r-1", "shop-a", EVE), phone_address(EVE), 10.0)
    refusal = only_refusal(effects, phone_address(EVE), ErrorCode.UNKNOWN_RECEIPT)
    unknown = only_refusal(
        cloud.send(AssociationRequest(2, "r-404", "shop-a", EVE), phone_address(EVE), 10.0),
        phone_address(EVE),
        ErrorCode.UNKNOWN_RECEIPT,
    )
    assert refusal.detail.replace("r-1", "X") == unknown.detail.replace("r-404", "X")  # no oracle
    assert [note.kind for note in effects.notes] == [GatekeeperNote.NOT_HOLDER]
    assert not cloud.store.was_delivered(receipt("r-1"), ALICE)
    assert not tuple(cloud.store.outgoing())
    assert cloud.store.pending_push(receipt("r-1")) is not None


def test_the_buyer_handed_the_receipt_gets_the_patents_dual_send() -> None:
    """The POS keyed Alice's number, but handed Bob (the buyer) the receipt: Bob's request
    is the patent's mismatch; both devices get the associated products, never the goods."""
    cloud = Cloud(holders={receipt("r-1"): {BOB}})
    cloud.send(Subscribe(ALICE), phone_address(ALICE))
    cloud.send(Subscribe(BOB), phone_address(BOB))
    bought = catalog_upload(phone_id=ALICE)
    cloud.send(bought, POS)
    effects = cloud.send(AssociationRequest(1, "r-1", "shop-a", BOB), phone_address(BOB), 10.0)
    by_recipient = {send.to: send.message for send in effects.sends}
    response = by_recipient[phone_address(BOB)]
    push = by_recipient[phone_address(ALICE)]
    assert isinstance(response, AssociationResponse) and response.products
    assert isinstance(push, AssociationPush) and push.reason is PushReason.DUAL_SEND
    assert push.products == response.products
    basket = {item.sku for item in bought.items} | {item.name for item in bought.items}
    for message in (response, push):
        wire = encode_json(message).decode()
        assert not any(text in wire for text in basket)  # the other person's purchase
        assert "items" not in wire and "purchased_at" not in wire


def test_dual_send_reaches_only_subscribed_phones() -> None:
    cloud = Cloud(holders={receipt("r-1"): {BOB}})
    cloud.send(Subscribe(BOB), phone_address(BOB))  # Alice, the POS-named phone, never did
    cloud.send(catalog_upload(phone_id=ALICE), POS)
    effects = cloud.send(AssociationRequest(1, "r-1", "shop-a", BOB), phone_address(BOB), 10.0)
    assert [send.to for send in effects.sends] == [phone_address(BOB)]
    assert "dual-send-withheld" in [note.kind for note in effects.notes]
    assert not tuple(cloud.store.outgoing())


def test_a_push_ack_for_another_phone_does_not_stop_its_push() -> None:
    cloud = Cloud()
    cloud.send(Subscribe(ALICE), phone_address(ALICE))
    cloud.send(catalog_upload(phone_id=ALICE), POS)
    cloud.machine.timer_fired(PushDue("r-1", "shop-a"), 60.0)
    assert len(tuple(cloud.store.outgoing())) == 1
    for machine in (cloud.machine, cloud.bare):
        effects = machine.handle(PushAck("r-1", "shop-a", ALICE), phone_address(EVE), 61.0)
        only_refusal(effects, phone_address(EVE), ErrorCode.FORGED_IDENTIFIER)
    assert len(tuple(cloud.store.outgoing())) == 1  # still re-sent to Alice until she acks
    assert not cloud.send(PushAck("r-1", "shop-a", ALICE), phone_address(ALICE), 62.0).sends
    assert not tuple(cloud.store.outgoing())


def test_claims_hold_for_honest_senders() -> None:
    assert claims_refusal(catalog_upload(), POS) is None
    assert claims_refusal(PromotionUpdate(SHOP, (), ()), pos_address(SHOP, "pos-7")) is None
    assert (
        claims_refusal(AssociationRequest(1, "r-1", "shop-a", ALICE), phone_address(ALICE)) is None
    )
    assert claims_refusal(Subscribe(ALICE), phone_address(ALICE)) is None
    assert claims_refusal(PushAck("r-1", "shop-a", ALICE), phone_address(ALICE)) is None
    assert claims_refusal(UploadAck("r-1", "shop-a"), "anyone") is None  # claims nothing


def test_gatekeeper_needs_store_and_holders_together() -> None:
    bare = CloudMachine(store=InMemoryStore(), recommender=RuleRecommender())
    with pytest.raises(LocalProtocolError, match="both store and holders"):
        Gatekeeper(bare, store=InMemoryStore())


def test_in_simulation_a_gatekept_cloud_behaves_as_the_bare_one() -> None:
    """Every simulated sender is the true party: the security changes nothing there."""
    scenario = Scenario(
        phones=12, purchases=60, duration=3600.0, wrong_id_rate=0.2, unsubscribed_rate=0.2
    )
    scenario = attrs.evolve(scenario, seed=3)

    def gatekept(store: object, recommender: object, config: CloudConfig) -> Gatekeeper:
        assert isinstance(store, InMemoryStore) and isinstance(recommender, RuleRecommender)
        machine = CloudMachine(
            store=store, recommender=recommender, config=config, device_tokens=DeviceTokens(SECRET)
        )
        return Gatekeeper(machine)

    bare = run_scenario(scenario).report
    guarded = run_scenario(scenario, cloud=gatekept).report
    assert guarded == bare
    assert bare.mismatches > 0 and bare.refusals > 0
