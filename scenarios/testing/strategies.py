"""Hypothesis strategies for assocsim: messages, catalogs, scenarios and fault schedules.

Every value drawn here is valid: messages pass their own validation, catalogs are subsets
of the built-in catalog, scenarios are small worlds that run in well under a second, and
fault schedules heal: the network's faults, the partitions and the crashes end by the
time the scenario's purchases do (its ``duration``), except that with
``inside_steps="always"`` a crash inside a cloud step may fall and restart until
``duration + push_timeout``, so as to reach the timeout pushes due after the purchases.
A healed phase follows in which every promise of the protocol must be kept.

The scenarios exercise the promises: every one makes purchases, and the knobs hypothesis
favours (the first of each list, which it also shrinks towards) are those under which a
run asks, keys in wrong ids and dual-sends; a push falls due after most asks by default.
Each checked run tells hypothesis what it met (:func:`~scenarios.testing.run_checked`),
so ``pytest --hypothesis-show-statistics`` shows how often a property met each promise.
Use them in your own property tests::

    from hypothesis import given, settings
    from scenarios.testing import strategies

    @settings(deadline=None)
    @given(strategies.faulty_scenarios())
    def test_my_variant(scenario, assocsim_run):
        assocsim_run(scenario, cloud="my_variant:make_cloud").assert_ok()

Knobs of the scenario and fault strategies take either a fixed value or a strategy to
draw it from (``phones=5`` or ``phones=st.integers(2, 20)``); left out, each knob draws
from the small range its docstring gives.

* messages: :func:`messages` draws any message of the protocol; one function per message
  type (:func:`purchase_uploads`, :func:`association_pushes`, ...) and per part
  (:func:`items`, :func:`phone_ids`, ...); :func:`message_types` maps each class to its
  strategy.
* catalogs: :func:`catalogs` (subsets of the built-in catalog), :func:`catalog_products`,
  :func:`catalog_items`, :func:`baskets`.
* scenarios: :func:`scenarios` (small, fast worlds on a perfect network).
* faults: :func:`network_configs`, :func:`links`, :func:`partitions`,
  :func:`partition_schedules`, :func:`crash_schedules`, :func:`fault_schedules`
  (a :class:`FaultSchedule`), and :func:`faulty_scenarios` combining them with a scenario.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Literal, TypeAlias, TypeVar

import attrs
from hypothesis import assume
from hypothesis import strategies as st

from actors import Crash, Link, NetworkConfig, Partition
from protocol import (
    CLOUD,
    DEPARTMENTS,
    MAX_ITEMS_PER_PURCHASE,
    MAX_PRICE,
    MAX_PRODUCTS_PER_DELIVERY,
    MAX_REQUEST_ID,
    AssociatedProduct,
    AssociationPush,
    AssociationRequest,
    AssociationResponse,
    AssocsimError,
    Catalog,
    ErrorCode,
    ErrorReply,
    Item,
    Message,
    MismatchPolicy,
    NoticeAck,
    Offer,
    Product,
    PromotionAck,
    PromotionUpdate,
    PurchaseUpload,
    PushAck,
    PushReason,
    Reason,
    ReceiptNotice,
    Subscribe,
    SubscribeAck,
    UploadAck,
    builtin_catalog,
)
from protocol.lowlevel import MAX_TEXT_LENGTH
from scenarios._model._scenario import CloudSettings, Scenario
from scenarios._model._workload import generate_workload, phone_id_of

__all__ = [
    "CRASH_STEP_KINDS",
    "CRASH_TARGETS",
    "MAX_TEXT_LENGTH",
    "MAX_WRITES_PER_STEP",
    "PARTITION_SIDES",
    "FaultSchedule",
    "InsideSteps",
    "Knob",
    "StrategyError",
    "associated_products",
    "association_pushes",
    "association_requests",
    "association_responses",
    "baskets",
    "catalog_items",
    "catalog_products",
    "catalogs",
    "crash_schedules",
    "error_replies",
    "fault_schedules",
    "faulty_scenarios",
    "items",
    "links",
    "message_types",
    "messages",
    "network_configs",
    "notice_acks",
    "offers",
    "partition_schedules",
    "partitions",
    "phone_ids",
    "positive_ints",
    "prices",
    "promotion_acks",
    "promotion_updates",
    "purchase_uploads",
    "push_acks",
    "receipt_notices",
    "scenarios",
    "scores",
    "subscribe_acks",
    "subscribes",
    "texts",
    "timestamps",
    "tokens",
    "upload_acks",
]

T = TypeVar("T")


class StrategyError(AssocsimError, ValueError):
    """A strategy was given knobs it cannot draw from (a ``ValueError`` too)."""


Knob: TypeAlias = T | st.SearchStrategy[T]
"""A knob of a strategy: a fixed value, or a strategy to draw the value from."""


def _knob(value: Knob[T]) -> st.SearchStrategy[T]:
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(value)


# ====================================================================== messages


def phone_ids() -> st.SearchStrategy[str]:
    """Well-formed phone identifiers (E.164: '+', then 8 to 15 digits, no leading zero)."""
    return st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True)


def tokens() -> st.SearchStrategy[str]:
    """Well-formed receipt, merchant, POS and SKU ids (1 to 64 characters)."""
    return st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)


def texts(max_size: int = MAX_TEXT_LENGTH, *, allow_empty: bool = False) -> st.SearchStrategy[str]:
    """Free text (any Unicode but surrogates) of at most ``max_size`` characters; empty
    only with ``allow_empty``."""
    return st.text(min_size=0 if allow_empty else 1, max_size=max_size)


def prices() -> st.SearchStrategy[float]:
    """Finite, non-negative amounts (prices), up to ``MAX_PRICE``."""
    return st.floats(min_value=0.0, max_value=MAX_PRICE, allow_nan=False, allow_infinity=False)


def timestamps() -> st.SearchStrategy[float]:
    """Finite, non-negative virtual times, up to 1e9 seconds."""
    return st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)


def scores() -> st.SearchStrategy[float]:
    """Finite scores of any sign."""
    return st.floats(allow_nan=False, allow_infinity=False)


def positive_ints() -> st.SearchStrategy[int]:
    """Whole numbers from 1 to ``MAX_REQUEST_ID`` (request ids)."""
    return st.integers(min_value=1, max_value=MAX_REQUEST_ID)


def items() -> st.SearchStrategy[Item]:
    """One purchase line with arbitrary valid fields (see :func:`catalog_items` for lines
    of real catalog products)."""
    return st.builds(
        Item,
        sku=tokens(),
        name=texts(),
        category=texts(),
        brand=texts(),
        colour=texts(allow_empty=True),
        quantity=st.integers(min_value=1, max_value=10_000),
        price=prices(),
    )


def associated_products() -> st.SearchStrategy[AssociatedProduct]:
    """One associated product, with or without an offer text."""
    return st.builds(
        AssociatedProduct,
        sku=tokens(),
        name=texts(),
        category=texts(),
        brand=texts(),
        colour=texts(allow_empty=True),
        price=prices(),
        reason=st.sampled_from(Reason),
        score=scores(),
        offer=st.none() | texts(),
    )


def offers() -> st.SearchStrategy[Offer]:
    """A merchant's special offer."""
    return st.builds(Offer, sku=tokens(), description=texts(), price=prices())


