"""``expsql results``: the runs written back to a results schema, or one run's scorecard from its tables."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from expsql.cli.app import app, stderr
from expsql.cli.catalog import ConfigOption
from expsql.cli.run import FormatOption, choose_format, stdout_console
from expsql.errors import ExpsqlError


@app.command("results")
def results_command(
    run_id: Annotated[
        str | None, typer.Argument(help="Print this run's scorecard; without it, list the runs.")
    ] = None,
    dialect: Annotated[str | None, typer.Option(help="Warehouse dialect [default: config [run]]")] = None,
    connect: Annotated[str | None, typer.Option(help="Where the results are [default: config [run]]")] = None,
    schema: Annotated[str | None, typer.Option(help="The results schema [default: config [results]]")] = None,
    fmt: FormatOption = None,
    config: ConfigOption = None,
) -> None:
    """List the runs in a results schema (latest first), or print RUN_ID's scorecard from the tables."""
    from expsql import runner
    from expsql.config import load_config, reject_inline_password
    from expsql.dialects import get
    from expsql.report import present
    from expsql.results import list_runs, read_evaluation, read_experiment

    settings = load_config(config)
    reject_inline_password(connect)
    dialect = dialect or settings.run.dialect
    schema = schema or settings.results.schema_
    if dialect is None or schema is None:
        raise ExpsqlError(
            "say where the results are: --dialect and --schema (or [run] and [results] in expsql.toml)"
        )
    options = settings.connector_options(dialect)
    if dialect == "duckdb":
        options.setdefault("read_only", True)
    dao = runner.connect(dialect, connect if connect is not None else settings.run.connect, options)
    try:
        if run_id is None:
            runs = list_runs(dao, get(dialect), schema)
            table = Table(title=f"runs in {schema}", title_justify="left")
            for column in runs.columns:
                table.add_column(str(column), no_wrap=column == "run_id", overflow="fold")
            for row in runs.itertuples(index=False):
                table.add_row(*(str(value) for value in row))
            stdout_console().print(table)
            return
        evaluation = read_evaluation(dao, get(dialect), schema, run_id)
        experiment = read_experiment(dao, get(dialect), schema, run_id)
    finally:
        dao.close()
    chosen = choose_format(fmt, None)
    present(chosen.value, experiment, evaluation, None, console=stdout_console())
    stderr.print(f"run {run_id} of {evaluation.experiment_id}", markup=False)
