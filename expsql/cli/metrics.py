"""``expsql metrics``: the metric catalog, listed, or one entry in full with the goals it reads."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expsql.cli.app import app
from expsql.cli.catalog import ConfigOption, MetricsOption, catalog_for
from expsql.errors import ExpsqlError

if TYPE_CHECKING:
    from expsql.catalog import CatalogEntry


class CatalogFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("metrics")
def metrics_command(
    name: Annotated[
        str | None, typer.Argument(help="A metric (or check) of the catalog to show in full.")
    ] = None,
    metrics: MetricsOption = None,
    config: ConfigOption = None,
    fmt: Annotated[CatalogFormat, typer.Option("--format", "-f", help="table or json")] = CatalogFormat.table,
) -> None:
    """List the metric catalog's metrics and checks, or show NAME in full with the goals it reads."""
    catalog = catalog_for(metrics, config)
    if catalog is None:
        raise ExpsqlError(
            "no metric catalog: pass --metrics FILE, or set `metrics` in the [catalog] table of expsql.toml"
        )
    if name is not None:
        entry = catalog.get(name)
        if fmt is CatalogFormat.json:
            typer.echo(json.dumps(entry.to_dict(), indent=2))
        else:
            typer.echo(describe(entry))
        return
    entries: list[CatalogEntry] = [*catalog.metrics.values(), *catalog.checks.values()]
    if fmt is CatalogFormat.json:
        typer.echo(json.dumps([entry.to_dict() for entry in entries], indent=2))
        return
    # Piped output is 120 columns wide (rich would assume 80): an expression keeps to its line.
    console = Console(width=max(Console().width, 120))
    for kind, group in (("metrics", catalog.metrics), ("checks", catalog.checks)):
        if not group:
            continue
        table = Table(title=f"{kind} of {catalog.origin}", title_justify="left")
        table.add_column("name", no_wrap=True)
        table.add_column("description", ratio=1)
        table.add_column("owner")
        table.add_column("expression", no_wrap=True)
        for entry in group.values():
            cells = (entry.name, entry.description or "", entry.owner or "", expression_lines(entry))
            table.add_row(*(escape(cell) for cell in cells))
        console.print(table)


def expression_lines(entry: CatalogEntry) -> str:
    """The nominator, then ``/ denominator`` on a line of its own (a check without one: the denominator)."""
    from expsql.grammar.ast import BinaryOp

    definition = entry.definition
    nominator, denominator = definition.nominator_expr, definition.denominator_expr
    if nominator is None:
        return str(denominator)
    top = str(nominator)
    if isinstance(nominator, BinaryOp) and nominator.operator in "+-~":
        top = f"({top})"
    bottom = f"({denominator})" if isinstance(denominator, BinaryOp) else str(denominator)
    return f"{top}\n/ {bottom}"


def describe(entry: CatalogEntry) -> str:
    """One entry as ``key  value`` lines: its definition, defaults and the goals it reads."""
    shown = entry.to_dict()
    lines: list[tuple[str, Any]] = [
        ("id", shown["id"]),
        ("name", shown["display_name"]),
        ("description", shown["description"]),
        ("owner", shown["owner"]),
        ("type", shown["type"]),
        ("nominator", shown["nominator"]),
        ("denominator", shown["denominator"]),
        *shown["defaults"].items(),
        ("reads goals", ", ".join(shown["goals"])),
    ]
    width = max(len(key) for key, _ in lines)
    body = [f"  {key.ljust(width)}  {value}" for key, value in lines if value is not None]
    return "\n".join([f"{entry.name} ({shown['kind']})", *body])