def _product_lists() -> st.SearchStrategy[tuple[AssociatedProduct, ...]]:
    return st.lists(associated_products(), max_size=min(4, MAX_PRODUCTS_PER_DELIVERY)).map(tuple)


def subscribes() -> st.SearchStrategy[Subscribe]:
    """A phone's subscription to the associated-products service."""
    return st.builds(Subscribe, phone_id=phone_ids())


def subscribe_acks() -> st.SearchStrategy[SubscribeAck]:
    """The cloud's acknowledgement of a subscription."""
    return st.builds(SubscribeAck, phone_id=phone_ids())


def purchase_uploads(
    *, phone_id: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[PurchaseUpload]:
    """A POS upload (step 501) of 1 to 4 items, bound to a phone id drawn from
    ``phone_id`` (default: :func:`phone_ids`)."""
    return st.builds(
        PurchaseUpload,
        receipt_id=tokens(),
        merchant_id=tokens(),
        pos_id=tokens(),
        phone_id=phone_ids() if phone_id is None else phone_id,
        items=st.lists(items(), min_size=1, max_size=min(4, MAX_ITEMS_PER_PURCHASE)).map(tuple),
        purchased_at=timestamps(),
    )


def upload_acks() -> st.SearchStrategy[UploadAck]:
    """The cloud's acknowledgement of an upload."""
    return st.builds(UploadAck, receipt_id=tokens(), merchant_id=tokens())


def receipt_notices() -> st.SearchStrategy[ReceiptNotice]:
    """A POS's receipt notice to the buyer's phone."""
    return st.builds(
        ReceiptNotice, receipt_id=tokens(), merchant_id=tokens(), purchased_at=timestamps()
    )


def association_requests() -> st.SearchStrategy[AssociationRequest]:
    """A phone's request for the associated products of a receipt (step 503)."""
    return st.builds(
        AssociationRequest,
        request_id=positive_ints(),
        receipt_id=tokens(),
        merchant_id=tokens(),
        phone_id=phone_ids(),
    )


def association_responses() -> st.SearchStrategy[AssociationResponse]:
    """The cloud's response to a request (step 508), with up to 4 products."""
    return st.builds(
        AssociationResponse,
        request_id=positive_ints(),
        receipt_id=tokens(),
        merchant_id=tokens(),
        products=_product_lists(),
    )


def association_pushes() -> st.SearchStrategy[AssociationPush]:
    """An unasked delivery (timeout push or dual-send), with up to 4 products."""
    return st.builds(
        AssociationPush,
        receipt_id=tokens(),
        merchant_id=tokens(),
        phone_id=phone_ids(),
        reason=st.sampled_from(PushReason),
        products=_product_lists(),
    )


def promotion_updates() -> st.SearchStrategy[PromotionUpdate]:
    """A merchant's popular items and special offers (up to 4 of each)."""
    return st.builds(
        PromotionUpdate,
        merchant_id=tokens(),
        popular=st.lists(tokens(), max_size=4).map(tuple),
        offers=st.lists(offers(), max_size=4).map(tuple),
    )


def error_replies() -> st.SearchStrategy[ErrorReply]:
    """A typed refusal, with or without the receipt and request it refers to."""
    return st.builds(
        ErrorReply,
        code=st.sampled_from(ErrorCode),
        detail=texts(2 * MAX_TEXT_LENGTH),
        receipt_id=st.none() | tokens(),
        request_id=st.none() | positive_ints(),
    )


def notice_acks() -> st.SearchStrategy[NoticeAck]:
    """A phone's acknowledgement of a receipt notice."""
    return st.builds(NoticeAck, receipt_id=tokens(), merchant_id=tokens())


def push_acks() -> st.SearchStrategy[PushAck]:
    """A phone's acknowledgement of a push."""
    return st.builds(PushAck, receipt_id=tokens(), merchant_id=tokens(), phone_id=phone_ids())


def promotion_acks() -> st.SearchStrategy[PromotionAck]:
    """The cloud's acknowledgement of a promotion update."""
    return st.builds(PromotionAck, merchant_id=tokens())


def message_types() -> dict[type[Message], st.SearchStrategy[Message]]:
    """Each message class of the protocol with the strategy that draws it."""
    return {
        Subscribe: subscribes(),
        SubscribeAck: subscribe_acks(),
        PurchaseUpload: purchase_uploads(),
        UploadAck: upload_acks(),
        ReceiptNotice: receipt_notices(),
        NoticeAck: notice_acks(),
        AssociationRequest: association_requests(),
        AssociationResponse: association_responses(),
        AssociationPush: association_pushes(),
        PushAck: push_acks(),
        PromotionUpdate: promotion_updates(),
        PromotionAck: promotion_acks(),
        ErrorReply: error_replies(),
    }


def messages() -> st.SearchStrategy[Message]:
    """Any valid message of the protocol."""
    return st.one_of(*message_types().values())


# ====================================================================== catalogs


def _department_of(product: Product) -> str:
    for department, categories in DEPARTMENTS.items():
        if product.category in categories:
            return department
    return ""


def catalogs(
    *,
    departments: Sequence[str] | None = None,
    max_per_department: int | None = 12,
) -> st.SearchStrategy[Catalog]:
    """Sub-catalogs of the built-in catalog, products in catalog order.

    Every drawn catalog has at least one product in each of ``departments`` (default: all
    three, ``skin-care``, ``clothing`` and ``food``) and none from the others, so
    :func:`~scenarios.generate_workload` can fill a basket of any department from it and a
    :class:`~protocol.RuleRecommender` built on it recommends only what it holds.
    ``max_per_department`` caps the products drawn per department (``None``: up to all).
    """
    wanted = tuple(DEPARTMENTS) if departments is None else tuple(departments)
    unknown = [d for d in wanted if d not in DEPARTMENTS]
    if unknown or not wanted:
        raise StrategyError(
            f"catalogs(departments=...): expected some of {', '.join(DEPARTMENTS)}, "
            f"got {list(wanted)!r}"
        )
    full = builtin_catalog()
    position = {product.sku: n for n, product in enumerate(full.products)}
    parts = [
        st.lists(
            st.sampled_from([p for p in full.products if _department_of(p) == department]),
            min_size=1,
            max_size=max_per_department,
            unique_by=lambda product: product.sku,
        )
        for department in wanted
    ]
    return st.tuples(*parts).map(
        lambda chosen: Catalog(
            tuple(sorted((p for part in chosen for p in part), key=lambda p: position[p.sku]))
        )
    )


def catalog_products(catalog: Catalog | None = None) -> st.SearchStrategy[Product]:
    """One product of ``catalog`` (default: the built-in catalog)."""
    chosen = builtin_catalog() if catalog is None else catalog
    return st.sampled_from(chosen.products)


def catalog_items(
    catalog: Catalog | None = None, *, max_quantity: int = 3
) -> st.SearchStrategy[Item]:
    """A purchase line of a real product of ``catalog`` (default: the built-in catalog),
    as a POS would upload it, for 1 to ``max_quantity`` pieces."""
    chosen = builtin_catalog() if catalog is None else catalog
    return st.builds(
        chosen.to_item,
        catalog_products(chosen),
        st.integers(min_value=1, max_value=max_quantity),
    )


def baskets(
    catalog: Catalog | None = None,
    *,
    min_size: int = 1,
    max_size: int = 4,
    one_department: bool = True,
) -> st.SearchStrategy[tuple[Item, ...]]:
    """The items of one purchase: ``min_size`` to ``max_size`` lines of distinct products
    of ``catalog`` (default: the built-in catalog), all from one department like the
    workload generator's baskets unless ``one_department`` is false."""
    if not 1 <= min_size <= max_size <= MAX_ITEMS_PER_PURCHASE:
        raise StrategyError(
            f"baskets: expected 1 <= min_size <= max_size <= {MAX_ITEMS_PER_PURCHASE}, "
            f"got {min_size}, {max_size}"
        )
    chosen = builtin_catalog() if catalog is None else catalog

    def lines(products: Sequence[Product]) -> st.SearchStrategy[tuple[Item, ...]]:
        return st.lists(
            catalog_items(Catalog(tuple(products))),
            min_size=min(min_size, len(products)),
            max_size=min(max_size, len(products)),
            unique_by=lambda item: item.sku,
        ).map(tuple)

    if not one_department:
        return lines(chosen.products)
    by_department: dict[str, list[Product]] = {}
    for product in chosen.products:
        by_department.setdefault(_department_of(product), []).append(product)
    return st.sampled_from(sorted(by_department)).flatmap(
        lambda department: lines(by_department[department])
    )


# ====================================================================== scenarios

_SEEDS = st.integers(0, 2**32 - 1)
_SHOPS = st.integers(1, 3)
_POS_PER_SHOP = st.integers(1, 2)
_PHONES = st.integers(2, 8)
# Hypothesis draws the first item of a list and the ends of a range most often, and shrinks
# towards the first and the low end: those must exercise the promises (a run without a
# purchase, an ask or a wrong id judges no dual-send; tests/planted/vacuous_ordering.py).
_PURCHASES = st.integers(1, 20)  # no purchase: nothing to judge
_DURATIONS = st.floats(60.0, 3600.0)
_BASKET_SIZES = st.integers(1, 4).map(lambda high: (1, high))
_WRONG_ID_RATES = st.sampled_from([0.3, 0.0, 1.0])  # first: right and wrong ids both
_UNSUBSCRIBED_RATES = st.sampled_from([0.0, 0.25, 0.5])
_ASK_PROBABILITIES = st.sampled_from([0.5, 0.0, 1.0])  # first: asked and timeout-pushed both
_ASK_DELAYS = st.tuples(st.integers(0, 600), st.integers(0, 1200)).map(
    lambda low_span: (float(low_span[0]), float(low_span[0] + low_span[1]))
)
# Drawn from the top (1800 s) down: at the favoured 1 s every push fell due before its ask,
# and a phone pushed the products is not dual-sent them.
_PUSH_TIMEOUTS = st.floats(1.0, 1800.0).map(lambda t: 1801.0 - t)
_POLICIES = st.sampled_from(MismatchPolicy)  # DUAL_SEND first
_MAX_PRODUCTS = st.integers(1, 5)
_PROMOTIONS = st.booleans()


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    name: str = "generated",
    seed: Knob[int] = _SEEDS,
    shops: Knob[int] = _SHOPS,
    pos_per_shop: Knob[int] = _POS_PER_SHOP,
    phones: Knob[int] = _PHONES,
    purchases: Knob[int] = _PURCHASES,
    duration: Knob[float] = _DURATIONS,
    items_per_purchase: Knob[tuple[int, int]] = _BASKET_SIZES,
    wrong_id_rate: Knob[float] = _WRONG_ID_RATES,
    unsubscribed_rate: Knob[float] = _UNSUBSCRIBED_RATES,
    ask_probability: Knob[float] = _ASK_PROBABILITIES,
    ask_delay: Knob[tuple[float, float]] = _ASK_DELAYS,
    push_timeout: Knob[float] = _PUSH_TIMEOUTS,
    mismatch_policy: Knob[MismatchPolicy] = _POLICIES,
    promotions: Knob[bool] = _PROMOTIONS,
    max_products: Knob[int] = _MAX_PRODUCTS,
) -> Scenario:
    """Small, fast scenarios on a perfect network, named ``name``.

    Each knob is a value or a strategy; the defaults draw: ``seed`` any 32-bit number,
    ``shops`` 1-3, ``pos_per_shop`` 1-2, ``phones`` 2-8, ``purchases`` 1-20, ``duration``
    60 s to 1 h, ``items_per_purchase`` ``(1, 1..4)``, ``wrong_id_rate`` 0.3, 0 or 1,
    ``unsubscribed_rate`` 0, 0.25 or 0.5, ``ask_probability`` 0.5, 0 or 1, ``ask_delay`` a
    range within 0-30 min, ``push_timeout`` 1 s to 30 min (30 min most often),
    ``mismatch_policy`` either policy (dual-send first), ``promotions`` on or off and
    ``max_products`` 1-5; hypothesis favours the first value of each list (see the module's
    docstring). A run without purchases judges nothing: ``purchases=0`` draws worlds whose
    :meth:`~scenarios.testing.RunOutcome.assert_ok` fails. Force a policy with
    ``mismatch_policy=MismatchPolicy.REJECT``, a bigger world with ``purchases=200``.
    A world with one phone never keys in a wrong id (``wrong_id_rate`` is then 0).
    Such a scenario runs in about a tenth of a second.
    """
    drawn_seed = draw(_knob(seed))
    drawn_purchases = draw(_knob(purchases))
    drawn_phones = draw(_knob(phones))
    drawn_wrong = draw(_knob(wrong_id_rate))
    return Scenario(
        name=name,
        seed=drawn_seed,
        shops=draw(_knob(shops)),
        pos_per_shop=draw(_knob(pos_per_shop)),
        phones=drawn_phones,
        purchases=drawn_purchases,
        duration=draw(_knob(duration)),
        items_per_purchase=draw(_knob(items_per_purchase)),
        wrong_id_rate=drawn_wrong if drawn_phones >= 2 else 0.0,
        unsubscribed_rate=draw(_knob(unsubscribed_rate)),
        ask_probability=draw(_knob(ask_probability)),
        ask_delay=draw(_knob(ask_delay)),
        cloud=CloudSettings(
            push_timeout=draw(_knob(push_timeout)),
            mismatch_policy=draw(_knob(mismatch_policy)),
            promotions=draw(_knob(promotions)),
            max_products=draw(_knob(max_products)),
        ),
    )


