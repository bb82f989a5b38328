"""Shared test builders: the phone ids, addresses and protocol values many test files need.

``tests/strategies.py`` draws random values; this module builds the fixed ones. Every builder
takes keyword arguments for what a test may want to vary, with the defaults the tests were
written against, so a test comparing exact values passes its own value rather than copying
the builder.

- ``ALICE``, ``BOB``, ``CAROL``, ``PHONES``: phone ids; ``MERCHANT``, ``POS``: the shop and
  the address of its till ``pos-1``.
- ``catalog_item``, ``catalog_items``, ``catalog_upload``: lines and purchases of built-in
  catalogue products (what the cloud's recommender knows).
- ``purchase``: a purchase upload of the given items.
- ``stored_upload``, ``stored_binding``, ``stored_push``: values a ``CloudStore`` keeps, with
  awkward text (non-ASCII names and offers) so that a store must round-trip it.
- ``sent_pushes``: the association pushes among a machine's effects.
- ``receipt``, ``stored``: the :class:`~protocol.ReceiptKey` of a receipt id of ``MERCHANT``
  (the tests' shop), of ``M1`` (the stored values' merchant).
"""

from __future__ import annotations

from protocol import (
    AssociatedProduct,
    AssociationPush,
    Binding,
    Catalog,
    CloudStore,
    Effects,
    Item,
    MatchingRelation,
    Offer,
    PendingPush,
    Promotions,
    PurchaseUpload,
    PushReason,
    Reason,
    ReceiptKey,
    builtin_catalog,
    pos_address,
)

__all__ = [
    "ALICE",
    "BOB",
    "CAROL",
    "CATALOG",
    "MERCHANT",
    "PHONES",
    "POS",
    "catalog_item",
    "catalog_items",
    "catalog_upload",
    "fill_store",
    "purchase",
    "receipt",
    "sent_pushes",
    "stored",
    "stored_binding",
    "stored_push",
    "stored_upload",
]

CATALOG = builtin_catalog()
ALICE = "+8613800000001"
BOB = "+8613800000002"
CAROL = "+8613800000003"
PHONES = (ALICE, BOB, CAROL)
MERCHANT = "shop-a"
POS = pos_address(MERCHANT, "pos-1")
STORED_MERCHANT = "M1"


def receipt(receipt_id: str, merchant_id: str = MERCHANT) -> ReceiptKey:
    """Receipt *receipt_id* of *merchant_id* (the tests' shop unless told)."""
    return ReceiptKey(merchant_id, receipt_id)


def stored(receipt_id: str) -> ReceiptKey:
    """Receipt *receipt_id* of the stored values' merchant (``M1``)."""
    return ReceiptKey(STORED_MERCHANT, receipt_id)


# --------------------------------------------------------------------------- purchases


def catalog_item(sku: str, catalog: Catalog = CATALOG, quantity: int = 1) -> Item:
    """The receipt line of the catalogue product *sku* (which must exist)."""
    product = catalog.by_sku(sku)
    assert product is not None, sku
    return catalog.to_item(product, quantity)


def catalog_items(*skus: str) -> tuple[Item, ...]:
    """One line of each built-in product in *skus*, in that order."""
    return tuple(catalog_item(sku) for sku in skus)


def purchase(
    *items: Item,
    receipt_id: str = "r-1",
    phone_id: str = ALICE,
    merchant_id: str = MERCHANT,
    pos_id: str = "pos-1",
    purchased_at: float = 0.0,
) -> PurchaseUpload:
    """A purchase upload of *items*."""
    return PurchaseUpload(
        receipt_id=receipt_id,
        merchant_id=merchant_id,
        pos_id=pos_id,
        phone_id=phone_id,
        items=items,
        purchased_at=purchased_at,
    )


def catalog_upload(
    receipt_id: str = "r-1",
    phone_id: str = ALICE,
    skus: tuple[str, ...] = ("SKIN-FW-001",),
    *,
    merchant_id: str = MERCHANT,
) -> PurchaseUpload:
    """A purchase of built-in products at ``pos-1``, at time 0 (a face wash unless told)."""
    return purchase(
        *catalog_items(*skus), receipt_id=receipt_id, phone_id=phone_id, merchant_id=merchant_id
    )


def sent_pushes(effects: Effects) -> list[AssociationPush]:
    """The association pushes sent in *effects*, in order."""
    return [s.message for s in effects.sends if isinstance(s.message, AssociationPush)]


# --------------------------------------------------------------------------- stored values


def stored_upload(
    receipt_id: str, phone_id: str = ALICE, *, price: float = 9.5, at: float = 100.25
) -> PurchaseUpload:
    """A one-line purchase as a store keeps it (merchant ``M1``, till ``POS1``)."""
    return PurchaseUpload(
        receipt_id=receipt_id,
        merchant_id=STORED_MERCHANT,
        pos_id="POS1",
        phone_id=phone_id,
        items=(Item("SKU-1", "Gesichtsreinigung 洗面奶", "face-wash", "Acme", "", 1, price),),
        purchased_at=at,
    )


def stored_binding(receipt_id: str, phone_id: str = ALICE, *, at: float = 101.0) -> Binding:
    """:func:`stored_upload`'s purchase, bound at *at*."""
    return Binding(stored_upload(receipt_id, phone_id), stored_at=at)


def stored_push(
    receipt_id: str,
    phone_id: str = ALICE,
    reason: PushReason = PushReason.TIMEOUT,
    *,
    sku: str = "SKU-2",
    price: float = 12.75,
    score: float = 0.5,
    offer: str | None = "-10% ✓",
) -> AssociationPush:
    """A push of one associated product (a lotion on offer unless *offer* is None)."""
    product = AssociatedProduct(
        sku,
        "Lotion",
        "lotion",
        "Acme",
        "white",
        price,
        Reason.OFFER if offer is not None else Reason.COMPLEMENT,
        score,
        offer,
    )
    return AssociationPush(receipt_id, STORED_MERCHANT, phone_id, reason, (product,))


def fill_store(store: CloudStore) -> None:
    """One of everything a cloud store keeps, written outside any step: two bindings, a
    subscription, a pending push, a delivery, an outgoing push, a matching relation and
    a merchant's promotions."""
    store.put_binding(Binding(stored_upload("R1"), stored_at=101.0))
    store.put_binding(Binding(stored_upload("R2"), stored_at=102.0))
    store.subscribe(ALICE, 1.0)
    store.put_pending_push(PendingPush(stored("R2"), ALICE, 702.0))
    store.mark_delivered(stored("R1"), ALICE)
    store.put_outgoing(stored_push("R1"))
    store.save_matching_relation(
        MatchingRelation(stored("R1"), ALICE, ("SKU-1",), ("SKU-2",), 150.0)
    )
    store.set_promotions(Promotions("M1", ("SKU-2",), (Offer("SKU-2", "-10%", 11.5),)))
