"""docs/cli.md is the reference generated from the parsers, and is current."""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
from pathlib import Path

from scenarios._cli._reference import REGENERATE, cli_reference, iter_commands, synopsis
from tests.planted.drifted_docs import drifted_parser

ROOT = Path(__file__).resolve().parents[2]
CLI_MD = ROOT / "docs" / "cli.md"


def test_docs_cli_md_is_current() -> None:
    written = CLI_MD.read_text(encoding="utf-8")
    current = cli_reference()
    diff = "".join(
        difflib.unified_diff(
            written.splitlines(keepends=True),
            current.splitlines(keepends=True),
            "docs/cli.md",
            "the parsers",
            n=1,
        )
    )
    assert written == current, (
        f"docs/cli.md is not current: regenerate it with `.venv/bin/{REGENERATE}`\n" + diff[:3000]
    )


def test_the_reference_has_every_command_usage_and_visible_option() -> None:
    text = cli_reference()
    sections = text.split("\n## ")[1:]
    commands = list(iter_commands())
    assert [section.split("`")[1] for section in sections] == [c.name for c in commands]
    for section, command in zip(sections, commands, strict=True):
        assert f"```\n{synopsis(command)}\n```" in section
        for action in command.visible_actions():
            for name in action.option_strings:
                assert name in section, (command.name, name)
            assert " ".join((action.help or "").replace("%%", "%").split())[:20] in section
        assert "--epoch" not in section  # hidden options stay hidden


def test_a_new_option_or_command_changes_the_reference() -> None:
    """What the freshness check relies on: any addition to the tree shows in the text, so
    a stale docs/cli.md differs from it."""
    before = cli_reference(drifted_parser())
    grown = drifted_parser()
    commands = next(a for a in grown._actions if isinstance(a, argparse._SubParsersAction))
    commands.choices["run"].add_argument("--fresh", action="store_true", help="a new option")
    explore = commands.add_parser("explore", help="a new command", description="Explore.")
    explore.add_argument("--depth", type=int, metavar="N", help="how deep")
    after = cli_reference(grown)
    assert after != before
    assert "| `--fresh` | a new option |" in after
    assert "## `assocsim explore`\n\nExplore.\n\n```\nassocsim explore [--depth N]\n```" in after
    assert "* [`assocsim explore`](#assocsim-explore): a new command" in after


def test_the_usage_lines_are_built_from_the_parser() -> None:
    text = cli_reference(drifted_parser())
    assert "assocsim run NAME [--seed SEED] [--json]\n" in text
    assert "assocsim eval [--split time|random]\n" in text
    assert "| `--split time\\|random` | how to split |" in text  # a table cell keeps its |
    assert "Train on 80 %% of the baskets." in text  # descriptions are printed as written


def test_the_regenerate_command_prints_the_reference_whatever_the_terminal_width() -> None:
    # Both widths at once: two processes that only start up and print.
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "scenarios._cli._reference"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": columns},
        )
        for columns in ("40", "200")
    ]
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out == cli_reference()
