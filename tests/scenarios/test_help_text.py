"""Help texts and the README's command synopses agree with the parsers; the built-in
scenarios' descriptions agree with their files.

The parser tree is walked (``iter_commands``), so a command or option another change adds
is checked without touching this file. Each check is shown to fail on a planted drift
(``tests/planted/drifted_docs.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from scenarios._cli._main import main
from scenarios._cli._reference import Command, cli_reference, iter_commands
from scenarios._model._scenario import Scenario, builtin_scenarios, load_scenario
from tests.planted.drifted_docs import FAULTS_ONE_PARTITION, README_DRIFTED, drifted_parser

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


# ------------------------------------------------------------------ help texts


def missing_help(commands: Iterable[Command]) -> list[str]:
    """``assocsim serve token --id``: every argument, option and subcommand shown by
    ``--help`` without a help text (hidden ones, ``help=argparse.SUPPRESS``, are fine)."""
    missing: list[str] = []
    for command in commands:
        for action in command.visible_actions():
            name = "/".join(action.option_strings) or str(action.metavar or action.dest)
            if not (action.help or "").strip():
                missing.append(f"{command.name} {name}")
        missing += [f"{sub.name}" for sub in command.subcommands() if not sub.summary]
    return missing


def help_outputs(commands: Iterable[Command]) -> dict[str, str]:
    """What ``--help`` prints for each command."""
    return {command.name: command.parser.format_help() for command in commands}


def test_every_option_argument_and_subcommand_has_help() -> None:
    missing = missing_help(iter_commands())
    assert not missing, f"without help text (add help=...): {', '.join(missing)}"


def test_a_missing_help_text_is_caught() -> None:
    assert missing_help(iter_commands(drifted_parser())) == [
        "assocsim run --seed",
        "assocsim fetch url",
    ]


def test_no_help_output_prints_a_doubled_percent_sign() -> None:
    doubled = [name for name, text in help_outputs(iter_commands()).items() if "%%" in text]
    assert not doubled, f"--help prints '%%' (a description is not %-formatted): {doubled}"
    assert "%%" not in cli_reference()


def test_a_doubled_percent_sign_is_caught() -> None:
    outputs = help_outputs(iter_commands(drifted_parser()))
    assert [name for name, text in outputs.items() if "%%" in text] == ["assocsim eval"]


def test_reco_eval_help_prints_single_percent_signs() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["reco", "eval", "--help"])
    text = " ".join(out.getvalue().split())
    assert "oldest 80 % of a dataset's baskets" in text
    assert "%%" not in text


# ------------------------------------------------------------------ README synopses

_SPAN = re.compile(r"`(assocsim [^`]*)`")
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _spans(line: str) -> list[str]:
    return [span.replace("\\|", "|") for span in _SPAN.findall(line)]


def synopses(readme: str) -> list[str]:
    """The README's command synopses: ``assocsim ...`` code spans in headings and in the
    first cell of table rows (prose and examples mention commands too, but only these
    promise to list a command's options)."""
    found: list[str] = []
    for line in readme.splitlines():
        if line.startswith("#"):
            found += _spans(line)
        elif line.startswith("| `assocsim "):
            found += _spans(line.split(" | ")[0])
    return found


def mentions(readme: str) -> list[str]:
    """Every ``assocsim ...`` the README shows: code spans and ``$ assocsim`` lines."""
    found = [span for line in readme.splitlines() for span in _spans(line)]
    found += [
        line.split("$ ", 1)[1]
        for line in readme.splitlines()
        if re.match(r"^(.* )?\$ assocsim ", line)
    ]
    return found


_SHELL = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "<"}


def _command_line(text: str) -> str:
    """The assocsim command of a shell line: up to the first pipe or redirection outside
    brackets (``[--a | --b]`` is a synopsis's choice, ``| head -n 3`` another command)."""
    depth = 0
    words: list[str] = []
    for word in text.split():
        if depth == 0 and word in _SHELL:
            break
        depth += word.count("[") + word.count("(") - word.count("]") - word.count(")")
        words.append(word)
    return " ".join(words)


def _command_of(text: str, root: Command) -> Command:
    command = root
    for word in text.split()[1:]:
        below = {sub.path[-1]: sub for sub in command.subcommands()}
        if word not in below:
            break
        command = below[word]
    return command


def _names(command: Command) -> set[str]:
    shown = {name for action in command.visible_actions() for name in action.option_strings}
    return shown | {"-h", "--help"}


def unknown_options(text: str, parser: argparse.ArgumentParser | None = None) -> list[str]:
    """Every ``assocsim ...`` the text shows with an option its command does not have."""
    root = next(iter_commands(parser))
    problems: list[str] = []
    for mention in map(_command_line, mentions(text)):
        command = _command_of(mention, root)
        unknown = sorted(set(_OPTION.findall(mention)) - _names(command))
        if unknown:
            problems.append(f"`{mention}`: {command.name} has no {', '.join(unknown)}")
    return problems


