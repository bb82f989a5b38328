"""The cloud's public hooks for protocol variants (``CloudMachine.HOOKS``, docs/variants.md).

Every hook is a public, documented method; the reference cloud calls each one at its
decision point (a spy subclass sees them all in one hand-driven story, and changes
nothing); a variant that overrides a hook by its old private name is refused at class
creation, naming the public hook, rather than silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import protocol
from protocol import (
    AssociationRequest,
    CloudConfig,
    CloudMachine,
    Effects,
    InMemoryStore,
    LocalProtocolError,
    Message,
    PushDue,
    RuleRecommender,
    Subscribe,
    phone_address,
)
from tests.builders import ALICE, BOB, POS, catalog_upload

TIMEOUT = 60.0
DOCS = Path(__file__).resolve().parents[2] / "docs"
RENAMED = {
    "_on_push_due": "on_push_due",
    "_on_mismatch": "on_mismatch",
    "_mark_delivered": "mark_delivered",
    "_push": "push",
    "_supersede_push": "supersede_push",
    "_determine_associated_products": "associated_products",
}


def test_every_hook_is_a_public_documented_method() -> None:
    assert len(set(CloudMachine.HOOKS)) == len(CloudMachine.HOOKS) >= 10
    for name in CloudMachine.HOOKS:
        assert not name.startswith("_")
        method = vars(CloudMachine)[name]
        assert callable(method)
        assert (method.__doc__ or "").startswith("Hook"), name
        assert f"``{name}(" in (CloudMachine.__doc__ or ""), name


@pytest.mark.parametrize("doc", ["variants.md", "protocol.md"])
def test_the_docs_name_every_hook(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    missing = [name for name in CloudMachine.HOOKS if f"`{name}" not in text]
    assert missing == []


def _spy(calls: list[str]) -> type[CloudMachine]:
    """A subclass recording each hook call, then doing exactly what the reference does."""

    def recording(name: str) -> Callable[..., Any]:
        def hook(self: CloudMachine, *args: Any) -> Any:
            calls.append(name)
            return getattr(super(spy, self), name)(*args)

        return hook

    spy: type[CloudMachine] = type(
        "Spy", (CloudMachine,), {name: recording(name) for name in CloudMachine.HOOKS}
    )
    return spy


def _story(cloud: CloudMachine) -> list[Effects]:
    """Subscriptions, a timeout push answered by a pull (superseding it), and a mismatch."""

    def step(message: Message, sender: str, now: float) -> Effects:
        return cloud.handle(message, sender, now)

    return [
        cloud.start(0.0),
        step(Subscribe(ALICE), phone_address(ALICE), 0.0),
        step(Subscribe(BOB), phone_address(BOB), 0.0),
        step(catalog_upload("r-1", ALICE), POS, 1.0),
        cloud.timer_fired(PushDue("r-1", "shop-a"), 1.0 + TIMEOUT),  # pushed, not acknowledged yet
        step(
            AssociationRequest(1, "r-1", "shop-a", ALICE), phone_address(ALICE), 70.0
        ),  # supersedes
        step(catalog_upload("r-2", ALICE), POS, 80.0),
        step(AssociationRequest(2, "r-2", "shop-a", BOB), phone_address(BOB), 90.0),  # dual-send
        cloud.timer_fired(PushDue("r-2", "shop-a"), 80.0 + TIMEOUT),  # delivered already: nothing
    ]


def _machine(cls: type[CloudMachine]) -> CloudMachine:
    config = CloudConfig(push_timeout=TIMEOUT)
    return cls(store=InMemoryStore(), recommender=RuleRecommender(), config=config)


def test_the_reference_cloud_calls_every_hook_at_its_decision_point() -> None:
    calls: list[str] = []
    spied = _story(_machine(_spy(calls)))
    assert set(calls) == set(CloudMachine.HOOKS)
    assert spied == _story(_machine(CloudMachine))  # a hook calling super changes nothing
    # The order of the decisions, in the protocol's words:
    assert calls[:3] == ["bind", "learn", "push_deadline"]  # 502, 507, 602
    assert calls[3:6] == ["on_push_due", "associated_products", "push"]  # 603
    assert calls[6:10] == ["judge", "associated_products", "mark_delivered", "supersede_push"]
    assert calls[13:] == [
        "judge",
        "on_mismatch",
        "associated_products",
        "dual_send",
        "mark_delivered",
        "push",
        "on_push_due",
    ]


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_a_variant_overriding_an_old_private_name_is_refused(old: str) -> None:
    with pytest.raises(LocalProtocolError) as refused:
        type("OldStyle", (CloudMachine,), {old: lambda self, *args: Effects()})
    assert str(refused.value) == (
        f"OldStyle overrides {old}, which the cloud no longer calls: "
        f"override the public hook {RENAMED[old]} instead (docs/variants.md)"
    )


def test_a_variant_overriding_public_hooks_is_accepted() -> None:
    quiet = type("Quiet", (CloudMachine,), {"on_push_due": lambda self, *args: Effects()})
    cloud = _machine(quiet)
    cloud.handle(Subscribe(ALICE), phone_address(ALICE), 0.0)
    cloud.handle(catalog_upload("r-1", ALICE), POS, 0.0)
    assert cloud.timer_fired(PushDue("r-1", "shop-a"), TIMEOUT) == Effects()


def _missing_methods(text: str) -> list[str]:
    """The ``CloudMachine.name`` (or POS, phone) references in ``text`` naming nothing."""
    named = set(re.findall(r"`((?:Cloud|Pos|Phone)Machine)\.(\w+)", text))
    return sorted(f"{c}.{name}" for c, name in named if not hasattr(getattr(protocol, c), name))


@pytest.mark.parametrize("doc", ["variants.md", "protocol.md"])
def test_every_machine_method_the_docs_name_exists(doc: str) -> None:
    assert _missing_methods((DOCS / doc).read_text(encoding="utf-8")) == []


def test_a_stale_method_name_in_the_docs_is_caught() -> None:
    planted = "| 603 | push | `CloudMachine._on_push_due` and `CloudMachine.push` |"
    assert _missing_methods(planted) == ["CloudMachine._on_push_due"]
