"""The command-line reference, ``docs/cli.md``, written from the argparse tree itself.

Every command and subcommand, its usage and every option with its help come from the
parsers ``assocsim`` runs, so a new command or option is in the reference as soon as it
is in the parser. Regenerate with ``python -m scenarios._cli._reference > docs/cli.md``;
``tests/scenarios/test_cli_reference.py`` fails while the file is not current.

The usage lines are built here rather than by argparse's formatter, whose wrapping follows
the terminal's width and changes between Python versions: the file must be the same on
every supported Python and terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

import attrs

from scenarios._cli._main import _parser

__all__ = ["REGENERATE", "Command", "cli_reference", "iter_commands", "main"]

REGENERATE = "python -m scenarios._cli._reference > docs/cli.md"


@attrs.frozen
class Command:
    """One command of the tree: its words (``("assocsim", "serve", "cloud")``), its parser
    and the one-line help its parent lists it with (``None`` for the root)."""

    path: tuple[str, ...]
    parser: argparse.ArgumentParser
    summary: str | None

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def visible_actions(self) -> list[argparse.Action]:
        """Its positionals and options as ``--help`` shows them: not ``-h``, not the
        hidden ones (``help=argparse.SUPPRESS``), not the subcommand slot."""
        return [
            action
            for action in self.parser._actions
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
            and action.help != argparse.SUPPRESS
        ]

    def subcommands(self) -> list[Command]:
        found: list[Command] = []
        for action in self.parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                summaries = {choice.dest: choice.help for choice in action._choices_actions}
                for word, sub in action.choices.items():
                    found.append(Command((*self.path, word), sub, summaries.get(word)))
        return found


def iter_commands(parser: argparse.ArgumentParser | None = None) -> Iterator[Command]:
    """Every command of the tree, depth first, the root (``assocsim``) first."""
    pending = [Command(("assocsim",), parser if parser is not None else _parser(), None)]
    while pending:
        command = pending.pop(0)
        yield command
        pending[:0] = command.subcommands()


def cli_reference(parser: argparse.ArgumentParser | None = None) -> str:
    """The Markdown of ``docs/cli.md`` for ``parser`` (default: assocsim's own)."""
    commands = list(iter_commands(parser))
    lines = [
        "# Command-line reference",
        "",
        "Every `assocsim` command, its usage and every option, as `assocsim COMMAND --help`",
        "prints them. Generated from the parsers themselves: do not edit by hand, regenerate",
        f"with `{REGENERATE}` (`tests/scenarios/test_cli_reference.py`",
        "fails while this file is not current). The README shows the commands at work.",
        "",
    ]
    lines += [f"* [`{c.name}`](#{_anchor(c)}): {_text(c.summary)}" for c in commands[1:]]
    for command in commands:
        lines += ["", f"## `{command.name}`", ""]
        description = command.parser.description or command.summary
        if description:
            lines += [_text(description), ""]
        lines += ["```", synopsis(command), "```"]
        actions = command.visible_actions()
        if actions:
            lines += ["", "| argument | what it does |", "| --- | --- |"]
            lines += [f"| `{_cell(_label(a))}` | {_cell(_help(a, command))} |" for a in actions]
        subcommands = command.subcommands()
        if subcommands:
            lines += ["", "| subcommand | what it does |", "| --- | --- |"]
            lines += [
                f"| [`{c.path[-1]}`](#{_anchor(c)}) | {_text(c.summary)} |" for c in subcommands
            ]
    return "\n".join(lines) + "\n"


def synopsis(command: Command) -> str:
    """``assocsim run NAME_OR_PATH [--seed N] [--set KEY=VALUE]... ...`` on one line."""
    words = list(command.path)
    groups = {
        id(action): group
        for group in command.parser._mutually_exclusive_groups
        for action in group._group_actions
    }
    done: set[int] = set()
    for action in command.parser._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            words.append(_arguments(action))
            continue
        group = groups.get(id(action))
        if group is None:
            words.append(_usage(action, bracket=not action.required))
        elif id(group) not in done:
            done.add(id(group))
            shown = [a for a in group._group_actions if a.help != argparse.SUPPRESS]
            inner = " | ".join(_usage(a, bracket=False) for a in shown)
            words.append(f"({inner})" if group.required else f"[{inner}]")
    return " ".join(words)


def _usage(action: argparse.Action, *, bracket: bool) -> str:
    if not action.option_strings:
        return _arguments(action)
    text = action.option_strings[0]
    if action.nargs != 0:
        text += f" {_arguments(action)}"
    if bracket:
        text = f"[{text}]"
    if isinstance(action, argparse._AppendAction | argparse._ExtendAction):
        text += "..."  # repeatable
    return text


def _arguments(action: argparse.Action) -> str:
    """What follows an option (or what a positional is): its metavar, as many as nargs."""
    if action.metavar is not None:
        metavar = action.metavar if isinstance(action.metavar, str) else " ".join(action.metavar)
    elif isinstance(action, argparse._SubParsersAction):
        metavar = "{" + ",".join(action.choices) + "}"
    elif action.choices is not None:
        metavar = "|".join(str(choice) for choice in action.choices)
    else:
        metavar = action.dest.upper() if action.option_strings else action.dest
    nargs = action.nargs
    if nargs is None or nargs == argparse.PARSER:  # PARSER: a subcommand's word
        return metavar
    if nargs == argparse.OPTIONAL:
        return f"[{metavar}]"
    if nargs == argparse.ZERO_OR_MORE:
        return f"[{metavar} ...]"
    if nargs == argparse.ONE_OR_MORE:
        return f"{metavar} [{metavar} ...]"
    if isinstance(nargs, int):
        return " ".join([metavar] * nargs)
    return metavar


def _label(action: argparse.Action) -> str:
    """``-o, --output FILE.svg``, ``--json``, or a positional's name."""
    if not action.option_strings:
        return _arguments(action)
    names = ", ".join(action.option_strings)
    return names if action.nargs == 0 else f"{names} {_arguments(action)}"


def _help(action: argparse.Action, command: Command) -> str:
    """The option's help as ``--help`` prints it (``%(default)s`` expanded, ``%%`` as
    ``%``), marked when the option is required."""
    help_text = action.help or ""
    params: dict[str, Any] = {
        name: value for name, value in vars(action).items() if value is not argparse.SUPPRESS
    }
    params["prog"] = command.parser.prog
    for name, value in list(params.items()):
        if hasattr(value, "__name__"):
            params[name] = value.__name__
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(choice) for choice in params["choices"])
    text = _text(help_text % params)
    return f"(required) {text}" if action.required and action.option_strings else text


def _text(text: str | None) -> str:
    return " ".join((text or "").split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _anchor(command: Command) -> str:
    """GitHub's anchor of the command's heading (``## `assocsim serve add-merchant```)."""
    return "-".join(command.path)


def main() -> None:
    sys.stdout.write(cli_reference())


if __name__ == "__main__":
    main()
