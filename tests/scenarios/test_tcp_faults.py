"""``assocsim run SCENARIO --transport tcp`` never drops a scenario's faults without a word.

The real processes talk over loopback: nothing there simulates latency, loss, partitions
or crashes. A scenario configuring any of them is refused in one line naming exactly the
tables it cannot apply, exit 2, before any process starts; a perfect network is run.
The bug these tests exist for: the run went ahead without the faults and blamed the
different counts on "try a lower --speed".
"""

from __future__ import annotations

import pytest

from scenarios import RunSpec, ScenarioError, load_scenario
from scenarios._cli._main import main
from scenarios._field import _tcprun as tcprun
from scenarios._field._tcprun import faults_tcp_cannot_apply, refuse_faults_on_tcp
from scenarios._model._overrides import apply_overrides

EVERYTHING = (
    "[network] latency/jitter/loss/duplicate/reorder, [[network.link]], [[partition]], [[crash]]"
)


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that gets as far as starting processes fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a tcp run with faults started its processes")

    monkeypatch.setattr(tcprun, "_TcpRun", refuse)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_faults_scenario_is_refused_in_one_line_naming_every_table(
    no_processes: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["run", "faults", "--transport", "tcp"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"assocsim: error: --transport tcp cannot apply {EVERYTHING} ")
    assert "run it with --transport memory, or remove them (--set network.latency=0" in err
    assert "lower --speed" not in err


@pytest.mark.parametrize(
    ("sets", "tables"),
    [
        (["network.loss=0.1"], "[network] loss"),
        (["network.duplicate=0.1", "network.reorder=0.2"], "[network] duplicate/reorder"),
        (["network.latency=0.05"], "[network] latency"),
        (['network.link=[{between=["cloud","phone:*"],loss=0.5}]'], "[[network.link]]"),
        (['partition=[{side=["cloud"],start=10,end=20}]'], "[[partition]]"),
        (['crash=[{actor="cloud",at=10,restart=20}]'], "[[crash]]"),
        (
            ["network.loss=0.1", 'crash=[{actor="cloud",at=10,restart=20}]'],
            "[network] loss, [[crash]]",
        ),
    ],
)
def test_each_table_is_named_exactly(
    sets: list[str], tables: str, no_processes: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "quickstart", "--transport", "tcp"]
    code, _, err = _run([*argv, *(w for s in sets for w in ("--set", s))], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"cannot apply {tables} of this scenario" in err


def test_what_configures_nothing_is_not_refused() -> None:
    """A perfect network is what a TCP run has: zero rates, a link that sets nothing or
    only zeros, and the fault-phase knobs alone configure nothing."""
    for name in ("quickstart", "silent-phones", "wrong-ids"):
        assert faults_tcp_cannot_apply(load_scenario(name)) == []
    idle = apply_overrides(
        load_scenario("quickstart"),
        [
            "network.faults_until=1h",
            "network.reorder_delay=5s",
            'network.link=[{between=["cloud","phone:*"],loss=0.0}]',
        ],
    )
    assert faults_tcp_cannot_apply(idle) == []
    refuse_faults_on_tcp(idle)  # no error


def test_the_suggested_sets_remove_exactly_what_is_refused() -> None:
    faults = load_scenario("faults")
    found = faults_tcp_cannot_apply(faults)
    assert ", ".join(table for table, _ in found) == EVERYTHING
    removals = [assignment for _, assignments in found for assignment in assignments]
    cleaned = apply_overrides(faults, removals)
    assert faults_tcp_cannot_apply(cleaned) == []
    assert cleaned.purchases == faults.purchases  # only the faults went


def test_run_tcp_itself_refuses_before_any_process(no_processes: None) -> None:
    """The library entry point refuses too, not only the command line."""
    options = tcprun.TcpRunOptions()
    with pytest.raises(ScenarioError, match=r"cannot apply .*\[\[partition\]\]"):
        tcprun.run_tcp(RunSpec.load("faults", seed=11), options)


@pytest.mark.parametrize(
    "argv",
    [
        ["pos", "--cloud", "127.0.0.1:9", "--merchant", "shop-01"],
        ["phone", "--cloud", "127.0.0.1:9", "--id", "+8613800000000", "--tls-ca", "/no.pem"],
        ["serve", "cloud", "--listen", "127.0.0.1:0", "--db", "/nonexistent/dir/x.db"],
    ],
    ids=["pos", "phone", "serve cloud"],
)
def test_a_field_process_says_it_leaves_out_its_scenarios_faults(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Each command then stops on another bad argument: only the warning is looked at.
    code, _, err = _run([*argv, "--scenario", "faults"], capsys)
    warning, *_ = err.splitlines()
    assert warning.startswith(f"assocsim: warning: {argv[0]}")
    assert f"does not apply the {EVERYTHING} of scenario faults" in warning
    _, _, quiet = _run([*argv, "--scenario", "quickstart"], capsys)
    assert "warning" not in quiet
    assert code == 2
