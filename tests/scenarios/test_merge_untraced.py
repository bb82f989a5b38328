"""Merging a field trial's traces (``assocsim check A B ...``, ``scenarios.merge_traces``)
refuses a set that leaves out a process: an actor whose messages a trace received but
that has no event of its own in any. Before, the cloud's and the phones' traces merged
without the POS's passed ``check`` (no violations, exit 0): the POS's side of the
promises (each upload acknowledged or refused at the POS that sent it) had nothing to be
judged by, and the output did not say so. Now: one line naming the actor and the trace
that received from it, exit 2. The whole set, or a single process's trace, is judged as
before. Against the planted merge that trusts its input (``tests/planted/trusting_merge.py``)
the set without the POS is all clear again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios import TraceError, merge_traces
from scenarios._trace import _reader
from tests.planted.trusting_merge import trust
from tests.scenarios.cli_runs import run_main as _main

PROCESSES = {"cloud": "cloud", "pos": "pos:", "phones": "phone:"}  # whose actors' names start so


def _actor(record: dict[str, object]) -> object:
    """Whose process writes the event: the recipient of a recv, else the sender."""
    return record["to"] if record["event"] == "recv" else record["from"]


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A wrong-ids run (60 purchases) split as its field trial's processes would trace it:
    the cloud's, the POSes' and the phones' events in three files."""
    directory = tmp_path_factory.mktemp("field")
    whole = directory / "whole.jsonl"
    assert _main(["run", "wrong-ids", "--set", "purchases=60", "--trace", str(whole)])[0] == 0
    header, *events = (json.loads(line) for line in whole.read_text().splitlines())
    split = {"whole": whole}
    for process, prefix in PROCESSES.items():
        path = directory / f"{process}.jsonl"
        lines = [{**header, "seed": None, "process": process}]
        lines += [e for e in events if str(_actor(e)).startswith(prefix)]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        split[process] = path
    return split


def test_the_whole_set_is_judged_as_the_run(traces: dict[str, Path]) -> None:
    code, out, err = _main(["check", *(str(traces[p]) for p in PROCESSES)])
    assert code == 0 and out.endswith("no violations\n"), err
    merged = json.loads(_main(["check", "--json", *(str(traces[p]) for p in PROCESSES)])[1])
    alone = json.loads(_main(["check", "--json", str(traces["whole"])])[1])
    assert merged["invariants"] == alone["invariants"]


@pytest.mark.parametrize(
    ("left_out", "named"),
    [("pos", "pos:shop-0"), ("phones", "phone:+86"), ("cloud", "cloud sent messages")],
)
def test_a_set_without_a_process_is_refused(
    traces: dict[str, Path], left_out: str, named: str
) -> None:
    given = [str(traces[p]) for p in PROCESSES if p != left_out]
    code, out, err = _main(["check", *given])
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and named in err and "give its process's trace too" in err
    with pytest.raises(TraceError, match="none of the traces given holds an event of its own"):
        merge_traces([Path(p) for p in given])


def test_one_process_trace_alone_is_not_a_merge(traces: dict[str, Path]) -> None:
    code, out, _ = _main(["check", str(traces["pos"])])  # its own promises: every upload acked
    assert code == 0 and "no violations" in out


def test_planted_a_merge_that_trusts_its_input_says_all_clear(
    traces: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reader, "untraced", trust)
    code, out, _ = _main(["check", "--json", str(traces["cloud"]), str(traces["phones"])])
    result = json.loads(out)
    # the bug: no POS in the set, and all clear
    assert code == 0 and result["ok"] and not result["violations"]
