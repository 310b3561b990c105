"""The ``expsql`` command line: one module per command, one error boundary for all of them.

Every expsql error is printed as its message (an expression error with its caret) on stderr,
without a traceback, and the process exits with status 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from expsql.errors import ExpsqlError

app = typer.Typer(
    name="expsql",
    help="Evaluate A/B tests where the data lives: compile metrics to SQL, run, score.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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
