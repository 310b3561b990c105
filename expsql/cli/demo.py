"""``expsql demo``: sample events in DuckDB, the checkout experiment compiled, run and scored."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from expsql.cli.app import app, stderr
from expsql.cli.run import (
    FormatOption,
    OutputOption,
    RowsChoice,
    ShowSqlOption,
    announce_query,
    choose_format,
    quiet_degenerate_warnings,
    stdout_console,
)
from expsql.server.factory import DEMO_UNITS

DEMO_LOOKBACK_DAYS = 14


class DemoLayout(StrEnum):
    attributed = "attributed"
    exposures = "exposures"


@app.command("demo")
def demo_command(
    path: Annotated[
        Path | None, typer.Option(help="Write the sample database here and keep it [default: a temp dir]")
    ] = None,
    rows: Annotated[RowsChoice, typer.Option(help="Row contract")] = RowsChoice.metrics,
    units: Annotated[int, typer.Option(min=100, help="Users in the sample data")] = DEMO_UNITS,
    fmt: FormatOption = None,
    output: OutputOption = None,
    show_rows: Annotated[
        bool, typer.Option("--show-rows", help="Also print the rows the query returned.")
    ] = False,
    show_sql: ShowSqlOption = False,
    layout: Annotated[
        DemoLayout,
        typer.Option(
            help="attributed: one events table; exposures: an exposure log and raw events, "
            "attributed by the query"
        ),
    ] = DemoLayout.attributed,
) -> None:
    """Generate sample events, run the checkout experiment on them, and print its scorecard."""
    from expsql import runner
    from expsql.demo import demo_experiment, demo_source, write_demo_database
    from expsql.report import RunContext, present

    quiet_degenerate_warnings()
    exposures = layout is DemoLayout.exposures
    # The exposure log's timestamps give each user a history: CUPED adjusts with two weeks of it.
    experiment = demo_experiment(cuped_lookback_days=DEMO_LOOKBACK_DAYS if exposures else None)
    with ExitStack() as cleanup:
        if path is None:
            path = (
                Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="expsql-demo-")))
                / "demo.duckdb"
            )
        database = write_demo_database(path, units=units, layout=layout.value)
        what = "exposures and events" if exposures else "events"
        stderr.print(f"wrote the sample {what} of experiment {experiment.id} to {database}", markup=False)
        dao = runner.connect("duckdb", str(database), {"read_only": True})
        result = runner.run(
            experiment,
            dao,
            dialect="duckdb",
            rows=rows.value,
            source=demo_source() if exposures else None,
            on_query=lambda sql: announce_query(sql, "duckdb", rows.value, str(database), show_sql=show_sql),
        )
    stderr.print(
        f"query took {result.query_seconds:.3f} s and returned {len(result.frame)} rows", markup=False
    )
    console = stdout_console()
    if show_rows:
        # Plain text: the rows are wide, and a wrapped table of numbers is unreadable.
        console.file.write(result.frame.to_string(index=False) + "\n\n")
    context = RunContext("duckdb", rows.value, result.sql, result.query_seconds, origin="sample data")
    chosen = choose_format(fmt, output)
    present(chosen.value, experiment, result.evaluation, context, output=output, console=console)
    if output is not None:
        stderr.print(f"wrote {chosen.value} to {output}", markup=False)
