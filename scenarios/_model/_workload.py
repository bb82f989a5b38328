"""Turning a scenario and a seed into the concrete purchases of one run.

Everything random in a run is drawn here, from one ``random.Random(seed)``, before the
world starts: which phone buys what, where and when, which uploads carry a wrong phone
identifier, which phones never subscribe and which users never ask.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime

import attrs

from protocol import (
    DEPARTMENTS,
    MAX_ITEMS_PER_PURCHASE,
    Catalog,
    Checkout,
    Item,
    Offer,
    PromotionUpdate,
    builtin_catalog,
    phone_address,
)

from ._datasets import Basket, Dataset, household_phone_id, load_dataset
from ._errors import ScenarioError
from ._scenario import Scenario, SourceSettings

__all__ = [
    "PhonePlan",
    "PlannedPurchase",
    "ShopPlan",
    "Workload",
    "generate_workload",
    "idle_workload_knobs",
]


@attrs.frozen
class PhonePlan:
    phone_id: str
    subscribes: bool


@attrs.frozen
class PlannedPurchase:
    """One purchase: ``buyer`` paid, the POS was given ``keyed_phone_id``."""

    at: float
    receipt_id: str
    merchant_id: str
    pos_id: str
    buyer_phone_id: str
    keyed_phone_id: str
    items: tuple[Item, ...]
    ask_delay: float | None  # None: the buyer never asks

    @property
    def wrong_id(self) -> bool:
        return self.buyer_phone_id != self.keyed_phone_id

    def checkout(self) -> Checkout:
        return Checkout(
            at=self.at,
            receipt_id=self.receipt_id,
            phone_id=self.keyed_phone_id,
            buyer=phone_address(self.buyer_phone_id),
            items=self.items,
        )


@attrs.frozen
class ShopPlan:
    merchant_id: str
    pos_ids: tuple[str, ...]
    promotions: PromotionUpdate | None


@attrs.frozen
class Workload:
    phones: tuple[PhonePlan, ...]
    shops: tuple[ShopPlan, ...]
    purchases: tuple[PlannedPurchase, ...]  # in time order


def idle_workload_knobs(scenario: Scenario, workload: Workload) -> list[str]:
    """The workload's rates set above 0 that drew nothing in this run: a study of wrong
    ids or of unsubscribed phones that has none is no study of them (reviewer B's F7, s31:
    ``unsubscribed_rate = 0.01`` of 50 phones rounds to 0 phones). One line each."""
    idle: list[str] = []
    if scenario.unsubscribed_rate > 0 and all(p.subscribes for p in workload.phones):
        idle.append(
            f"unsubscribed_rate = {scenario.unsubscribed_rate:g} made no phone unsubscribed "
            f"(of {len(workload.phones)}: the rate times the phones rounds to 0)"
        )
    purchases = workload.purchases
    if scenario.wrong_id_rate > 0 and all(p.keyed_phone_id == p.buyer_phone_id for p in purchases):
        idle.append(
            f"wrong_id_rate = {scenario.wrong_id_rate:g} drew no wrong id in "
            f"{len(purchases)} purchase{'' if len(purchases) == 1 else 's'}"
        )
    return idle


def phone_id_of(index: int) -> str:
    """The identifier of the ``index``-th phone of a world (an E.164 mobile number)."""
    return f"+86138{index:08d}"


def generate_workload(scenario: Scenario, seed: int, catalog: Catalog | None = None) -> Workload:
    """The purchases of ``scenario`` under ``seed``: same inputs, same workload."""
    if scenario.source.dataset:
        return _dataset_workload(scenario, seed)
    catalog = catalog if catalog is not None else builtin_catalog()
    rng = random.Random(seed)
    phone_ids = [phone_id_of(i) for i in range(scenario.phones)]
    never = set(rng.sample(phone_ids, round(scenario.unsubscribed_rate * scenario.phones)))
    phones = tuple(PhonePlan(p, subscribes=p not in never) for p in phone_ids)
    shops = tuple(
        ShopPlan(
            merchant_id=f"shop-{s + 1:02d}",
            pos_ids=tuple(f"pos-{k + 1}" for k in range(scenario.pos_per_shop)),
            promotions=_promotions(f"shop-{s + 1:02d}", catalog, rng)
            if scenario.cloud.promotions
            else None,
        )
        for s in range(scenario.shops)
    )
    times = sorted(rng.uniform(0.0, scenario.duration) for _ in range(scenario.purchases))
    departments = sorted(DEPARTMENTS)
    low, high = scenario.items_per_purchase
    ask_low, ask_high = scenario.ask_delay
    purchases = []
    every_phone = range(len(phone_ids))
    others = range(len(phone_ids) - 1)
    for n, at in enumerate(times):
        shop = rng.choice(shops)
        pos_id = rng.choice(shop.pos_ids)
        buyer_index = rng.choice(every_phone)  # the same draw as rng.choice(phone_ids)
        buyer = keyed = phone_ids[buyer_index]
        if rng.random() < scenario.wrong_id_rate:
            if others:  # as rng.choice of the other phones, without building their list
                k = rng.choice(others)
                keyed = phone_ids[k + (k >= buyer_index)]
            else:
                keyed = rng.choice([buyer])
        items = _basket(catalog, rng, rng.choice(departments), rng.randint(low, high))
        asks = rng.random() < scenario.ask_probability
        delay = rng.uniform(ask_low, ask_high) if asks else None
        purchases.append(
            PlannedPurchase(
                at=at,
                receipt_id=f"R{n + 1:07d}",
                merchant_id=shop.merchant_id,
                pos_id=pos_id,
                buyer_phone_id=buyer,
                keyed_phone_id=keyed,
                items=items,
                ask_delay=delay,
            )
        )
    return Workload(phones=phones, shops=shops, purchases=tuple(purchases))


def _basket(catalog: Catalog, rng: random.Random, department: str, size: int) -> tuple[Item, ...]:
    categories = [c for c in DEPARTMENTS[department] if catalog.in_category(c)]
    size = min(size, sum(len(catalog.in_category(c)) for c in categories))
    chosen: dict[str, Item] = {}
    while len(chosen) < size:
        product = rng.choice(catalog.in_category(rng.choice(categories)))
        if product.sku not in chosen:
            chosen[product.sku] = catalog.to_item(product, quantity=rng.randint(1, 3))
    return tuple(chosen.values())


def _promotions(merchant_id: str, catalog: Catalog, rng: random.Random) -> PromotionUpdate:
    picks = rng.sample(catalog.products, 3)
    offer = picks[2]
    return PromotionUpdate(
        merchant_id=merchant_id,
        popular=(picks[0].sku, picks[1].sku),
        offers=(Offer(offer.sku, f"{offer.name}: 20% off this week", round(offer.price * 0.8, 2)),),
    )


# ------------------------------------------------------------------ purchases from a dataset


def _dataset_workload(scenario: Scenario, seed: int) -> Workload:
    """The baskets of ``scenario.source`` as the purchases: households are the phones,
    stores the shops, basket times the purchase times (from 0 at the first basket).

    ``purchases`` caps the baskets taken (the oldest first; 0: none); ``phones``,
    ``shops``, ``duration`` and ``items_per_purchase`` come from the data. A basket of more
    than MAX_ITEMS_PER_PURCHASE lines uploads its first ones.
    """
    source = scenario.source
    dataset, baskets = _baskets(source, scenario.purchases)
    if not baskets and scenario.purchases:
        raise ScenarioError(
            f"source: no {source.dataset} basket with a known household in that window"
        )
    rng = random.Random(seed)
    phone_ids = list(dict.fromkeys(household_phone_id(b.household) for b in baskets))
    never = set(rng.sample(phone_ids, round(scenario.unsubscribed_rate * len(phone_ids))))
    phones = tuple(PhonePlan(p, subscribes=p not in never) for p in phone_ids)
    stores = sorted({b.store for b in baskets})
    pos_ids = tuple(f"pos-{k + 1}" for k in range(scenario.pos_per_shop))
    shops = tuple(
        ShopPlan(
            merchant_id=store,
            pos_ids=pos_ids,
            promotions=_dataset_promotions(store, dataset, baskets, rng)
            if scenario.cloud.promotions
            else None,
        )
        for store in stores
    )
    origin = baskets[0].at if baskets else 0.0
    ask_low, ask_high = scenario.ask_delay
    purchases = []
    for basket in baskets:
        buyer = household_phone_id(basket.household)
        keyed = buyer
        if len(phone_ids) > 1 and rng.random() < scenario.wrong_id_rate:
            keyed = rng.choice([p for p in phone_ids if p != buyer])
        asks = rng.random() < scenario.ask_probability
        purchases.append(
            PlannedPurchase(
                at=basket.at - origin,
                receipt_id=basket.receipt_id,
                merchant_id=basket.store,
                pos_id=rng.choice(pos_ids),
                buyer_phone_id=buyer,
                keyed_phone_id=keyed,
                items=dataset.lines(basket)[:MAX_ITEMS_PER_PURCHASE],
                ask_delay=rng.uniform(ask_low, ask_high) if asks else None,
            )
        )
    return Workload(phones=phones, shops=shops, purchases=tuple(purchases))


def _baskets(source: SourceSettings, purchases: int) -> tuple[Dataset, tuple[Basket, ...]]:
    """The dataset of ``source`` and the baskets a run takes from it (the oldest first)."""
    dataset = load_dataset(source.dataset, source.data)
    start, end = _epoch(source.start), _epoch(source.end)
    baskets = dataset.select(start=start, end=end, households=source.households)
    return dataset, tuple(baskets[:purchases])


@functools.lru_cache(maxsize=16)
def purchases_span(source: SourceSettings, purchases: int, duration: float) -> float:
    """When a run's last purchase falls, from its start: ``duration`` for generated
    purchases (they fall within it); the last basket's time for a dataset's, which
    ignores ``duration`` (``Scenario.faults_until`` and ``Scenario.horizon`` follow it)."""
    if not source.dataset:
        return duration
    _, baskets = _baskets(source, purchases)
    return max(b.at for b in baskets) - baskets[0].at if baskets else 0.0


def _epoch(text: str) -> float | None:
    """Seconds since the epoch of an ISO date (UTC unless it says otherwise), or None."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _dataset_promotions(
    store: str, dataset: Dataset, baskets: tuple[Basket, ...], rng: random.Random
) -> PromotionUpdate:
    """Two popular items and one offer, drawn from what the store sold in the window."""
    sold = sorted({sku for b in baskets if b.store == store for sku in b.skus})
    picks = rng.sample(sold, min(3, len(sold)))
    offers: tuple[Offer, ...] = ()
    if len(picks) == 3:
        product = dataset.products[picks[2]]
        price = round(product.price * 0.8, 2)
        offers = (Offer(product.sku, f"{product.name[:150]}: 20% off this week", price),)
    return PromotionUpdate(merchant_id=store, popular=tuple(picks[:2]), offers=offers)
