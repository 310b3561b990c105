"""``expsql metrics``: the metric catalog, listed or one entry in full; and the ``--metrics`` option
of every command that reads an experiment."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expsql.cli.app import app
from expsql.errors import ExpsqlError

if TYPE_CHECKING:
    from expsql.catalog import Catalog, CatalogEntry
    from expsql.config import Config

MetricsOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics",
        help="Metric catalog (YAML, TOML or JSON) the experiment names metrics and checks from "
        "[default: config [catalog] metrics]",
    ),
]
ConfigOption = Annotated[Path | None, typer.Option(help="Config file [default: ./expsql.toml]")]


def catalog_for(metrics: Path | None, config: Config | Path | None = None) -> Catalog | None:
    """The catalog ``--metrics`` names, else the one ``[catalog] metrics`` of the config names, else none."""
    from expsql.catalog import load_catalog
    from expsql.config import Config, load_config

    if metrics is not None:
        return load_catalog(metrics)
    settings = config if isinstance(config, Config) else load_config(config)
    path = settings.relative(settings.catalog.metrics)
    return load_catalog(path) if path is not None else None


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
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=100)  # as the scorecard: rich would assume 80 columns when piped
    for kind, group in (("metrics", catalog.metrics), ("checks", catalog.checks)):
        if not group:
            continue
        table = Table(title=f"{kind} of {catalog.origin}", title_justify="left")
        table.add_column("name", no_wrap=True)
        for header in ("description", "owner", "expression"):
            table.add_column(header, overflow="fold")
        for entry in group.values():
            cells = (entry.name, entry.description or "", entry.owner or "", entry.expression)
            table.add_row(*(escape(cell) for cell in cells))
        console.print(table)


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
