"""Build a world from a scenario and run it in virtual time with a seed."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import attrs
import trio
import trio.testing

from actors import Observer, Scheduling, World, deterministic_scheduling, fan_out
from protocol import (
    CLOUD,
    CloudConfig,
    CloudMachine,
    InMemoryStore,
    PhoneMachine,
    PosMachine,
    RuleRecommender,
    phone_address,
    pos_address,
)

from ._report import Report, ReportBuilder
from ._scenario import Scenario
from ._workload import Workload, generate_workload

__all__ = ["RunResult", "build_world", "run_scenario", "simulate"]


@attrs.frozen
class RunResult:
    """A finished run: its report, the world as it ended, and the workload it ran.

    ``latencies`` holds every purchase-to-first-delivery time of the run (virtual seconds,
    sorted), the distribution behind the report's latency figures.
    """

    report: Report
    world: World
    workload: Workload
    latencies: tuple[float, ...] = ()


def build_world(
    scenario: Scenario,
    workload: Workload,
    *,
    observer: Observer | None = None,
    scheduling: Scheduling = "inline",
) -> World:
    """One cloud, every shop's checkouts and every phone, in memory.

    ``scheduling`` is the :class:`~actors.World`'s: ``"inline"`` (one task drives every
    actor; fast) or ``"tasks"`` (one trio task per actor over memory channels).
    """
    world = World(observer=observer, scheduling=scheduling)
    settings = scenario.cloud
    world.add(
        CLOUD,
        CloudMachine(
            store=InMemoryStore(),
            recommender=RuleRecommender(),
            config=CloudConfig(
                push_timeout=settings.push_timeout,
                mismatch_policy=settings.mismatch_policy,
                max_products=settings.max_products,
            ),
        ),
    )
    by_pos: dict[tuple[str, str], list[Any]] = {
        (shop.merchant_id, pos_id): [] for shop in workload.shops for pos_id in shop.pos_ids
    }
    asks: dict[str, dict[str, float | None]] = {p.phone_id: {} for p in workload.phones}
    for purchase in workload.purchases:
        by_pos[(purchase.merchant_id, purchase.pos_id)].append(purchase.checkout())
        asks[purchase.buyer_phone_id][purchase.receipt_id] = purchase.ask_delay
    for shop in workload.shops:
        for index, pos_id in enumerate(shop.pos_ids):
            world.add(
                pos_address(shop.merchant_id, pos_id),
                PosMachine(
                    shop.merchant_id,
                    pos_id,
                    by_pos[(shop.merchant_id, pos_id)],
                    promotions=shop.promotions if index == 0 else None,
                ),
            )
    for phone in workload.phones:
        world.add(
            phone_address(phone.phone_id),
            PhoneMachine(
                phone.phone_id,
                subscribes=phone.subscribes,
                ask_plan=asks[phone.phone_id],
                default_ask_delay=None,
            ),
        )
    return world


async def simulate(
    scenario: Scenario,
    seed: int | None = None,
    *,
    observers: Sequence[Observer] = (),
    scheduling: Scheduling = "inline",
) -> RunResult:
    """Run ``scenario`` inside the current trio run (give it a MockClock) and report."""
    seed = scenario.seed if seed is None else seed
    workload = generate_workload(scenario, seed)
    builder = ReportBuilder()
    observer = fan_out([builder, *observers])
    world = build_world(scenario, workload, observer=observer, scheduling=scheduling)
    await world.run()
    return RunResult(
        builder.report(scenario=scenario.name, seed=seed),
        world,
        workload,
        latencies=tuple(builder.latencies()),
    )


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    *,
    observers: Sequence[Observer] = (),
    scheduling: Scheduling = "inline",
) -> RunResult:
    """Run ``scenario`` to completion in virtual time; deterministic for a seed."""
    seed = scenario.seed if seed is None else seed
    clock = trio.testing.MockClock(autojump_threshold=0)
    run = functools.partial(simulate, scenario, seed, observers=observers, scheduling=scheduling)
    with deterministic_scheduling(seed):
        return trio.run(run, clock=clock)
