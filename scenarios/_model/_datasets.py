"""Real shopping data as protocol purchases: the Complete Journey and Online Retail files.

Two public market-basket datasets (origin, licence and format: ``SOURCE.md`` beside the
files) are read with the standard library only (``lzma`` and ``csv``; a file may be plain
``.csv`` or ``.csv.xz``) and turned into :class:`Basket` records and the
:class:`~protocol.Item` lines a POS would upload (step 501):

=====================  ========================================  ==========================
protocol               Complete Journey (84.51deg)               Online Retail (UCI)
=====================  ========================================  ==========================
phone (household)      ``household_id``                          ``CustomerID`` (may lack)
shop (merchant)        ``store_id``                              one web shop
receipt                ``basket_id``                             ``InvoiceNo``
purchase time          ``transaction_timestamp`` (UTC)           ``InvoiceDate`` (as UTC)
``Item.sku``           ``product_id``                            ``StockCode``
``Item.category``      ``DEPARTMENT > CATEGORY > PRODUCT TYPE``  ``stem 85099`` (5 digits)
``Item.brand``         ``National`` or ``Private`` (label)       ``unbranded``
``Item.colour``        ``""``                                    first colour word, lower
``Item.name``          product type and package size             ``Description``
=====================  ========================================  ==========================

Cleaning (the same for every consumer, so evaluations and scenarios see the same baskets):
Complete Journey drops lines without a product row and the non-goods (department ``FUEL``
or ``COUPON``, category ``COUPON/MISC ITEMS``); Online Retail drops cancellations
(``InvoiceNo`` starting with ``C``), lines with a quantity or price <= 0, and stock codes
that do not start with 5 digits (postage, fees, manual entries). A basket lists each
product once (quantities of repeated lines are added up).

Errors (a missing directory or file, a file that is not the expected CSV, an unknown
dataset name) raise :class:`DatasetError` with one line that says what to fix.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import io
import lzma
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import attrs

from protocol import Item, PurchaseUpload

from ._errors import ScenarioError

__all__ = [
    "COLOUR_WORDS",
    "DATASETS",
    "Basket",
    "Dataset",
    "DatasetError",
    "colour_of",
    "gc_paused",
    "household_phone_id",
    "load_dataset",
]


class DatasetError(ScenarioError):
    """A dataset cannot be read: a bad directory, a missing or malformed file, a bad name."""


DATASETS: Mapping[str, tuple[str, ...]] = {
    "completejourney": ("completejourney_transactions.csv", "completejourney_products.csv"),
    "onlineretail": ("online_retail.csv",),
}
"""Dataset name -> the files it needs (each may also be compressed as ``NAME.xz``)."""

COLOUR_WORDS: Mapping[str, str] = {
    "RED": "red",
    "PINK": "pink",
    "BLUE": "blue",
    "GREEN": "green",
    "WHITE": "white",
    "BLACK": "black",
    "IVORY": "ivory",
    "CREAM": "beige",
    "SILVER": "grey",
    "GOLD": "gold",
    "PURPLE": "purple",
    "ORANGE": "orange",
    "YELLOW": "yellow",
    "GREY": "grey",
    "BROWN": "brown",
    "TURQUOISE": "turquoise",
    "LILAC": "purple",
    "NAVY": "navy",
    "BEIGE": "beige",
}
"""Colour words of Online Retail descriptions -> the colour put in ``Item.colour``."""

_WORD = re.compile(r"[A-Z]+")
_STEM = re.compile(r"[0-9]{5}")
_UNBRANDED = "unbranded"
_MAX_NAME = 200


def colour_of(description: str) -> str:
    """The first colour word of an Online Retail description, as a colour name, or ``""``."""
    for word in _WORD.findall(description.upper()):
        colour = COLOUR_WORDS.get(word)
        if colour is not None:
            return colour
    return ""


def household_phone_id(household: str) -> str:
    """The phone identifier (E.164) standing for a dataset's household or customer id."""
    digits = "".join(ch for ch in household if ch.isdigit()) or "0"
    return f"+86139{int(digits):08d}"


@attrs.frozen
class Basket:
    """One receipt of a dataset: who bought which products, where and when.

    ``household`` is ``""`` when the dataset does not know the buyer (Online Retail lines
    without a ``CustomerID``). ``at`` is seconds since the Unix epoch (UTC). ``skus`` are
    distinct, in the order of the file; ``quantities`` and ``prices`` (unit price) go with
    them.
    """

    receipt_id: str
    household: str
    store: str
    at: float
    skus: tuple[str, ...]
    quantities: tuple[int, ...]
    prices: tuple[float, ...]


