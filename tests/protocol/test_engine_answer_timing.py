"""An answer is a function of the uploads up to the last refresh, whenever it is asked:
an engine asked between learning and refreshes answers as one rebuilt from the same
uploads and never asked, through refreshes that rewrite the pairing lists' rows in place,
change their lengths and re-fit the table (``protocol/_reco/_lists.py``: a question
reads a view of its product's row); and an answer already returned never changes. From
an empty catalog, up to 160 products outgrow the table's first 64 rows, so it is
re-fitted between questions (64, 96, 144 rows, ...).

Catches the planted ``tests/planted/kept_views.py`` (a view handed to a question kept
for good: stale once its row's length changes or the table is re-fitted) and
``tests/planted/answers_refreshed_in_place.py`` (kept answers brought up to date in
place: an answer returned before changes)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import Catalog, EngineConfig, Item, PairingEngine, PurchaseUpload
from protocol._reco import _engine
from tests.planted.answers_refreshed_in_place import InPlaceAnswersEngine
from tests.planted.kept_views import KeptViewsListTable

PHONES = ("+8613800000001", "+8613800000002")
# more products than the table's first rows, few categories and brands: lists share
# candidates, and a product's list changes length as its neighbours are learned
POOL = tuple(
    Item(
        sku=f"P{(k * 37) % 160:03d}",
        name=f"product {k}",
        category=f"c{k % 6}",
        brand=f"b{k % 3}",
        colour=("", "black", "red")[k % 3],
        quantity=1,
        price=1.0,
    )
    for k in range(160)
)
STRANGER = Item(
    sku="NEVER",
    name="never learned",
    category="c1",
    brand="b0",
    colour="red",
    quantity=1,
    price=1.0,
)
CONFIGS = st.sampled_from(
    (
        EngineConfig(refresh_every=3),
        EngineConfig(refresh_every=2, pairings=2, neighbours=2),
        EngineConfig(refresh_every=5, pairings=4, personal_weight=1.0),
    )
)
BASKET = st.lists(st.sampled_from(POOL), min_size=1, max_size=9, unique=True)
PHONE = st.sampled_from((None, *PHONES))
LEARN = st.tuples(st.just("learn"), BASKET, PHONE)
ASK = st.tuples(st.just("ask"), st.lists(st.sampled_from((*POOL, STRANGER)), max_size=4), PHONE)
NOTHING: list[Item] = []
REFRESH = st.tuples(st.just("refresh"), st.just(NOTHING), st.none())
STEPS = st.lists(st.one_of(LEARN, LEARN, ASK, REFRESH), min_size=1, max_size=40)

_Step = tuple[str, list[Item], str | None]


def _engine_of(kind: type[PairingEngine], config: EngineConfig) -> PairingEngine:
    return kind(catalog=Catalog(()), rules={}, config=config)


def _answers(engine: PairingEngine, items: list[Item], phone: str | None) -> tuple[object, ...]:
    upload = PurchaseUpload(
        receipt_id="r-q",
        merchant_id="shop-1",
        pos_id="pos-1",
        phone_id=phone if phone is not None else PHONES[0],
        items=tuple(items) or (STRANGER,),
        purchased_at=0.0,
    )
    return (engine.pair(items, phone, 6), engine.associate(upload, None, 4))


def _rebuilt(history: list[_Step], config: EngineConfig) -> PairingEngine:
    """An engine that learned *history* (its learning and refreshes) and was never asked."""
    engine = _engine_of(PairingEngine, config)
    for action, items, phone in history:
        if action == "learn":
            engine.learn(items, phone)
        else:
            engine.refresh()
    return engine


def _run(kind: type[PairingEngine], steps: list[_Step], config: EngineConfig) -> PairingEngine:
    """Apply *steps* to a *kind* engine; each answer is the rebuilt engine's, and after
    every step each answer returned so far is as it was when returned."""
    live = _engine_of(kind, config)
    history: list[_Step] = []
    returned: list[tuple[tuple[object, ...], tuple[object, ...]]] = []
    for action, items, phone in steps:
        if action == "learn":
            live.learn(items, phone)
            history.append((action, items, phone))
        elif action == "refresh":
            live.refresh()
            history.append((action, items, phone))
        else:
            found = _answers(live, items, phone)
            assert found == _answers(_rebuilt(history, config), items, phone)
            returned.append((found, copy.deepcopy(found)))
        for answer, as_returned in returned:
            assert answer == as_returned, "an answer changed after it was returned"
    return live


@settings(max_examples=60, deadline=None)
@given(STEPS, CONFIGS)
def test_an_answer_depends_on_the_uploads_not_on_when_it_was_asked(
    steps: list[_Step], config: EngineConfig
) -> None:
    _run(PairingEngine, steps, config)


# Asked about after every basket: lists grow from one candidate to `pairings` (lengths
# changed), the same products asked again after their rows were rewritten, and 100
# products learned past the table's first 64 rows (re-fitted twice).
EXAMPLE: list[_Step] = []
for _k in range(40):
    _bought = [POOL[_k % 100], POOL[(_k * 7 + 1) % 100], POOL[(_k * 3 + 2) % 100]]
    EXAMPLE.append(("learn", _bought, PHONES[_k % 2]))
    EXAMPLE.append(("ask", [POOL[_k % 5]], None))
    EXAMPLE.append(("ask", [POOL[(_k + 1) % 5], POOL[1]], PHONES[0]))
EXAMPLE.append(("refresh", [], None))
EXAMPLE.append(("ask", [POOL[2]], None))
EXAMPLE_CONFIG = EngineConfig(refresh_every=3, pairings=4)


def test_the_example_rewrites_rows_and_refits_the_table() -> None:
    live = _engine_of(PairingEngine, EXAMPLE_CONFIG)
    arrays, lengths = set(), set()
    for action, items, phone in EXAMPLE:
        if action == "learn":
            live.learn(items, phone)
        else:
            live.refresh()
        arrays.add(id(live._lists.cells))
        lengths.add(len(live._lists[2][0]))
    assert len(live._lists) > 64 and len(arrays) >= 3  # re-fitted twice at least
    assert len(lengths) >= 3  # product 2's list changed length
    _run(PairingEngine, EXAMPLE, EXAMPLE_CONFIG)


def test_the_check_catches_views_kept_across_refreshes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_engine, "ListTable", KeptViewsListTable)
    with pytest.raises(AssertionError):
        _run(PairingEngine, EXAMPLE, EXAMPLE_CONFIG)


def test_the_check_catches_answers_rewritten_after_being_returned() -> None:
    with pytest.raises(AssertionError, match="changed after it was returned"):
        _run(InPlaceAnswersEngine, EXAMPLE, EXAMPLE_CONFIG)
