"""Turning a scenario and a seed into the concrete purchases of one run.

Everything random in a run is drawn here, from one ``random.Random(seed)``, before the
world starts: which phone buys what, where and when, which uploads carry a wrong phone
identifier, which phones never subscribe and which users never ask.
"""

from __future__ import annotations

import random

import attrs

from protocol import (
    DEPARTMENTS,
    Catalog,
    Checkout,
    Item,
    Offer,
    PromotionUpdate,
    builtin_catalog,
    phone_address,
)

from ._scenario import Scenario

__all__ = ["PhonePlan", "PlannedPurchase", "ShopPlan", "Workload", "generate_workload"]


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


def phone_id_of(index: int) -> str:
    """The identifier of the ``index``-th phone of a world (an E.164 mobile number)."""
    return f"+86138{index:08d}"


def generate_workload(scenario: Scenario, seed: int, catalog: Catalog | None = None) -> Workload:
    """The purchases of ``scenario`` under ``seed``: same inputs, same workload."""
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
    for n, at in enumerate(times):
        shop = rng.choice(shops)
        pos_id = rng.choice(shop.pos_ids)
        buyer = rng.choice(phone_ids)
        keyed = buyer
        if rng.random() < scenario.wrong_id_rate:
            keyed = rng.choice([p for p in phone_ids if p != buyer] or [buyer])
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
