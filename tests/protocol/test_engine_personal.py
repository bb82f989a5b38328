"""The pairing engine's personal feature: the share of the phone's own baskets with a
basket product that also held the candidate, over its last ``PERSONAL_WINDOW`` baskets
(what a repeat buyer buys together). Hand-made histories; the answer (from the refreshed
model) agrees with :meth:`PairingEngine.features` (from the counts), which catches the
planted engine that forgets to align the window."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, EngineConfig, Item, PairingEngine, Reason
from protocol._reco._engine import FEATURES, PERSONAL_WINDOW
from tests.planted.unaligned_personal import UnalignedPersonalEngine

ALICE = "+8613800000001"
BOB = "+8613800000002"
PERSONAL_ONLY = [1.0 if name == "personal" else 0.0 for name in FEATURES]


def item(sku: str) -> Item:
    return Item(sku=sku, name=f"product {sku}", category=f"c-{sku}", brand="Acme",
                colour="", quantity=1, price=5.0)  # fmt: skip


A, B, C, D, E = (item(s) for s in "ABCDE")


def engine(kind: type[PairingEngine] = PairingEngine) -> PairingEngine:
    config = EngineConfig(refresh_every=1).with_weights(PERSONAL_ONLY)
    return kind(catalog=Catalog(()), rules={}, config=config)


def test_the_share_of_the_phones_baskets_with_the_product_that_held_the_candidate() -> None:
    e = engine()
    for basket in ([A, B], [A, B], [A, B, C], [A, C], [B, D]):
        e.learn(basket, ALICE)
    e.learn([A, E], BOB)  # another phone's habits are not Alice's
    answer = e.pair([A], ALICE, 5)
    # Alice's 4 baskets with A: B in 3, C in 2; D never with A; E is Bob's
    assert [(p.sku, p.score, p.reason) for p in answer] == [
        ("B", 0.75, Reason.HABIT),
        ("C", 0.5, Reason.HABIT),
    ]
    assert [p.sku for p in e.pair([A], BOB, 5)] == ["E"]
    assert e.pair([A], None, 5) == []  # no phone, no personal part


def test_a_basket_sums_the_shares_of_its_products() -> None:
    e = engine()
    for basket in ([A, C], [A, B], [B, C], [B, D]):
        e.learn(basket, ALICE)
    scores = {p.sku: p.score for p in e.pair([A, B], ALICE, 5)}
    assert scores == {"C": 0.5 + 1 / 3, "D": 1 / 3}


def test_only_the_window_of_the_phones_newest_baskets_counts() -> None:
    e = engine()
    e.learn([A, B], ALICE)
    for _ in range(PERSONAL_WINDOW - 1):
        e.learn([D], ALICE)
    assert [p.sku for p in e.pair([A], ALICE, 5)] == ["B"]  # the oldest basket still in
    e.learn([D], ALICE)
    assert e.pair([A], ALICE, 5) == []  # out of the window
    e.learn([A, C], ALICE)
    assert [p.sku for p in e.pair([A], ALICE, 5)] == ["C"]


def test_a_zero_weight_skips_the_feature() -> None:
    e = PairingEngine(catalog=Catalog(()), rules={}, config=EngineConfig(refresh_every=1))
    assert e.config.personal_weight == 0.0
    e.learn([A, B], ALICE)
    assert len(e._profiles[ALICE].together[0]) == 0


PRODUCTS = [item(s) for s in "ABCDEFGH"]
HISTORY = st.lists(
    st.tuples(
        st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=4, unique_by=lambda i: i.sku),
        st.sampled_from([ALICE, BOB]),
    ),
    max_size=90,
)


def _agree(e: PairingEngine, phone: str) -> None:
    """Each answer's score is the personal feature computed from the counts."""
    e.refresh()
    for product in PRODUCTS:
        features = dict(e.features([product], phone))
        personal = FEATURES.index("personal")
        for p in e.pair([product], phone, len(PRODUCTS)):
            assert p.score == pytest.approx(features[p.sku][personal], abs=1e-12)
        expected = sorted(s for s, row in features.items() if row[personal] > 0)
        assert sorted(p.sku for p in e.pair([product], phone, len(PRODUCTS))) == expected


@settings(max_examples=40, deadline=None)
@given(HISTORY)
def test_answers_agree_with_the_features_the_scorer_is_fitted_on(
    history: list[tuple[list[Item], str]],
) -> None:
    e = engine()
    for basket, phone in history:
        e.learn(basket, phone)
    _agree(e, ALICE)
    _agree(e, BOB)


def test_the_agreement_catches_a_window_not_aligned_to_the_newest_basket() -> None:
    history = [([A, B], ALICE), ([A, B], ALICE), ([C], ALICE), ([A, C], ALICE)]
    for kind in (PairingEngine, UnalignedPersonalEngine):
        e = engine(kind)
        for basket, phone in history:
            e.learn(basket, phone)
        if kind is PairingEngine:
            _agree(e, ALICE)
        else:
            with pytest.raises(AssertionError):
                _agree(e, ALICE)
