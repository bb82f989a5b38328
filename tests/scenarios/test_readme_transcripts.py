"""The README's terminal transcripts (```` ``` ```` blocks whose first line is ``$ assocsim
...``) are what the commands print today: each block's commands run in one directory, in
the README's order (a later block reads the trace an earlier one wrote), and each
command's output is compared line by line with the lines under it.

What is compared: stdout, and the stderr lines that begin ``assocsim: error`` or
``assocsim: warning`` (the lines the README shows; a command's hints on stderr are not
shown). In an expected line, ``...`` stands for any text; a line that is only ``...``
for any lines; the wall time of ``assocsim run`` (``ran in 0.29 s``) for any time.

Blocks not run here, each for a reason: the TCP runs (their output is timing), the reco
eval and the reco bench (minutes, and their figures are measured), and the explore
transcript (reflowed for reading; ``tests/scenarios/test_readme_explore.py`` checks its
counterexample lengths). A new transcript must be listed in one of the two."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios._cli._main import main

README = Path(__file__).resolve().parents[2] / "README.md"

RUN = (
    "assocsim run quickstart",
    "assocsim run broken.toml",
    "assocsim run faults --trace faults.jsonl > /dev/null",  # then check
    "assocsim run quickstart --cloud scenarios.variants.early_push:make_cloud --check",
    "assocsim run faults --trace faults.jsonl > /dev/null",  # then find and diagram
    "assocsim find faults.jsonl --mismatch --json",
    "assocsim replay faults.jsonl",
    'assocsim run faults --set \'partition=[{side=["clodu"], start="1h", end="1h5m"}]\'',
    "assocsim run faults --set network.faults_until=0 > /dev/null",
)
"""The first command of each block run here, in README order (two blocks start alike)."""

NOT_RUN = (
    "assocsim explore wrong-id",
    "assocsim run wrong-ids --transport tcp",
    "assocsim run faults --transport tcp",
    "assocsim reco eval",
    ".venv/bin/python bench/reco.py",
)
"""The first command's start of each block not run (reasons in the module doc)."""

BROKEN_TOML = '[cloud]\npush_timeout = "10 parsecs"\n'
"""The scenario the README's one-line error is about."""


def transcripts(text: str) -> list[list[str]]:
    """The README's transcript blocks, each as its lines."""
    blocks = re.findall(r"^```\n(\$ .*?)^```$", text, flags=re.M | re.S)
    return [block.splitlines() for block in blocks]


def commands(block: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Each ``$ command`` of a block with the lines under it."""
    command: str | None = None
    expected: list[str] = []
    for line in block:
        if line.startswith("$ "):
            if command is not None:
                yield command, expected
            command, expected = line[2:], []
        else:
            expected.append(line)
    if command is not None:
        yield command, expected


def run(command: str) -> list[str]:
    """The lines ``command`` shows (see the module doc), run in this process."""
    argv = shlex.split(command)
    quiet = argv[-2:] == [">", "/dev/null"]
    if quiet:
        argv = argv[:-2]
    assert argv[0] == "assocsim", command
    out, err = io.StringIO(), io.StringIO()
    # the exit status is not what a transcript shows: an argparse error's SystemExit too
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        contextlib.suppress(SystemExit),
    ):
        main(argv[1:])
    shown = [] if quiet else out.getvalue().splitlines()
    said = [
        line for line in err.getvalue().splitlines() if re.match(r"assocsim: (error|warning)", line)
    ]
    return shown + said


def _pattern(line: str) -> re.Pattern[str]:
    line = re.sub(r"ran in [0-9.]+ s of wall time", "ran in ... s of wall time", line)
    return re.compile(".*".join(re.escape(part) for part in line.split("...")))


def matches(expected: list[str], actual: list[str]) -> str | None:
    """None if ``actual`` is what ``expected`` shows, else the first difference."""
    if not expected:
        return None if not actual else f"printed {actual[0]!r}, the README shows nothing"
    head, *rest = expected
    if head == "...":
        return min(
            (matches(rest, actual[skip:]) for skip in range(len(actual) + 1)),
            key=lambda found: found is not None,
        )
    if not actual:
        return f"printed nothing where the README shows {head!r}"
    if not _pattern(head).fullmatch(actual[0]):
        return f"printed {actual[0]!r} where the README shows {head!r}"
    return matches(rest, actual[1:])


def _blocks() -> list[list[str]]:
    return transcripts(README.read_text(encoding="utf-8"))


def test_every_transcript_is_run_or_listed_as_not_run() -> None:
    firsts = [block[0][2:] for block in _blocks()]
    run_here = [first for first in firsts if first in RUN]
    assert run_here == list(RUN)  # in README order
    others = [first for first in firsts if first not in RUN]
    assert all(any(first.startswith(start) for start in NOT_RUN) for first in others), others
    assert len(others) == len(NOT_RUN)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> list[str | None]:
    """Every block run here, in order in one directory: the first difference of each
    (None: as printed), in the order of :data:`RUN`."""
    directory = tmp_path_factory.mktemp("readme")
    (directory / "broken.toml").write_text(BROKEN_TOML)
    found: list[str | None] = []
    # A command whose output goes to /dev/null, run again by a later block, writes again
    # what it wrote (runs are byte-identical: tests/actors/test_determinism.py), and the
    # lines it shows then (errors, warnings) are compared as they were shown the first
    # time: not run twice (3 s of CPU: the faults run writing faults.jsonl).
    quiet: dict[str, list[str]] = {}
    with contextlib.chdir(directory):
        for block in _blocks():
            if block[0][2:] not in RUN:
                continue
            found.append(None)
            for command, expected in commands(block):
                if command in quiet:
                    shown = quiet[command]
                else:
                    shown = run(command)
                    if command.endswith("> /dev/null"):
                        quiet[command] = shown
                difference = matches(expected, shown)
                if difference is not None:
                    found[-1] = f"{command}: {difference}"
                    break
    return found


@pytest.mark.parametrize("place", range(len(RUN)), ids=[f"{n}-{c[:30]}" for n, c in enumerate(RUN)])
def test_a_transcript_is_what_its_commands_print(place: int, ran: list[str | None]) -> None:
    assert len(ran) == len(RUN)
    assert ran[place] is None, ran[place]


def test_a_transcript_the_product_does_not_print_fails_saying_where() -> None:
    assert matches(["a", "...", "z"], ["a", "b", "c", "z"]) is None
    assert matches(["x ... y"], ["x 12 y"]) is None
    assert matches(["(ran in 0.29 s of wall time)"], ["(ran in 3.10 s of wall time)"]) is None
    stale = matches(["receipt R0000002"], ["receipt shop-01/R0000001"])
    assert stale == "printed 'receipt shop-01/R0000001' where the README shows 'receipt R0000002'"
    assert matches(["a"], ["a", "b"]) == "printed 'b', the README shows nothing"
