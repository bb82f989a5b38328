"""Every category's offer (the candidates its related categories offer, with P(D | C)
P(j | D)) is, after every refresh and between refreshes, what a plain loop over the
current counts gives: the refresh reads each related category's members (best sellers,
then the catalog's other products), counts, sales and size anew in one batch
(``PairingEngine._compute_offered``; no members are kept from an earlier refresh), and
recomputes the offers of the changed categories and of every category relating to one.
With the built-in catalog and rules, so catalog products outside the best sellers are
offered, and rules relate categories before any basket does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import EngineConfig, Item, PairingEngine
from protocol._reco._catalog import builtin_catalog
from tests.planted.catalog_blind_offers import CatalogBlindOffersEngine
from tests.planted.unrelated_offers import UnrelatedOffersEngine
from tests.protocol.test_engine_lists import plain_offered, plain_related

_KINDS = ("face-wash", "lotion", "cream", "toner", "serum", "sunscreen")
_CATALOG = builtin_catalog()
# catalog products of a few related categories, and products first seen in purchases
POOL = [
    _CATALOG.to_item(product) for product in _CATALOG.products if product.category in _KINDS
] + [
    Item(
        sku=f"NEW-{k:02d}",
        name=f"new {k}",
        category=_KINDS[k % len(_KINDS)],
        brand=("Hydra", "Other")[k % 2],
        colour="",
        quantity=1,
        price=1.0,
    )
    for k in range(8)
]
BASKETS = st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=5), max_size=30)


def _check_offers(engine: PairingEngine) -> None:
    for c in range(len(engine._categories)):
        assert engine._related[c] == plain_related(engine, c)
        js, values = engine._offered[c]
        found = list(zip(js.tolist(), values.tolist(), strict=True))
        assert found == plain_offered(engine, c), engine._categories[c].name


def _check(kind: type[PairingEngine], baskets: list[list[Item]], every: int) -> None:
    engine = kind(config=EngineConfig(refresh_every=every, category_best=2))
    _check_offers(engine)  # the catalog's and the rules' offers before any basket
    for n, basket in enumerate(baskets):
        engine.learn(basket, f"phone-{n % 2}")
        _check_offers(engine)  # after a refresh, and between refreshes (nothing changes)
    engine.refresh()
    _check_offers(engine)


@settings(max_examples=40, deadline=None)
@given(BASKETS, st.integers(1, 4))
def test_every_offer_is_the_plain_loop_after_every_refresh(
    baskets: list[list[Item]], every: int
) -> None:
    _check(PairingEngine, baskets, every)


def _lotions_then_a_face_wash() -> list[list[Item]]:
    """Lotions bought (lotion changes; face-wash relates to it by a rule and does not),
    then one face wash."""
    lotions = [item for item in POOL if item.category == "lotion"]
    face_wash = next(item for item in POOL if item.category == "face-wash")
    return [[lotions[-1]], [lotions[-1], lotions[-2]], [face_wash]]


def test_the_check_catches_offers_without_the_catalogs_other_products() -> None:
    _check(PairingEngine, _lotions_then_a_face_wash(), 1)
    with pytest.raises(AssertionError):
        _check(CatalogBlindOffersEngine, _lotions_then_a_face_wash(), 1)


def test_the_check_catches_offers_of_relating_categories_left_stale() -> None:
    _check(PairingEngine, _lotions_then_a_face_wash(), 1)
    with pytest.raises(AssertionError):
        _check(UnrelatedOffersEngine, _lotions_then_a_face_wash(), 1)
