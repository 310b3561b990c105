"""Every command's ``--help`` shows its help as written: no text in square brackets read as markup.

The commands and their options are walked from the typer app itself, so a new command or option
is checked without being listed here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from expsql.cli import _register_commands, app
from tests.cli.conftest import Invoke


def _commands() -> dict[str, Any]:
    """The ``expsql`` commands by name (typer's click command objects)."""
    _register_commands()
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    context = group.context_class(group, info_name="expsql")
    named = {name: group.get_command(context, name) for name in group.list_commands(context)}
    return {name: command for name, command in named.items() if command is not None}


COMMANDS = _commands()


def _flat(text: str) -> str:
    """Text as the help shows it, whatever its wrapping: whitespace runs as one space, and none
    after a hyphen (a line may break there: ``/sample-size-`` ``calculation``)."""
    return re.sub(r"-\s+", "-", " ".join(text.split()))


def _bracketed(text: str) -> list[str]:
    """Every outermost ``[...]`` of ``text``, nested brackets included (``[default: config [run]]``)."""
    found, depth, start = [], 0, 0
    for position, character in enumerate(text):
        if character == "[":
            start = position if depth == 0 else start
            depth += 1
        elif character == "]" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start : position + 1])
    return found


def _help_texts(command: Any) -> list[str]:
    """The command's own help and every argument's and option's declared help."""
    texts = [command.help or ""]
    texts += [getattr(parameter, "help", None) or "" for parameter in command.params]
    return [text for text in texts if text]


def test_the_walk_finds_every_command_and_its_help() -> None:
    assert {"compile", "run", "demo", "dialects", "evaluate", "serve"} <= set(COMMANDS)
    assert all(_help_texts(command) for command in COMMANDS.values())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_every_declared_help_text_intact(invoke: Invoke, name: str) -> None:
    outcome = invoke(name, "--help")
    assert outcome.code == 0, outcome.err
    shown = _flat(outcome.out)
    for text in _help_texts(COMMANDS[name]):
        assert _flat(text) in shown, f"expsql {name} --help lost part of: {text!r}"
        for bracketed in _bracketed(text):
            assert _flat(bracketed) in shown, f"expsql {name} --help lost {bracketed!r}"


def test_help_keeps_the_bracketed_text_markup_ate(invoke: Invoke) -> None:
    shown = _flat(invoke("run", "--help").out)
    assert "[default: config [run]]" in shown
    assert "as of each day of [date_from, date_to], each day its own sequential look" in shown
    assert "[default: metrics; always metrics when a metric caps outliers]" in shown


def test_top_level_help_lists_each_command_with_its_whole_first_sentence(invoke: Invoke) -> None:
    outcome = invoke("--help")
    assert outcome.code == 0, outcome.err
    shown = _flat(outcome.out)
    for name, command in COMMANDS.items():
        first_sentence = command.get_short_help_str(limit=10_000)
        assert f"{name} {_flat(first_sentence)}" in shown
        assert not first_sentence.endswith("...")
