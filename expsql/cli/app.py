"""The typer application every command registers on, and the console errors go to.

Help is plain text (``rich_markup_mode=None``): option help holds square brackets
(``[default: config]``, ``[date_from, date_to]``) that Rich markup would swallow.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup


class CommandGroup(TyperGroup):
    """The ``expsql`` group: its help lists each command with its whole first sentence (click would
    cut it to fit one line of an 80-column terminal)."""

    # Any: typer's click context and formatter (typer vendors click as a private module).
    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name="expsql",
    cls=CommandGroup,
    help="Evaluate A/B tests where the data lives: compile metrics to SQL, run, score.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
