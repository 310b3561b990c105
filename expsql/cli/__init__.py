"""The ``expsql`` command line: one module per command, one error boundary for all of them.

Every expsql error is printed as its message (an expression error with its caret) on stderr,
without a traceback, and the process exits with status 2.

Help is plain text (typer's ``rich_markup_mode=None``): with Rich markup, help such as
``[default: config [run]]`` or ``[date_from, date_to]`` would be read as style tags and vanish.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from expsql.cli.app import app, stderr
from expsql.errors import ExpsqlError

USAGE_ERROR = 2


def _register_commands() -> None:
    # Imported for their @app.command() registrations; each module is one command.
    import expsql.cli.commands  # noqa: F401


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
