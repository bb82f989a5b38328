"""Planted bug for ``assocsim find`` (tests/scenarios/test_find_unnamed.py): a find that
lists receipts only, passing over every broken promise that names none (a subscription
the cloud never answered), as it once did. ``find --violations`` then said "no receipt
meets violations" and exited 1 on a trace that ``assocsim check`` failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scenarios._trace._find import Found


def receipts_only(find: Callable[..., list[Found]]) -> Callable[..., list[Found]]:
    """``find_receipts`` whose result keeps only the entries that name a receipt."""

    def planted(*args: Any, **kwargs: Any) -> list[Found]:
        return [found for found in find(*args, **kwargs) if found.receipt is not None]

    return planted
