"""The one trusted constructor of a protocol message: :func:`answer_from_line`, an
:class:`AssociatedProduct` built from a purchase line the cloud already holds, checking
only what the line's own validation did not.

Why: answering (step 506) builds up to ``limit`` answers per question, and the validated
constructor runs nine validators for each (about 3.5 us of a 5-answer question's 100 us
budget per answer, docs/recommender.md, *Speed*). Six of its fields are copied from an
:class:`Item` whose own validators (the very same validator objects:
``protocol/_core/_messages.py``) ran when the line was built, and an offer's price was
checked by :class:`Offer`'s, the same rule as the answer's ``price``. So only the reason
and score, which the engine computed, are checked, by :class:`AssociatedProduct`'s own
field validators (and, on the rare answer with an offer, its offer rule). Anything else
(a catalog product, whose fields its own validators checked; a subclass of Item) goes through the
validated constructor.
Every message received or built elsewhere is validated as before; the wire codec never
uses this. ``tests/protocol/test_trusted_answer.py`` checks it builds objects equal to the
validated constructor's and refuses what it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs

from ._messages import AssociatedProduct, Item, Offer, Reason

__all__ = ["Goods", "answer_from_line", "validated_answer"]


class Goods(Protocol):
    """What an answer's goods fields are read from: a purchase :class:`Item` (trusted) or
    anything else with the same fields, a catalog product say (validated)."""

    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def colour(self) -> str: ...
    @property
    def price(self) -> float: ...


_Rule = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _rule(field: attrs.Attribute[Any]) -> _Rule:
    """*field*'s validator: the very check the validated constructor runs."""
    if field.validator is None:  # never: both fields have one (narrows the type)
        raise TypeError(f"AssociatedProduct.{field.name} has no validator")
    rule: _Rule = field.validator
    return rule


_FIELDS = attrs.fields(AssociatedProduct)
_REASON, _SCORE, _OFFER = _FIELDS.reason, _FIELDS.score, _FIELDS.offer
_check_reason, _check_score = _rule(_REASON), _rule(_SCORE)
# an answer's offer rule is a method of its own (Offer's description has the goods' text
# rule): run on the rare answer with an offer, so no answer rule is assumed to be Offer's
_check_offer = _rule(_OFFER)
_slots: dict[str, Any] = {  # each field's slot setter: a frozen class refuses setattr
    field.name: AssociatedProduct.__dict__[field.name].__set__ for field in _FIELDS
}
_sku, _name, _category, _brand, _colour = (
    _slots[name] for name in ("sku", "name", "category", "brand", "colour")
)
_price, _reason, _score, _offer = (_slots[name] for name in ("price", "reason", "score", "offer"))
_new = object.__new__


def validated_answer(
    goods: Goods, reason: Reason, score: float, offer: Offer | None = None
) -> AssociatedProduct:
    """The same answer built by the validated constructor, every field checked: what
    :func:`answer_from_line` does for goods it does not trust (``bench/answers.py``
    times the two against each other)."""
    return AssociatedProduct(
        sku=goods.sku,
        name=goods.name,
        category=goods.category,
        brand=goods.brand,
        colour=goods.colour,
        price=goods.price if offer is None else offer.price,
        reason=reason,
        score=score,
        offer=None if offer is None else offer.description,
    )


def answer_from_line(
    line: Goods, reason: Reason, score: float, offer: Offer | None = None
) -> AssociatedProduct:
    """*line*'s goods recommended for *reason* with *score*; on *offer*, at the offer's
    price and with its description. Equal to ``AssociatedProduct(...)`` of the same
    fields, and raises the same :class:`~protocol.InvalidMessage` for a bad reason or
    score. Goods not exactly an :class:`Item` (and an offer not exactly an
    :class:`Offer`) are built by the validated constructor: the one conversion of goods
    to an answer (``protocol/_reco/_catalog.py``'s ``associated_product`` caches it)."""
    if type(line) is not Item or (offer is not None and type(offer) is not Offer):
        return validated_answer(line, reason, score, offer)
    answer: AssociatedProduct = _new(AssociatedProduct)
    _check_reason(answer, _REASON, reason)
    _check_score(answer, _SCORE, score)
    _sku(answer, line.sku)
    _name(answer, line.name)
    _category(answer, line.category)
    _brand(answer, line.brand)
    _colour(answer, line.colour)
    if offer is None:
        _price(answer, line.price)
        _offer(answer, None)
    else:
        _check_offer(answer, _OFFER, offer.description)
        _price(answer, offer.price)
        _offer(answer, offer.description)
    _reason(answer, reason)
    _score(answer, score)
    return answer
