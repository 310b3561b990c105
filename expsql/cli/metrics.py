"""``expsql metrics``: the metric catalog, listed, or one entry in full with the goals it reads and,
given a source, the table each goal is read from."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
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
    from expsql.models import Check, Metric
    from expsql.source import AnySource


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
    source: Annotated[
        Path | None,
        typer.Option(
            help="Source file: NAME shows the table each goal is read from [default: config [run] source]"
        ),
    ] = None,
) -> None:
    """List the metric catalog's metrics and checks, or show NAME in full with the goals it reads."""
    from expsql.config import load_config
    from expsql.source import load_source

    settings = load_config(config)
    catalog = catalog_for(metrics, settings)
    if catalog is None:
        raise ExpsqlError(
            "no metric catalog: pass --metrics FILE, or set `metrics` in the [catalog] table of expsql.toml"
        )
    if name is not None:
        entry = catalog.get(name)
        source_path = source or settings.relative(settings.run.source)
        tables = goal_tables(entry.definition, load_source(source_path)) if source_path else None
        if fmt is CatalogFormat.json:
            shown = entry.to_dict() | ({"tables": tables} if tables is not None else {})
            typer.echo(json.dumps(shown, indent=2))
        else:
            typer.echo(describe(entry, tables))
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


def goal_tables(definition: Metric | Check, source: AnySource) -> dict[str, str]:
    """Each goal ``definition`` reads (:func:`~expsql.catalog.metric_goals`) and the table the query
    reads it from: the attributed events table, or in the exposures layout the exposure log (the
    exposure goal) and the events table each goal resolves to.

    :raises ExperimentError: a goal that no events table holds, or several do.
    """
    from expsql.catalog import metric_goals
    from expsql.compiler.layouts.event_tables import table_reads
    from expsql.compiler.relation import EXPOSURE
    from expsql.models import Check, Experiment
    from expsql.source import ExposuresSource

    keys = metric_goals(definition)
    if not isinstance(source, ExposuresSource):
        return {str(key): source.table for key in keys}
    # The compiler resolves goals to tables for an experiment: one holding this metric or check alone.
    kind = "checks" if isinstance(definition, Check) else "metrics"
    fields = {"id": "catalog", "control_variant": "a", "unit_type": keys[0].unit_type, kind: [definition]}
    probe = Experiment.model_validate(fields)
    read_from = {goal: read.table.table for read in table_reads(probe, source) for goal in read.goals}
    return {str(key): source.exposures.table if key.goal == EXPOSURE else read_from[key.goal] for key in keys}


def describe(entry: CatalogEntry, tables: dict[str, str] | None = None) -> str:
    """One entry as ``key  value`` lines: its definition, defaults and the goals it reads, each with
    its table when ``tables`` (:func:`goal_tables`) are given."""
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
    ]
    goals = shown["goals"] if tables is None else [f"{goal} from {tables[goal]}" for goal in shown["goals"]]
    lines += [("reads" if index == 0 else "", goal) for index, goal in enumerate(goals)]
    width = max(len(key) for key, _ in lines)
    body = [f"  {key.ljust(width)}  {value}" for key, value in lines if value is not None]
    return "\n".join([f"{entry.name} ({shown['kind']})", *body])