# ====================================================================== faults

CRASH_TARGETS: tuple[str, ...] = (
    "cloud",
    "pos:*",
    "phone:*",
    "pos:shop-01:pos-1",
    f"phone:{phone_id_of(0)}",
    "*",
)
"""Address patterns a generated crash hits: each matches at least one actor of every
scenario (shop 1's first checkout and phone 0 always exist; ``*`` is the whole world)."""

PARTITION_SIDES: tuple[tuple[str, ...], ...] = (
    ("cloud",),
    ("pos:*",),
    ("phone:*",),
    ("pos:shop-01:*",),
    (f"phone:{phone_id_of(0)}",),
    ("cloud", "pos:*"),
)
"""The groups a generated partition cuts off from every other address."""

MAX_WRITES_PER_STEP = 4
"""The most store writes one cloud step makes (a timeout push: the pending push removed,
the matching relation saved, the delivery marked, the push kept until acknowledged)."""

CRASH_STEP_KINDS: dict[str | None, int] = {
    None: MAX_WRITES_PER_STEP,
    "purchase-upload": 2,  # the binding, the pending push
    "association-request": MAX_WRITES_PER_STEP,  # a dual-send writes 4
    "push-due": MAX_WRITES_PER_STEP,
    "subscribe": 1,
    "push-ack": 1,
    "resend": 1,  # a push given up is forgotten
}
"""The kinds of cloud step a generated crash inside a step targets (None: the next step
of any kind that writes enough), each with the most store writes such a step makes."""

