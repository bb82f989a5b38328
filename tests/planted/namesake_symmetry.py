"""A planted bug: purchases grouped as symmetric though another purchase names their phone.

:func:`buyers_only_groups` is ``ExploreWorld.symmetric_groups`` as first written: a purchase
counts as its phone's own when the phone named is its buyer and no other purchase is paid
by that phone, but a wrong-id purchase that *names* the phone is not looked at. Swapping
the two phones then renames that purchase too, into one the world does not have: the
renaming is no symmetry. ``tests/scenarios/test_explore_symmetry.py`` must catch it.
"""

from __future__ import annotations

from scenarios._explore._world import ExploreWorld

__all__ = ["buyers_only_groups"]


def buyers_only_groups(world: ExploreWorld) -> tuple[tuple[int, ...], ...]:
    roles: dict[tuple[object, ...], list[int]] = {}
    phones = {p.phone_id: p for p in world.phones}
    buyers = [p.buyer for p in world.purchases]
    for i, p in enumerate(world.purchases):
        own = p.named == p.buyer and buyers.count(p.buyer) == 1  # BUG: `named` not counted
        if not own:
            continue
        key = (p.at, p.ask, p.sku, phones[p.buyer].subscribes)
        roles.setdefault(key, []).append(i)
    return tuple(tuple(group) for group in roles.values() if len(group) > 1)
