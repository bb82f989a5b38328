"""The message strategies the test suites share, re-exported from the public toolkit.

They live in :mod:`scenarios.testing.strategies` (with the catalog, scenario and fault
schedule strategies), so users' own tests can draw the same traffic.
"""

from __future__ import annotations

from scenarios.testing.strategies import (
    MAX_TEXT_LENGTH,
    associated_products,
    association_pushes,
    association_requests,
    association_responses,
    error_replies,
    items,
    message_types,
    messages,
    notice_acks,
    offers,
    phone_ids,
    positive_ints,
    prices,
    promotion_acks,
    promotion_updates,
    purchase_uploads,
    push_acks,
    receipt_notices,
    scores,
    subscribe_acks,
    subscribes,
    texts,
    timestamps,
    tokens,
    upload_acks,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "associated_products",
    "association_pushes",
    "association_requests",
    "association_responses",
    "error_replies",
    "items",
    "message_types",
    "messages",
    "notice_acks",
    "offers",
    "phone_ids",
    "positive_ints",
    "prices",
    "promotion_acks",
    "promotion_updates",
    "purchase_uploads",
    "push_acks",
    "receipt_notices",
    "scores",
    "subscribe_acks",
    "subscribes",
    "texts",
    "timestamps",
    "tokens",
    "upload_acks",
]