InsideSteps = Literal["never", "sometimes", "always"]
"""How often a generated crash falls inside a cloud step (see :func:`crash_schedules`)."""

_MIN_WINDOW = 1.0  # seconds: the shortest partition or crash drawn
_LATENCIES = st.floats(0.0, 0.5)
_JITTERS = st.floats(0.0, 0.5)
_FAULT_RATES = st.floats(0.0, 0.3)
_REORDER_DELAYS = st.floats(0.1, 5.0)
_LINK_ENDS = st.sampled_from([("cloud", "phone:*"), ("cloud", "pos:*"), ("pos:*", "phone:*")])
_LINK_LATENCIES = st.none() | _LATENCIES
_LINK_JITTERS = st.none() | _JITTERS
_LINK_RATES = st.none() | _FAULT_RATES


@st.composite
def links(
    draw: st.DrawFn,
    *,
    between: Knob[tuple[str, str]] = _LINK_ENDS,
    latency: Knob[float | None] = _LINK_LATENCIES,
    jitter: Knob[float | None] = _LINK_JITTERS,
    loss: Knob[float | None] = _LINK_RATES,
    duplicate: Knob[float | None] = _LINK_RATES,
    reorder: Knob[float | None] = _LINK_RATES,
) -> Link:
    """A ``[[network.link]]`` entry: settings for the links between two groups.

    ``between`` defaults to cloud-phones, cloud-POSes or POSes-phones; each setting is
    left out (``None``: the network-wide one applies) or drawn: latency and jitter 0 to
    0.5 s, loss, duplicate and reorder rates 0 to 0.3.
    """
    return Link(
        between=draw(_knob(between)),
        latency=draw(_knob(latency)),
        jitter=draw(_knob(jitter)),
        loss=draw(_knob(loss)),
        duplicate=draw(_knob(duplicate)),
        reorder=draw(_knob(reorder)),
    )


