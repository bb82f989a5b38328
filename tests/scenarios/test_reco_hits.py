"""What ``assocsim reco eval`` counts as a hit: a recommended product *elsewhere* in the
basket (README, *Pairing engine*), never the product asked about. The evaluation counted
any product of the basket, the asked one included (reviewer R's R2): no method returned
it then, so no figure changed, but a method echoing the question would have scored a hit
on every question. Planted: the old count (``tests/planted/question_blind_hits.py``),
which gives the echo its hits."""

from __future__ import annotations

from scenarios._reco._eval import _Tally
from tests.planted.question_blind_hits import question_blind_count

BASKET = {1, 2, 3}


def _echo_hits(count: bool) -> tuple[int, int]:
    """(hits, small hits) of a method that answers each question with the asked product
    first, over a 3-product basket, counted as the evaluation counts or (``count``
    False) as the planted old count did."""
    tally = _Tally("echo")
    for asked in sorted(BASKET):
        answer = [asked, 99]
        tally.basket_hits.append(0)
        if count:
            tally.count(answer, asked, BASKET, True, set())
        else:
            question_blind_count(tally, answer, BASKET)
    return tally.hits, tally.small_hits


def test_echoing_the_asked_product_is_no_hit() -> None:
    assert _echo_hits(count=True) == (0, 0)


def test_planted_a_count_blind_to_the_question_scores_the_echo() -> None:
    assert _echo_hits(count=False) == (3, 3)


def test_another_product_of_the_basket_is_a_hit() -> None:
    tally = _Tally("next")
    tally.basket_hits.append(0)
    tally.count([2, 1], 1, BASKET, True, {2})  # 2: a best seller, so no complement hit
    tally.count([3], 1, BASKET, True, {2})
    assert (tally.hits, tally.small_hits, tally.small_complement_hits) == (2, 2, 1)
    assert tally.basket_hits == [2]
