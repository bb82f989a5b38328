"""The one trusted constructor of a protocol message (protocol/_core/_trusted.py): an
answer built from a validated purchase line checks only its reason and score, and is equal
to the validated constructor's, field by field, on random lines, reasons, scores and
offers; it refuses what the validated constructor refuses with the same error; the line's
fields it copies unchecked are checked by the very same validator objects in Item, Offer
and AssociatedProduct; and the comparison catches a constructor that rounds its score."""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import attrs
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from protocol import AssociatedProduct, InvalidMessage, Item, Offer, Reason
from protocol._core import _trusted
from protocol._core._trusted import answer_from_line
from scenarios.testing.strategies import items, offers
from tests.planted.rounded_answer import rounded_answer_from_line

Build = Callable[[Item, Reason, float, Offer | None], AssociatedProduct]

# any float: finite ones of every size and sign, and the nan and infinities refused
SCORES = st.floats() | st.sampled_from([0.0, -0.0, 1e-300, -1e308, math.inf, -math.inf])


def validated(line: Item, reason: Reason, score: float, offer: Offer | None) -> AssociatedProduct:
    """The validated constructor, every field checked."""
    return AssociatedProduct(
        sku=line.sku,
        name=line.name,
        category=line.category,
        brand=line.brand,
        colour=line.colour,
        price=line.price if offer is None else offer.price,
        reason=reason,
        score=score,
        offer=None if offer is None else offer.description,
    )


def agrees_with_validated(build: Build, *, shrink: bool = True) -> None:
    """*build* makes what the validated constructor makes, or refuses as it refuses
    (*shrink* False: a planted bug only needs finding, not its smallest example)."""

    phases = list(Phase) if shrink else [Phase.explicit, Phase.reuse, Phase.generate]

    @settings(max_examples=200, deadline=None, database=None, phases=phases)
    @given(items(), st.sampled_from(Reason), SCORES, st.none() | offers())
    def check(line: Item, reason: Reason, score: float, offer: Offer | None) -> None:
        try:
            expected = validated(line, reason, score, offer)
        except InvalidMessage as refused:
            with pytest.raises(InvalidMessage) as also:
                build(line, reason, score, offer)
            assert str(also.value) == str(refused)
            return
        got = build(line, reason, score, offer)
        assert type(got) is AssociatedProduct
        assert got == expected
        assert hash(got) == hash(expected)  # every field set, as attrs hashes them
        # bit for bit: == does not tell 0.0 from -0.0
        assert [float.hex(v) if type(v) is float else v for v in attrs.astuple(got)] == [
            float.hex(v) if type(v) is float else v for v in attrs.astuple(expected)
        ]

    check()


def test_the_trusted_answer_is_the_validated_one() -> None:
    agrees_with_validated(answer_from_line)


def test_the_comparison_catches_a_rounded_score() -> None:
    with pytest.raises(AssertionError):
        agrees_with_validated(rounded_answer_from_line, shrink=False)


@pytest.mark.parametrize("reason", ["co-purchase", None, 1])
def test_a_reason_not_of_the_enum_is_refused(reason: object) -> None:
    line = Item("SKU-1", "Soap", "soap", "Brand", "", 1, 2.5)
    with pytest.raises(InvalidMessage, match=r"AssociatedProduct\.reason"):
        answer_from_line(line, cast(Any, reason), 1.0)  # ill-typed on purpose


def test_fields_copied_unchecked_have_the_same_checks() -> None:
    """What the trusted constructor skips is checked by these same validator objects when
    the Item (or Offer) is built: a rule loosened for one would show here."""
    answer, line, offer = (attrs.fields_dict(c) for c in (AssociatedProduct, Item, Offer))
    for name in ("sku", "name", "category", "brand", "colour", "price"):
        assert answer[name].validator is line[name].validator, name
    assert answer["price"].validator is offer["price"].validator
    assert offer["description"].validator is attrs.fields_dict(Item)["name"].validator


def test_goods_not_a_line_are_validated() -> None:
    """Goods that are not exactly an Item are checked, not trusted: here goods whose
    price no Item or Product would hold."""
    goods = SimpleNamespace(
        sku="SKU-1", name="Soap", category="soap", brand="Brand", colour="", price=1e12
    )
    with pytest.raises(InvalidMessage, match=r"AssociatedProduct\.price"):
        answer_from_line(cast(Any, goods), Reason.COMPLEMENT, 1.0)  # not a line, on purpose


def _strict_offer_rule(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A tighter rule for an answer's offer, as AssociatedProduct might gain."""
    if value is not None and len(value) > 3:
        raise InvalidMessage(f"AssociatedProduct.{attribute.name}: at most 3 characters")


def test_an_answers_offer_is_checked_by_the_answers_own_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The offer's description is copied from a valid Offer, but AssociatedProduct's offer
    rule is a method of its own, not a shared validator object: it is run, so a rule
    tightened there holds for trusted answers too."""
    monkeypatch.setattr(_trusted, "_check_offer", _strict_offer_rule)
    line = Item("SKU-1", "Soap", "soap", "Brand", "", 1, 2.5)
    with pytest.raises(InvalidMessage, match=r"AssociatedProduct\.offer"):
        answer_from_line(line, Reason.OFFER, 1.0, Offer("SKU-1", "2 for 1", 2.0))
    assert answer_from_line(line, Reason.OFFER, 1.0, Offer("SKU-1", "½", 2.0)).offer == "½"