_LINK_ENTRIES = st.lists(links(), max_size=1).map(tuple)


@st.composite
def network_configs(
    draw: st.DrawFn,
    *,
    latency: Knob[float] = _LATENCIES,
    jitter: Knob[float] = _JITTERS,
    loss: Knob[float] = _FAULT_RATES,
    duplicate: Knob[float] = _FAULT_RATES,
    reorder: Knob[float] = _FAULT_RATES,
    reorder_delay: Knob[float] = _REORDER_DELAYS,
    faults_until: Knob[float | None] = None,
    link: Knob[tuple[Link, ...]] = _LINK_ENTRIES,
) -> NetworkConfig:
    """A ``[network]`` table: how the simulated network carries each message.

    Defaults draw latency and jitter 0 to 0.5 s, loss, duplicate and reorder rates 0 to
    0.3, a reorder delay 0.1 to 5 s and zero or one :func:`links` entry.
    ``faults_until`` defaults to ``None``: the fault phase lasts while the purchases
    happen (the scenario's ``duration``), then the healed phase follows. Pass
    ``loss=0.2, duplicate=0.2`` for the issue's 20 % / 20 % network, ``link=()`` for a
    uniform one.
    """
    return NetworkConfig(
        latency=draw(_knob(latency)),
        jitter=draw(_knob(jitter)),
        loss=draw(_knob(loss)),
        duplicate=draw(_knob(duplicate)),
        reorder=draw(_knob(reorder)),
        reorder_delay=draw(_knob(reorder_delay)),
        faults_until=draw(_knob(faults_until)),
        link=draw(_knob(link)),
    )


_NETWORKS = network_configs()


def _window(
    draw: st.DrawFn, start: float, end: float, max_length: float
) -> tuple[float, float] | None:
    """A window ``(a, b)`` with ``start <= a < b <= end``, ``b - a <= max_length``; None if
    the span is shorter than the shortest window."""
    if end - start < _MIN_WINDOW:
        return None
    at = draw(st.floats(start, end - _MIN_WINDOW))
    length = draw(st.floats(_MIN_WINDOW, max(_MIN_WINDOW, min(max_length, end - at))))
    return at, min(at + length, end)


