"""The typer application every command registers on, and the console errors go to."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="expsql",
    help="Evaluate A/B tests where the data lives: compile metrics to SQL, run, score.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