@attrs.frozen
class Dataset:
    """The cleaned baskets of a dataset, oldest first, and its products.

    ``products`` maps each SKU that occurs in a basket to its :class:`~protocol.Item` with
    quantity 1 and the first price seen.
    """

    name: str
    baskets: tuple[Basket, ...]
    products: Mapping[str, Item]

    def items(self, basket: Basket) -> tuple[Item, ...]:
        """The basket's products as items of quantity 1 (shared, cheap: for learning)."""
        products = self.products
        return tuple(products[sku] for sku in basket.skus)

    def lines(self, basket: Basket) -> tuple[Item, ...]:
        """The basket's lines as the POS uploads them: real quantities and unit prices."""
        lines: list[Item] = []
        for sku, quantity, price in zip(basket.skus, basket.quantities, basket.prices, strict=True):
            product = self.products[sku]
            lines.append(attrs.evolve(product, quantity=quantity, price=price))
        return tuple(lines)

    def upload(
        self, basket: Basket, *, merchant_id: str, pos_id: str, phone_id: str, at: float
    ) -> PurchaseUpload:
        """The purchase upload (step 501) of *basket*, bound to *phone_id*."""
        return PurchaseUpload(
            receipt_id=basket.receipt_id,
            merchant_id=merchant_id,
            pos_id=pos_id,
            phone_id=phone_id,
            items=self.lines(basket),
            purchased_at=at,
        )

    def select(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        households: int = 0,
    ) -> tuple[Basket, ...]:
        """Baskets with a known household, bought in ``[start, end)``, of the first
        *households* households (by the time of their first basket in the window; 0: all).
        """
        chosen = [
            b
            for b in self.baskets
            if b.household and (start is None or b.at >= start) and (end is None or b.at < end)
        ]
        if households > 0:
            keep: dict[str, None] = {}
            for basket in chosen:
                if len(keep) >= households:
                    break
                keep.setdefault(basket.household, None)
            chosen = [b for b in chosen if b.household in keep]
        return tuple(chosen)


# ------------------------------------------------------------------ reading files


def _find(directory: Path, name: str, dataset: str) -> Path:
    for candidate in (directory / f"{name}.xz", directory / name):
        if candidate.is_file():
            return candidate
    raise DatasetError(
        f"{directory}: no {name}.xz or {name} here; --data must be the directory with the "
        f"{dataset} files (see SOURCE.md)"
    )