@st.composite
def partitions(
    draw: st.DrawFn,
    *,
    before: float,
    sides: Sequence[tuple[str, ...]] = PARTITION_SIDES,
    max_length: float = 600.0,
) -> Partition:
    """One ``[[partition]]`` entry: a group from ``sides`` (default
    :data:`PARTITION_SIDES`) cut off from every other address for 1 s to ``max_length``
    seconds, starting and ending within ``[0, before]`` (``before`` must be at least 1 s).
    """
    window = _window(draw, 0.0, before, max_length)
    if window is None:
        raise StrategyError(f"partitions(before={before!r}): needs at least {_MIN_WINDOW:g} s")
    side = draw(st.sampled_from(list(sides)))
    return Partition(side=side, start=window[0], end=window[1])


@st.composite
def partition_schedules(
    draw: st.DrawFn,
    *,
    before: float,
    max_partitions: int = 2,
    sides: Sequence[tuple[str, ...]] = PARTITION_SIDES,
    max_length: float = 600.0,
) -> tuple[Partition, ...]:
    """Zero to ``max_partitions`` :func:`partitions`, possibly overlapping, every one
    healed by ``before`` (none when ``before`` is under 1 s)."""
    if before < _MIN_WINDOW:
        return ()
    entry = partitions(before=before, sides=sides, max_length=max_length)
    return tuple(draw(st.lists(entry, max_size=max_partitions)))


@attrs.frozen
class _Step:
    """A cloud step a scenario's workload makes: its kind, the earliest virtual time it can
    come, and the store writes it makes; ``sure``: it comes and writes that many whatever
    the network does (else only in the common case: a timely, lossless run)."""

    kind: str
    t: float
    writes: int
    sure: bool


_FALL_SLACK = 5.0
"""Seconds a step comes at most after its earliest time on a network without loss: a few
hops of at most 0.5 s latency and 0.5 s jitter each (notice, subscription, its ack, the
request)."""


def _cloud_steps(scenario: Scenario) -> tuple[_Step, ...]:
    """The writing cloud steps of ``scenario``'s workload (under its own seed), from what
    the reference cloud writes: a new upload 2 (binding, pending push), a subscription 1,
    a push falling due for a receipt nobody asks about 1 (pending removed), 4 if its phone
    subscribed first, an answered request 2 (relation, delivery), 3 before the push fell
    due, a dual-send 1 (relation), 4 if the named phone subscribed first, a push-ack 1."""
    workload = generate_workload(scenario, scenario.seed)
    subscribes = {p.phone_id for p in workload.phones if p.subscribes}
    first_bought: dict[str, float] = {}
    for purchase in workload.purchases:
        first_bought.setdefault(purchase.buyer_phone_id, purchase.at)
    timeout = scenario.cloud.push_timeout
    dual_send = scenario.cloud.mismatch_policy is MismatchPolicy.DUAL_SEND
    steps: list[_Step] = []
    for phone_id, at in first_bought.items():
        if phone_id in subscribes:  # the first receipt notice makes the phone subscribe
            steps.append(_Step("subscribe", at, 1, sure=True))
    for p in workload.purchases:
        steps.append(_Step("purchase-upload", p.at, 2, sure=True))
        keyed = p.keyed_phone_id
        keyed_first = first_bought.get(keyed)
        keyed_subscribed = keyed in subscribes and keyed_first is not None and keyed_first < p.at
        due = p.at + timeout
        if p.ask_delay is None:  # nobody asks: the push falls due, and is acknowledged
            steps.append(_Step("push-due", due, 4 if keyed_subscribed else 1, sure=True))
            if keyed_subscribed:
                steps.append(_Step("push-ack", due, 1, sure=False))
            continue
        asked = p.at + p.ask_delay
        if p.buyer_phone_id not in subscribes or (p.wrong_id and not dual_send):
            continue  # refused: nothing written
        before_due = asked + _FALL_SLACK < due
        if not p.wrong_id:
            steps.append(_Step("association-request", asked, 3 if before_due else 2, sure=False))
        elif keyed_subscribed and before_due:
            steps.append(_Step("association-request", asked, 4, sure=False))
            steps.append(_Step("push-ack", asked, 1, sure=False))
        else:
            steps.append(_Step("association-request", asked, 1, sure=False))
    return tuple(sorted(steps, key=lambda step: (step.t, step.kind)))


def _sure_writes(step: _Step) -> int:
    """What ``step`` writes whatever the network does (a push may fall due before its
    phone's subscription arrives: then it only removes the pending push)."""
    return 1 if step.kind == "push-due" else step.writes


@st.composite
def crash_schedules(
    draw: st.DrawFn,
    *,
    before: float,
    max_crashes: int = 2,
    targets: Sequence[str] = CRASH_TARGETS,
    max_length: float = 600.0,
    inside_steps: InsideSteps = "sometimes",
) -> tuple[Crash, ...]:
    """Zero to ``max_crashes`` ``[[crash]]`` entries, each crashing the actors matching a
    pattern from ``targets`` (default :data:`CRASH_TARGETS`) for 1 s to ``max_length``
    seconds; every crashed actor restarts by ``before``.

    ``inside_steps``: ``"sometimes"`` (the default) makes about half the entries, and
    ``"always"`` every entry, a crash of the cloud inside a step, as a kill -9 can fall:
    right after store write 1 to k of the next step of a kind from
    :data:`CRASH_STEP_KINDS` (``during``; k the most writes such a step makes);
    ``"never"``: none. With ``"always"`` at least one entry is drawn (when ``max_crashes``
    allows). Such an entry falls only if a step of its kind making k writes comes after
    its ``at``, which this strategy cannot know: :func:`faulty_scenarios` draws them from
    the steps of its scenario, so that they fall.

    The crash windows never overlap (each lies in its own slice of ``[0, before]``), so
    every entry crashes and restarts each actor it matches at most once: a run's report
    counts ``crashes == restarts``, exactly the actors matched for the crashes between
    steps, and for one inside a step one crash if a matching step came after its ``at``.
    """
    return draw(
        _crash_entries(
            before=before,
            max_crashes=max_crashes,
            targets=targets,
            max_length=max_length,
            inside_steps=inside_steps,
            steps=None,
        )
    )


