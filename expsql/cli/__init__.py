"""The ``expsql`` command line: one module per command, one error boundary for all of them.

Every expsql error is printed as its message (an expression error with its caret) on stderr,
without a traceback, and the process exits with status 2.

Help is plain text (typer's ``rich_markup_mode=None``): with Rich markup, help such as
``[default: config [run]]`` or ``[date_from, date_to]`` would be read as style tags and vanish.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from expsql.errors import ExpsqlError


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

USAGE_ERROR = 2


def _register_commands() -> None:
    # Imported for their @app.command() registrations; each module is one command.
    from expsql.cli import commands  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``expsql`` script."""
    _register_commands()
    try:
        # The name usage lines show, however the entry point was started (script, -m, a test).
        app(args=argv, prog_name="expsql", standalone_mode=True)
    except ExpsqlError as error:
        # The message is text, not markup: "[connectors.postgres]" must print as written.
        stderr.print(f"[bold red]error:[/] {escape(str(error))}", markup=True)
        sys.exit(USAGE_ERROR)
