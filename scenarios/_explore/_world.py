"""What world to explore: a few phones and purchases, the cloud's settings, the budgets.

A world is small on purpose: every order of its events is visited. Each purchase is rung
up by its own shop's POS at ``at`` (so purchases of phones that play the same role are
symmetric, see ``docs/explore.md``), names a phone (``named``, possibly the wrong one) and
is paid by ``buyer``, whose user asks ``ask`` seconds after paying (None: never, so the
cloud must push). The built-in worlds (:data:`WORLDS`) are the ones the tests and
``bench/explore.py`` exhaust.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from protocol import AssocsimError, CloudConfig, Item, MismatchPolicy, RetryPolicy, builtin_catalog
from scenarios._model._errors import ScenarioError

__all__ = [
    "WORLDS",
    "Budgets",
    "CrashPoints",
    "ExploreError",
    "ExploreWorld",
    "PhoneRole",
    "PurchaseRole",
    "world_named",
]


class ExploreError(ScenarioError):
    """An exploration that cannot be set up (unknown world, bad budget)."""


class CrashPoints(enum.StrEnum):
    """Where a crash may fall: between two steps of a party, inside a cloud step after any
    store write (the in-step crash points of ``actors``), or both."""

    BETWEEN = "between"
    INSIDE = "inside"
    ANYWHERE = "anywhere"


@attrs.frozen
class Budgets:
    """How many faults one run of the world may suffer (each a branch everywhere)."""

    loss: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    duplication: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    crashes: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    crash_points: CrashPoints = CrashPoints.BETWEEN


@attrs.frozen
class PhoneRole:
    phone_id: str
    subscribes: bool = True


@attrs.frozen
class PurchaseRole:
    receipt_id: str
    named: str  # the phone id the POS is given (step 501)
    buyer: str  # the phone that pays and gets the receipt notice
    ask: float | None = 0.0  # seconds after paying; None: the user never asks
    at: float = 0.0
    sku: str = "SKIN-FW-001"


_FEW_RESENDS = RetryPolicy(first_delay=2.0, factor=2.0, max_delay=60.0, max_attempts=3)


@attrs.frozen
class ExploreWorld:
    name: str
    description: str
    phones: tuple[PhoneRole, ...]
    purchases: tuple[PurchaseRole, ...]
    push_timeout: float = 600.0
    mismatch_policy: MismatchPolicy = MismatchPolicy.DUAL_SEND
    # Few re-sends: a lost message is re-sent once the network is quiet (docs/explore.md).
    retry: RetryPolicy = attrs.field(factory=lambda: _FEW_RESENDS)

    def __attrs_post_init__(self) -> None:
        phones = {p.phone_id for p in self.phones}
        for p in self.purchases:
            if p.named not in phones or p.buyer not in phones:
                raise ExploreError(
                    f"world {self.name}: purchase {p.receipt_id} names a phone not in the world"
                )
        for phone in phones:
            if len({p.ask for p in self.purchases if p.buyer == phone}) > 1:
                raise ExploreError(
                    f"world {self.name}: the purchases of phone {phone} ask at different delays "
                    "(a phone's user asks after the same delay for all its purchases)"
                )

    def ask_delay(self, phone_id: str) -> float | None:
        """When the user of ``phone_id`` asks after paying (None: never)."""
        return next((p.ask for p in self.purchases if p.buyer == phone_id), None)

    def cloud_config(self) -> CloudConfig:
        return CloudConfig(
            push_timeout=self.push_timeout, mismatch_policy=self.mismatch_policy, retry=self.retry
        )

    def settings(self) -> dict[str, object]:
        """The trace header's settings: what ``assocsim check`` judges against (its cloud
        keeps its store across a crash: ``refusal-justified`` judges after one)."""
        return {
            "cloud": {
                "push_timeout": self.push_timeout,
                "mismatch_policy": str(self.mismatch_policy),
                "store": "kept",
            }
        }

    def item(self, purchase: PurchaseRole) -> Item:
        catalog = builtin_catalog()
        product = catalog.by_sku(purchase.sku)
        if product is None:
            raise ExploreError(f"world {self.name}: no catalogue product {purchase.sku!r}")
        return catalog.to_item(product, 1)

    def symmetric_groups(self) -> tuple[tuple[int, ...], ...]:
        """Purchases (by index) whose phones and shops play the same role: same time,
        same ask, each bought and named by its own phone, phones alike. A phone another
        purchase names or pays for plays a role of its own: swapping it would rename that
        purchase too, into one the world does not have."""
        roles: dict[tuple[object, ...], list[int]] = {}
        phones = {p.phone_id: p for p in self.phones}
        mentions = [phone for p in self.purchases for phone in {p.named, p.buyer}]
        for i, p in enumerate(self.purchases):
            own = p.named == p.buyer and mentions.count(p.buyer) == 1
            if not own:
                continue
            key = (p.at, p.ask, p.sku, phones[p.buyer].subscribes)
            roles.setdefault(key, []).append(i)
        return tuple(tuple(group) for group in roles.values() if len(group) > 1)


ALICE, BOB = "+8613800000001", "+8613800000002"
_PHONES = (PhoneRole(ALICE), PhoneRole(BOB))

WORLDS: Mapping[str, ExploreWorld] = {
    w.name: w
    for w in (
        ExploreWorld(
            "pull",
            "1 purchase; its phone asks at once: the answered pull",
            (PhoneRole(ALICE),),
            (PurchaseRole("r-1", ALICE, ALICE, ask=0.0),),
        ),
        ExploreWorld(
            "push",
            "1 purchase; its phone never asks: the timeout push",
            (PhoneRole(ALICE),),
            (PurchaseRole("r-1", ALICE, ALICE, ask=None),),
        ),
        ExploreWorld(
            "race",
            "1 purchase; its phone asks at the push deadline: request and push race",
            (PhoneRole(ALICE),),
            (PurchaseRole("r-1", ALICE, ALICE, ask=600.0),),
        ),
        ExploreWorld(
            "wrong-id",
            "phone A buys and never asks (a timeout push); phone B pays a purchase the POS "
            "names for A and asks (a mismatch: the dual-send)",
            _PHONES,
            (
                PurchaseRole("r-1", ALICE, ALICE, ask=None, at=0.0),
                PurchaseRole("r-2", ALICE, BOB, ask=0.0, at=1.0),
            ),
        ),
        ExploreWorld(
            "two-purchases",
            "2 purchases, 2 phones, each buying at its own shop and asking at the push "
            "deadline (symmetric phones)",
            _PHONES,
            (
                PurchaseRole("r-1", ALICE, ALICE, ask=600.0),
                PurchaseRole("r-2", BOB, BOB, ask=600.0),
            ),
        ),
    )
}
"""The built-in worlds, by name."""


SETTINGS = ("push_timeout", "mismatch_policy", "max_attempts")
"""The knobs ``--set KEY=VALUE`` changes in a world."""


def with_settings(world: ExploreWorld, settings: Mapping[str, str]) -> ExploreWorld:
    """``world`` with the knobs of ``settings`` (``push_timeout`` in seconds,
    ``mismatch_policy`` dual-send or reject, ``max_attempts`` of every party's sends)."""
    changes: dict[str, Any] = {}  # attrs.evolve checks each field against the class
    for key, text in settings.items():
        if key not in SETTINGS:
            raise ExploreError(
                f"--set {key}: not a knob of an exploration world; they are {', '.join(SETTINGS)}"
            )
        try:
            if key == "push_timeout":
                changes["push_timeout"] = _positive_float(text)
            elif key == "mismatch_policy":
                changes["mismatch_policy"] = MismatchPolicy(text)
            else:
                changes["retry"] = attrs.evolve(world.retry, max_attempts=int(text))
        except (ValueError, TypeError, AssocsimError) as exc:
            raise ExploreError(f"--set {key}={text}: {exc}") from None
    return attrs.evolve(world, **changes) if changes else world


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError("expected a number of seconds > 0")
    return value


def world_named(name: str) -> ExploreWorld:
    world = WORLDS.get(name)
    if world is None:
        raise ExploreError(
            f"no exploration world {name!r}; the built-in ones are {', '.join(WORLDS)}"
        )
    return world