@st.composite
def _crash_entries(
    draw: st.DrawFn,
    *,
    before: float,
    max_crashes: int,
    targets: Sequence[str],
    max_length: float,
    inside_steps: InsideSteps,
    steps: tuple[_Step, ...] | None,
) -> tuple[Crash, ...]:
    """:func:`crash_schedules`; with ``steps`` (the scenario's, :func:`_cloud_steps`) each
    crash inside a step is drawn to fall: its ``at`` before a step of its kind making at
    least ``after_writes`` writes.

    The entries inside steps take the last slots, so a crash between steps never meets a
    crash point still armed (a restart of the cloud would drop it). The last one aims at
    a step that comes whatever the network does, so with ``"always"`` one falls in every
    run: if the one before it has not fallen by then, the last one, armed on a cloud that
    is up, replaces it and falls; if it has, it fell. An earlier one aims at a step early
    enough in its slot that it falls and the cloud restarts before the next slot, on a
    network without loss.
    """
    count = draw(st.integers(1 if inside_steps == "always" else 0, max_crashes))
    if count == 0 or before < count * _MIN_WINDOW:
        return ()
    if inside_steps == "always" and steps is not None:
        last_start = before - before / count
        if not any(s.sure and s.t > last_start for s in steps):
            count = 1  # no sure step late enough: one entry over the whole span
    if inside_steps == "always":
        inside = count
    elif inside_steps == "sometimes":
        inside = sum(draw(st.booleans()) for _ in range(count))
    else:
        inside = 0
    slot = before / count
    crashes: list[Crash] = []
    for n in range(count):
        start, end = n * slot, (n + 1) * slot
        in_step = n >= count - inside
        last = n == count - 1
        if in_step and steps is not None:
            crash = _aimed_crash(draw, steps, start, end, max_length, last=last)
            if crash is not None:
                crashes.append(crash)
                continue
            if inside_steps == "always":
                continue  # no step to aim at in this slot: one entry fewer
            in_step = False  # a crash between steps instead, of an actor without a store
            candidates = [t for t in targets if not fnmatch.fnmatchcase(CLOUD, t)]
            if not candidates:
                continue
            entry_targets: Sequence[str] = candidates
        else:
            entry_targets = targets
        window = _window(draw, start, end, max_length)
        if window is None:
            continue
        after_writes, during = 0, None
        if in_step:
            target = CLOUD
            during = draw(st.sampled_from(list(CRASH_STEP_KINDS)))
            after_writes = draw(st.integers(1, CRASH_STEP_KINDS[during]))
        else:
            target = draw(st.sampled_from(list(entry_targets)))
        crashes.append(
            Crash(
                actor=target,
                at=window[0],
                restart=window[1],
                after_writes=after_writes,
                during=during,
            )
        )
    return tuple(crashes)


def _aimed_crash(
    draw: st.DrawFn,
    steps: tuple[_Step, ...],
    start: float,
    end: float,
    max_length: float,
    *,
    last: bool,
) -> Crash | None:
    """A crash of the cloud inside a step, armed in ``[start, end]`` before a step of
    ``steps`` it falls in; None if no step fits. The last entry aims at a sure step any
    time later; an earlier one at any step early enough that it falls and its cloud
    restarts within the slot."""
    if end - start < _MIN_WINDOW:
        return None
    if last:
        fitting = [s for s in steps if s.sure and s.t > start]
    else:
        fitting = [s for s in steps if start < s.t <= end - _FALL_SLACK - _MIN_WINDOW]
    if not fitting:
        return None
    step = draw(st.sampled_from(fitting))
    writes = _sure_writes(step) if last else step.writes
    # at: before the step (a step can come no earlier than its time), in the slot.
    at = draw(st.floats(start, min(step.t, end - _MIN_WINDOW), exclude_max=step.t <= end - 1))
    # An earlier entry: down and up again before the slot ends, if the step comes on time.
    longest = min(max_length, end - at if last else end - step.t - _FALL_SLACK)
    length = draw(st.floats(_MIN_WINDOW, max(_MIN_WINDOW, longest)))
    # A quarter of them: the next step of any kind (None) making that many writes.
    during = draw(st.sampled_from((step.kind, step.kind, step.kind, None)))
    if during is None:  # the first step after `at` of any kind making that many writes
        if last:
            writes = max(_sure_writes(s) for s in steps if s.sure and s.t > at)
        else:
            writes = max(s.writes for s in steps if at < s.t <= step.t)
    return Crash(
        actor=CLOUD,
        at=at,
        restart=min(at + length, end),
        # Uniform, not hypothesis' lean to small numbers: the last write matters as much.
        after_writes=draw(st.sampled_from(range(1, writes + 1))),
        during=during,
    )