def readme_drift(readme: str, parser: argparse.ArgumentParser | None = None) -> list[str]:
    """One line per disagreement between the README's commands and the parser."""
    commands = list(iter_commands(parser))
    root = commands[0]
    listed: dict[str, set[str]] = {}
    for synopsis in synopses(readme):
        command = _command_of(synopsis, root)
        listed.setdefault(command.name, set()).update(_OPTION.findall(synopsis))
    problems: list[str] = []
    for command in commands:
        if command.subcommands() or command is root:
            continue
        if command.name not in listed:
            problems.append(f"`{command.name}` has no synopsis (a heading or a table row)")
            continue
        missing = [
            action.option_strings[-1]
            for action in command.visible_actions()
            if action.option_strings and not listed[command.name] & set(action.option_strings)
        ]
        if missing:
            problems.append(f"`{command.name}`'s synopsis lacks {', '.join(missing)}")
    return problems + unknown_options(readme, parser)


def test_the_readme_synopses_list_every_option_of_every_command() -> None:
    problems = readme_drift(README.read_text(encoding="utf-8"))
    assert not problems, "README.md disagrees with the parsers:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", sorted(path.name for path in (ROOT / "docs").glob("*.md")))
def test_the_docs_show_no_option_a_command_lacks(doc: str) -> None:
    problems = unknown_options((ROOT / "docs" / doc).read_text(encoding="utf-8"))
    assert not problems, f"docs/{doc} disagrees with the parsers:\n" + "\n".join(problems)


def test_readme_drift_is_caught() -> None:
    assert readme_drift(README_DRIFTED, drifted_parser()) == [
        "`assocsim run`'s synopsis lacks --json",
        "`assocsim fetch` has no synopsis (a heading or a table row)",
        "`assocsim run NAME --sed 3`: assocsim run has no --sed",
        "`assocsim eval [--split time|random] [--folds K]`: assocsim eval has no --folds",
    ]


# ------------------------------------------------------------------ scenario descriptions

_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}


def description_drift(description: str, scenario: Scenario) -> list[str]:
    """Each claim of a one-line scenario description that its file contradicts: sizes
    (``3 shops``, ``500 purchases over 8 h``, ``1 in 4 uploads keyed to another phone``)
    and faults (loss, duplication, reordering, partitions, crashes, the healed phase),
    which must be named exactly when the file configures them."""
    text = description.lower()
    network = scenario.network
    problems: list[str] = []

    def claim(ok: bool, what: str) -> None:
        if not ok:
            problems.append(f"{scenario.name}: {what!s}")

    for number, field in re.findall(r"(\d+) (shops|phones|purchases)\b", text):
        claim(
            int(number) == getattr(scenario, field),
            f"{number} {field}: the file has {getattr(scenario, field)}",
        )
    for hours in re.findall(r"over (\d+(?:\.\d+)?) ?h\b", text):
        claim(
            float(hours) * 3600 == scenario.duration,
            f"over {hours} h: the file has {scenario.duration} s",
        )
    for one, many in re.findall(
        r"(\d+) (?:uploads? )?in (\d+)(?: uploads?)? keyed to another", text
    ):
        claim(int(one) / int(many) == scenario.wrong_id_rate, f"{one} in {many} wrong ids")
    for word, rate in (("loss", network.loss), ("duplication", network.duplicate)):
        percent = re.search(rf"(\d+) ?% {word}", text)
        claim((percent is not None or word in text) == (rate > 0), f"{word} named iff configured")
        if percent is not None:
            claim(
                int(percent.group(1)) == round(rate * 100),
                f"{percent.group(0)}: the file has {rate}",
            )
    claim(("reorder" in text) == (network.reorder > 0), "reordering named iff configured")
    claim(
        ("healed" in text) == (network.faults_until is not None),
        "healed phase named iff configured",
    )
    partitions = re.search(r"(\w+) partitions?\b", text)
    said = 0 if partitions is None else _COUNTS.get(partitions.group(1), -1)
    claim(
        said == len(scenario.partition),
        f"partitions: said {said}, the file has {len(scenario.partition)}",
    )
    crashes = re.search(r"(\w+) (cloud )?crash(es)?\b", text)
    said = 0 if crashes is None else _COUNTS.get(crashes.group(1), -1)
    claim(said == len(scenario.crash), f"crashes: said {said}, the file has {len(scenario.crash)}")
    return problems


def readme_scenario_rows(readme: str) -> dict[str, str]:
    """The README's table of built-in scenarios: name -> what it stresses."""
    section = readme.split("### `assocsim scenarios`", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `([\w-]+)` \| (.*) \|$", section, flags=re.MULTILINE))


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_each_builtin_description_agrees_with_its_file(name: str) -> None:
    scenario = load_scenario(name)
    assert description_drift(builtin_scenarios()[name], scenario) == []
    assert (
        description_drift(readme_scenario_rows(README.read_text(encoding="utf-8"))[name], scenario)
        == []
    )


def test_the_readme_lists_exactly_the_builtin_scenarios() -> None:
    assert sorted(readme_scenario_rows(README.read_text(encoding="utf-8"))) == sorted(
        builtin_scenarios()
    )


def test_a_wrong_description_is_caught() -> None:
    faults = load_scenario("faults")
    assert description_drift(FAULTS_ONE_PARTITION, faults) == [
        "faults: partitions: said 1, the file has 2"
    ]
    quickstart = load_scenario("quickstart")
    assert description_drift("4 shops, 50 phones over 8 h; a cloud crash", quickstart) == [
        "quickstart: 4 shops: the file has 3",
        "quickstart: crashes: said 1, the file has 0",
    ]
