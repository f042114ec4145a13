"""Every subcommand has a description and every option a help text (``gtransfer COMMAND --help`` says what it does)."""

from __future__ import annotations

import argparse

from gtransfer.cli.app import build_parser


def _subcommands(parser: argparse.ArgumentParser, prefix: str = "gtransfer"):
    """(name, parser, one-line help) of every subcommand, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub, helps.get(name)
                yield from _subcommands(sub, f"{prefix} {name}")


def test_every_subcommand_has_a_description_and_every_option_a_help_text():
    missing = []
    commands = list(_subcommands(build_parser()))
    assert {"gtransfer finetune", "gtransfer pretrain", "gtransfer sweep", "gtransfer report", "gtransfer corpus"} <= {
        name for name, _, _ in commands}
    for name, parser, summary in commands:
        if not summary:
            missing.append(f"{name}: no one-line help in `gtransfer --help`")
        if not parser.description:
            missing.append(f"{name}: no description in `{name} --help`")
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if action.help == argparse.SUPPRESS:  # hidden aliases (--root, --limit)
                continue
            if not action.help:
                missing.append(f"{name}: {'/'.join(action.option_strings) or action.dest} has no help text")
    assert not missing, "\n".join(missing)