@attrs.frozen
class FaultSchedule:
    """What goes wrong in one run: the network's misbehaviour, partitions and crashes."""

    network: NetworkConfig = attrs.field(factory=NetworkConfig)
    partition: tuple[Partition, ...] = ()
    crash: tuple[Crash, ...] = ()

    def apply(self, scenario: Scenario) -> Scenario:
        """``scenario`` with this schedule's ``[network]``, ``[[partition]]`` and
        ``[[crash]]`` (replacing its own)."""
        return attrs.evolve(
            scenario, network=self.network, partition=self.partition, crash=self.crash
        )


@st.composite
def fault_schedules(
    draw: st.DrawFn,
    *,
    before: float,
    network: Knob[NetworkConfig] = _NETWORKS,
    max_partitions: int = 2,
    max_crashes: int = 2,
    crash_targets: Sequence[str] = CRASH_TARGETS,
    partition_sides: Sequence[tuple[str, ...]] = PARTITION_SIDES,
    max_window: float = 600.0,
    inside_steps: InsideSteps = "sometimes",
    crashes_before: float | None = None,
) -> FaultSchedule:
    """A :class:`FaultSchedule` whose partitions heal and crashed actors restart by
    ``before`` (give the scenario's ``duration``, so a healed phase follows).

    ``network`` defaults to :func:`network_configs`; up to ``max_partitions``
    :func:`partition_schedules` and ``max_crashes`` :func:`crash_schedules` entries, each
    window at most ``max_window`` seconds (the default 10 minutes stays well inside the
    46 minutes for which a sender re-sends an unacknowledged message). ``crashes_before``
    (default ``before``) bounds the crashes alone: their actors restart by then.
    """
    return draw(
        _fault_schedule(
            before=before,
            network=network,
            max_partitions=max_partitions,
            max_crashes=max_crashes,
            crash_targets=crash_targets,
            partition_sides=partition_sides,
            max_window=max_window,
            inside_steps=inside_steps,
            crashes_before=crashes_before,
            steps=None,
        )
    )


@st.composite
def _fault_schedule(
    draw: st.DrawFn,
    *,
    before: float,
    network: Knob[NetworkConfig],
    max_partitions: int,
    max_crashes: int,
    crash_targets: Sequence[str],
    partition_sides: Sequence[tuple[str, ...]],
    max_window: float,
    inside_steps: InsideSteps,
    crashes_before: float | None,
    steps: tuple[_Step, ...] | None,
) -> FaultSchedule:
    """:func:`fault_schedules`, its crashes inside steps aimed at ``steps`` if given."""
    return FaultSchedule(
        network=draw(_knob(network)),
        partition=draw(
            partition_schedules(
                before=before,
                max_partitions=max_partitions,
                sides=partition_sides,
                max_length=max_window,
            )
        ),
        crash=draw(
            _crash_entries(
                before=before if crashes_before is None else crashes_before,
                max_crashes=max_crashes,
                targets=crash_targets,
                max_length=max_window,
                inside_steps=inside_steps,
                steps=steps,
            )
        ),
    )


@st.composite
def faulty_scenarios(
    draw: st.DrawFn,
    scenario: st.SearchStrategy[Scenario] | None = None,
    *,
    network: Knob[NetworkConfig] = _NETWORKS,
    max_partitions: int = 2,
    max_crashes: int = 2,
    crash_targets: Sequence[str] = CRASH_TARGETS,
    partition_sides: Sequence[tuple[str, ...]] = PARTITION_SIDES,
    max_window: float = 600.0,
    inside_steps: InsideSteps = "sometimes",
) -> Scenario:
    """A scenario drawn from ``scenario`` (default: :func:`scenarios`) with a
    :func:`fault_schedules` schedule: loss, duplication, reordering, latency and jitter
    while its purchases happen, partitions and crashes that end by its ``duration`` (with
    ``inside_steps="always"``, crashes inside cloud steps by ``duration + push_timeout``,
    so that they can fall in the timeout pushes due after the purchases), then a healed
    phase in which every promise must still be kept.

    The knobs are those of :func:`fault_schedules`; e.g.
    ``faulty_scenarios(scenarios(mismatch_policy=MismatchPolicy.REJECT), max_crashes=0)``.

    Each crash inside a step is aimed at a step the scenario's workload makes (under its
    own seed): armed before it, asking at most the store writes it makes, so that it falls.
    The last such entry aims at a step that comes whatever the network does (an upload, a
    subscription, a push falling due), so with ``inside_steps="always"`` one falls in every
    run; that mode draws no scenario in which no cloud step writes (no purchase).
    """
    base = draw(scenarios() if scenario is None else scenario)
    steps = _cloud_steps(base) if inside_steps != "never" else ()
    if inside_steps == "always":
        assume(any(step.sure for step in steps))  # a world where no cloud step writes
    schedule = draw(
        _fault_schedule(
            before=base.duration,
            network=network,
            max_partitions=max_partitions,
            max_crashes=max_crashes,
            crash_targets=crash_targets,
            partition_sides=partition_sides,
            max_window=max_window,
            inside_steps=inside_steps,
            # Crashes inside steps only: let them reach the pushes, due after the purchases.
            crashes_before=(
                base.duration + base.cloud.push_timeout if inside_steps == "always" else None
            ),
            steps=steps,
        )
    )
    return schedule.apply(base)