def _open(path: Path) -> IO[str]:
    try:
        if path.suffix == ".xz":
            return io.TextIOWrapper(lzma.open(path, "rb"), encoding="utf-8", newline="")
        return path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _reader(path: Path, header: Sequence[str]) -> Iterator[Iterator[list[str]]]:
    """A CSV reader past the header of *path*, which must start with *header*.

    Any problem reading or parsing the file (inside the ``with`` block too) becomes one
    :class:`DatasetError` line naming the file and, where known, the line.
    """
    handle = _open(path)
    reader = csv.reader(handle)
    try:
        first = next(reader, None)
        if first is None or first[: len(header)] != list(header):
            raise DatasetError(
                f"{path}: not the expected CSV (its header should start with {','.join(header)})"
            )
        yield reader
    except (IndexError, ValueError) as exc:  # a short row, a bad number or date
        raise DatasetError(f"{path}: line {reader.line_num}: {_why(exc)}") from None
    except (lzma.LZMAError, EOFError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot be read as CSV: {exc}") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        handle.close()


def _why(exc: Exception) -> str:
    if isinstance(exc, IndexError):
        return "too few fields"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(exc)


def _unit_price(count: float, value: float) -> float:
    return max(round(value / count, 2) if count > 0 else value, 0.0)


def _baskets(
    order: Mapping[str, tuple[str, str, float]],
    lines: Mapping[str, dict[str, list[float]]],
    *,
    total: bool = False,
) -> tuple[Basket, ...]:
    """Baskets from receipt -> (household, store, at) and receipt -> sku -> [quantity,
    price]; the price is the line's total value when *total*, else the unit price."""
    baskets = []
    for receipt, (household, store, at) in order.items():
        basket = lines[receipt]
        values = basket.values()
        prices = (_unit_price(q, v) for q, v in values) if total else (p for _, p in values)
        baskets.append(
            Basket(
                receipt_id=receipt,
                household=household,
                store=store,
                at=at,
                skus=tuple(basket),
                quantities=tuple(max(1, int(q)) for q, _ in values),
                prices=tuple(prices),
            )
        )
    baskets.sort(key=lambda b: (b.at, b.receipt_id))
    return tuple(baskets)


_CJ_TRANSACTIONS = (
    "household_id",
    "store_id",
    "basket_id",
    "product_id",
    "quantity",
    "sales_value",
    "retail_disc",
    "coupon_disc",
    "coupon_match_disc",
    "week",
    "transaction_timestamp",
)
_CJ_PRODUCTS = (
    "product_id",
    "manufacturer_id",
    "department",
    "brand",
    "product_category",
    "product_type",
    "package_size",
)
_CJ_NOT_GOODS = frozenset({"FUEL", "COUPON"})
_CJ_NOT_GOODS_CATEGORY = "COUPON/MISC ITEMS"


def _cj_product(row: list[str], price: float) -> Item | None:
    sku, _, department, brand, category, kind, size = row[:7]
    path = " > ".join(part.strip() for part in (department, category, kind) if part.strip())
    name = " ".join(part for part in (kind.strip() or category.strip(), size.strip()) if part)
    try:
        return Item(
            sku=sku,
            name=(name or f"product {sku}")[:_MAX_NAME],
            category=(path or "unknown")[:_MAX_NAME],
            brand=brand.strip() or _UNBRANDED,
            colour="",
            quantity=1,
            price=price,
        )
    except ValueError:  # an id the protocol cannot carry: not goods to us
        return None


def _timestamp(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _load_completejourney(directory: Path) -> Dataset:
    transactions = _find(directory, DATASETS["completejourney"][0], "completejourney")
    products_file = _find(directory, DATASETS["completejourney"][1], "completejourney")
    goods: dict[str, list[str]] = {}
    with _reader(products_file, _CJ_PRODUCTS) as rows:
        for row in rows:
            if row[2] not in _CJ_NOT_GOODS and row[4] != _CJ_NOT_GOODS_CATEGORY:
                goods[row[0]] = row
    order: dict[str, tuple[str, str, float]] = {}
    lines: dict[str, dict[str, list[float]]] = {}
    products: dict[str, Item] = {}
    refused: set[str] = set()
    with _reader(transactions, _CJ_TRANSACTIONS) as rows:
        for row in rows:
            sku = row[3]
            if sku not in goods or sku in refused:
                continue
            count = int(row[4])
            value = float(row[5])
            if sku not in products:
                item = _cj_product(goods[sku], _unit_price(count, value))
                if item is None:
                    refused.add(sku)
                    continue
                products[sku] = item
            receipt = row[2]
            basket = lines.get(receipt)
            if basket is None:
                basket = lines[receipt] = {}
                order[receipt] = (row[0], f"store-{row[1]}", _timestamp(row[10]))
            line = basket.get(sku)
            if line is None:
                basket[sku] = [count, value]
            else:
                line[0] += count
                line[1] += value
    return Dataset("completejourney", _baskets(order, lines, total=True), products)


_OR_HEADER = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)


def _load_onlineretail(directory: Path) -> Dataset:
    path = _find(directory, DATASETS["onlineretail"][0], "onlineretail")
    order: dict[str, tuple[str, str, float]] = {}
    lines: dict[str, dict[str, list[float]]] = {}
    products: dict[str, Item] = {}
    refused: set[str] = set()
    with _reader(path, _OR_HEADER) as rows:
        for row in rows:
            receipt, sku = row[0], row[1]
            if receipt.startswith("C") or not _STEM.match(sku) or sku in refused:
                continue
            count = int(row[3])
            price = float(row[5])
            if count <= 0 or price <= 0:
                continue
            if sku not in products:
                item = _or_product(sku, row[2], price)
                if item is None:
                    refused.add(sku)
                    continue
                products[sku] = item
            basket = lines.get(receipt)
            if basket is None:
                basket = lines[receipt] = {}
                customer = row[6].strip().removesuffix(".0")
                order[receipt] = (customer, "online", _timestamp(row[4]))
            line = basket.get(sku)
            if line is None:
                basket[sku] = [count, price]
            else:
                line[0] += count
    return Dataset("onlineretail", _baskets(order, lines), products)


def _or_product(sku: str, description: str, price: float) -> Item | None:
    try:
        return Item(
            sku=sku,
            name=(description.strip() or f"stock {sku}")[:_MAX_NAME],
            category=f"stem {sku[:5]}",
            brand=_UNBRANDED,
            colour=colour_of(description),
            quantity=1,
            price=price,
        )
    except ValueError:  # a stock code the protocol cannot carry
        return None


_LOADERS: Mapping[str, Callable[[Path], Dataset]] = {
    "completejourney": _load_completejourney,
    "onlineretail": _load_onlineretail,
}


def load_dataset(name: str, directory: str | Path) -> Dataset:
    """The cleaned baskets of dataset *name* from the files in *directory* (cached).

    Raises :class:`DatasetError` for an unknown name, a missing directory or file, or a
    file that is not the expected CSV.
    """
    if name not in _LOADERS:
        raise DatasetError(f"unknown dataset {name!r} (known: {', '.join(sorted(_LOADERS))})")
    path = Path(directory)
    if not path.is_dir():
        raise DatasetError(f"{directory}: no such directory (give the directory of the data files)")
    return _load_cached(name, path.resolve())


@functools.lru_cache(maxsize=2)
def _load_cached(name: str, directory: Path) -> Dataset:
    with gc_paused():
        return _LOADERS[name](directory)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk load (millions of small containers
    that all stay alive make its passes a third of the time); restore it after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
