"""Every reordering the simulated network counts holds its message back.

``[network] reorder`` draws the messages to hold back by a uniform draw from
``[0, reorder_delay]``. With ``reorder_delay = 0`` a drawn message arrives when it would
anyway: the run counted it as reordered (``faults: reordered 397``) and no idle-fault
warning came, since the count was not 0. Such a config is refused now
(:class:`~actors.FaultPlanError`, one line naming the entry), and a config that is
accepted holds back every message it counts. Planted: ``tests/planted/zero_delay_reorder.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import trio
import trio.testing

from actors import EventKind, FaultPlanError, Link, NetworkConfig
from scenarios._cli._main import main
from tests.actors.test_simnet import _kinds, _world
from tests.planted.zero_delay_reorder import UncheckedNetworkConfig

LATENCY = 0.04


def check_every_counted_reorder_holds_back(make: Callable[..., NetworkConfig]) -> int:
    """For reorder_delay 0 and 0.5: the config is refused, or every message the network
    counts as reordered arrives later than the latency alone would bring it. Returns the
    number of configs run."""
    runs = 0
    for delay in (0.0, 0.5):
        try:
            config = make(latency=LATENCY, reorder=0.5, reorder_delay=delay)
        except FaultPlanError:
            continue  # refused: nothing runs, nothing is counted
        world, _, echo, events = _world(config, burst=200)
        trio.run(world.run, clock=trio.testing.MockClock(autojump_threshold=0))
        counted = [e for e in _kinds(events, EventKind.DELAY) if e.sender == "phone:a"]
        late = [at for at, _ in echo.received if at > LATENCY]  # every send was at 0
        assert counted, "reorder = 0.5 held back none of 200 messages"
        assert len(late) == len(counted), (
            f"reorder_delay = {delay}: {len(counted)} messages counted as reordered, "
            f"{len(late)} of them held back"
        )
        runs += 1
    return runs


def test_every_counted_reorder_holds_its_message_back() -> None:
    assert check_every_counted_reorder_holds_back(NetworkConfig) == 1  # delay 0 refused


def test_planted_zero_delay_reorder_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"\d+ messages counted as reordered, 0 of them held"):
        check_every_counted_reorder_holds_back(UncheckedNetworkConfig)


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda: NetworkConfig(reorder=0.2, reorder_delay=0.0), "[network] reorder = 0.2"),
        (
            lambda: NetworkConfig(
                reorder_delay=0.0,
                link=(Link(("cloud", "*")), Link(("cloud", "phone:*"), reorder=0.3)),
            ),
            "[[network.link]] #2 reorder = 0.3",
        ),
    ],
)
def test_a_reorder_with_no_delay_is_refused_naming_its_entry(
    make: Callable[[], NetworkConfig], where: str
) -> None:
    with pytest.raises(FaultPlanError, match=rf"^{re.escape(where)} would hold nothing back"):
        make()


def test_a_zero_delay_without_reorder_configures_nothing_and_is_accepted() -> None:
    NetworkConfig(reorder_delay=0.0, link=(Link(("cloud", "*"), reorder=0.0),))


def test_the_command_line_refuses_it_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "quickstart", "--set", "network.reorder=0.5", "--set", "network.reorder_delay=0"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "[network] reorder = 0.5 would hold nothing back: reorder_delay is 0" in captured.err
