"""``expsql compile``: print the SQL an experiment compiles to, for review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from expsql.cli.app import app
from expsql.cli.catalog import ConfigOption, MetricsOption, catalog_for
from expsql.models import load_experiment
from expsql.source import Source, load_source


@app.command("compile")
def compile_command(
    experiment: Annotated[Path, typer.Argument(help="Experiment file (YAML, TOML or JSON).")],
    dialect: Annotated[str, typer.Option(help="Warehouse dialect, see `expsql dialects`.")] = "duckdb",
    rows: Annotated[
        str | None,
        typer.Option(
            help="Row contract: goals, metrics or units (per-unit goal sums) "
            "[default: goals; metrics when a metric caps outliers]"
        ),
    ] = None,
    source: Annotated[
        Path | None, typer.Option(help="Source file mapping the events table and its columns.")
    ] = None,
    metrics: MetricsOption = None,
    config: ConfigOption = None,
) -> None:
    """Print the one SQL query that pre-aggregates EXPERIMENT for a warehouse.

    Metric rows too long for the warehouse's query-length limit (BigQuery, Snowflake) are printed
    as the fewest statements that fit, each ended by a semicolon: run each and concatenate their
    rows (the first carries the checks' and the exposure's rows).
    """
    from expsql.compiler import compile_statements
    from expsql.runner import choose_rows, script

    definition = load_experiment(experiment, catalog=catalog_for(metrics, config))
    table = load_source(source) if source else Source()
    contract = choose_rows(definition, rows, "goals")  # type: ignore[arg-type]
    statements = compile_statements(definition, dialect=dialect, rows=contract, source=table)
    if len(statements) > 1:
        typer.echo(
            f"-- {len(statements)} statements: the query is longer than {dialect} takes; "
            "run each and concatenate their rows",
            err=True,
        )
    typer.echo(script(statements))
