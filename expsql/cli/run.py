"""``expsql run``: compile an experiment, run it on a warehouse, evaluate, present the scorecard."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from expsql.cli.app import app, stderr
from expsql.cli.catalog import ConfigOption, MetricsOption, catalog_for
from expsql.cli.state import (
    AsOfOption,
    FullRefreshOption,
    IncrementalOption,
    LateArrivalOption,
    StateSchemaOption,
    given_state_options,
    parse_as_of,
    state_options,
)
from expsql.errors import ExpsqlError
from expsql.models import Experiment


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


class RowsChoice(StrEnum):
    metrics = "metrics"
    goals = "goals"
    units = "units"


FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format", "-f", help="table, json, csv or html [default: from --output's suffix, else table]"
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file instead of the terminal.")
]
ShowSqlOption = Annotated[bool, typer.Option("--show-sql", help="Print the SQL that runs (to stderr).")]


class InferenceChoice(StrEnum):
    frequentist = "frequentist"
    bayesian = "bayesian"


class SequentialChoice(StrEnum):
    obrien_fleming = "obrien-fleming"
    ep_stats = "ep-stats"
    always_valid = "always-valid"
    none = "none"


InferenceOption = Annotated[
    InferenceChoice | None,
    typer.Option(
        help="frequentist (p-values, confidence intervals) or bayesian (chance to win, risk, credible "
        "interval; no multiple-comparison correction) [default: the experiment's inference]"
    ),
]
PriorOption = Annotated[
    str | None,
    typer.Option(
        "--prior",
        metavar="MEAN,VARIANCE|flat",
        help="Bayesian: a Gaussian prior on the relative effect, e.g. 0,0.01, or flat "
        "[default: the experiment's prior, else flat]",
    ),
]
SequentialOption = Annotated[
    SequentialChoice | None,
    typer.Option(
        help="Frequentist looks: obrien-fleming, ep-stats, always-valid (a confidence sequence, "
        "valid at any look) or none [default: the experiment's sequential, else obrien-fleming]"
    ),
]
TuningOption = Annotated[
    float | None,
    typer.Option(
        "--sequential-tuning",
        help="always-valid: the total sample size at which the sequence is tightest [default: 5000]",
    ),
]
ThresholdOption = Annotated[
    float | None,
    typer.Option(
        "--decision-threshold",
        help="Bayesian: a treatment won above this chance to win, lost below 1 − it [default: 0.95]",
    ),
]


def prior_value(text: str) -> dict[str, object]:
    """``--prior``'s text as the experiment's ``prior``: ``flat``, or ``MEAN,VARIANCE`` (proper)."""
    from expsql.errors import ExperimentError

    if text.strip().lower() == "flat":
        return {"proper": False}
    parts = text.split(",")
    try:
        mean, variance = (float(part) for part in parts)
    except ValueError:
        raise ExperimentError(
            f"--prior {text!r}: give MEAN,VARIANCE of the relative effect (e.g. 0,0.01) or flat"
        ) from None
    return {"mean": mean, "variance": variance, "proper": True}


def with_readout(
    definition: Experiment,
    origin: str,
    *,
    inference: InferenceChoice | None,
    prior: str | None,
    sequential: SequentialChoice | None,
    tuning: float | None,
    threshold: float | None,
) -> Experiment:
    """The experiment with the readout options given on the command line, validated again."""
    options: dict[str, object] = {
        "inference": None if inference is None else inference.value,
        "prior": None if prior is None else prior_value(prior),
        "sequential": None if sequential is None else sequential.value,
        "sequential_tuning": tuning,
        "decision_threshold": threshold,
    }
    given = {name: value for name, value in options.items() if value is not None}
    if not given:
        return definition
    from expsql.models import validate_experiment

    data = definition.model_dump(mode="json", exclude_unset=True) | given
    return validate_experiment(data, origin=f"{origin} with the command line's readout options")


def choose_format(fmt: OutputFormat | None, output: Path | None) -> OutputFormat:
    """The format asked for, else the one the output file's suffix names, else the table."""
    if fmt is not None:
        return fmt
    if output is not None:
        suffix = output.suffix.lower().lstrip(".")
        if suffix in {"htm", "html"}:
            return OutputFormat.html
        if suffix in OutputFormat.__members__:
            return OutputFormat(suffix)
    return OutputFormat.table


def stdout_console() -> Console:
    """The terminal's width, or 100 columns when piped (rich would assume 80)."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=100)
    return console


def quiet_degenerate_warnings() -> None:
    """The scorecard lists degenerate inputs itself; Python's warning lines would repeat them."""
    from expsql.stats import DegenerateInputWarning

    warnings.filterwarnings("ignore", category=DegenerateInputWarning)


def announce_query(sql: str, dialect: str, rows: str, where: str, *, show_sql: bool) -> None:
    """Say on stderr what is about to run (the whole SQL with ``--show-sql``)."""
    lines = sql.count("\n") + 1
    stderr.print(f"running the {rows}-rows query ({lines} lines of {dialect} SQL) on {where}", markup=False)
    if show_sql:
        stderr.print(sql, markup=False, highlight=False)


def with_breakdown(definition: Experiment, breakdown: list[str] | None, origin: str) -> Experiment:
    """The experiment with ``--breakdown``'s dimensions instead of its own, validated again."""
    if not breakdown:
        return definition
    from expsql.models import validate_experiment

    data = definition.model_dump(mode="json", exclude_unset=True) | {"breakdown": breakdown}
    return validate_experiment(data, origin=f"{origin} with --breakdown")


@app.command("run")
def run_command(
    experiment: Annotated[Path, typer.Argument(help="Experiment file (YAML, TOML or JSON).")],
    dialect: Annotated[
        str | None, typer.Option(help="Warehouse dialect, see `expsql dialects` [default: config [run]]")
    ] = None,
    connect: Annotated[
        str | None,
        typer.Option(
            help="DuckDB file, PostgreSQL DSN or Spark master. Passwords belong in environment "
            "variables (PGPASSWORD, or password_env in expsql.toml), never here."
        ),
    ] = None,
    rows: Annotated[
        RowsChoice | None,
        typer.Option(help="Row contract [default: metrics; always metrics when a metric caps outliers]"),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    source: Annotated[Path | None, typer.Option(help="Source file mapping the events table.")] = None,
    metrics: MetricsOption = None,
    config: ConfigOption = None,
    show_sql: ShowSqlOption = False,
    breakdown: Annotated[
        list[str] | None,
        typer.Option(
            "--breakdown",
            help="Break the results down by this exposure attribute (repeatable); replaces the "
            "experiment's breakdown.",
        ),
    ] = None,
    timeline: Annotated[
        bool,
        typer.Option(
            "--timeline",
            help="Also the result as of each day of [date_from, date_to], each day its own sequential "
            "look (timeline: daily in the experiment file does the same).",
        ),
    ] = False,
    inference: InferenceOption = None,
    prior: PriorOption = None,
    sequential: SequentialOption = None,
    sequential_tuning: TuningOption = None,
    decision_threshold: ThresholdOption = None,
    write_results: Annotated[
        str | None,
        typer.Option(
            "--write-results",
            metavar="SCHEMA",
            help="Append the evaluation to the results tables in this schema of the warehouse "
            "[default: config [results] schema].",
        ),
    ] = None,
    incremental: IncrementalOption = None,
    state_schema: StateSchemaOption = None,
    full_refresh: FullRefreshOption = False,
    as_of: AsOfOption = None,
    late_arrival_hours: LateArrivalOption = None,
) -> None:
    """Compile EXPERIMENT, run its query on a warehouse, and print the scorecard."""
    from expsql import runner
    from expsql.config import load_config, reject_inline_password
    from expsql.models import load_experiment
    from expsql.report import RunContext, present
    from expsql.source import load_source
    from expsql.timeline_days import check_timeline

    quiet_degenerate_warnings()
    settings = load_config(config)
    reject_inline_password(connect)
    dialect = dialect or settings.run.dialect
    if dialect is None:
        raise ExpsqlError("say which warehouse: --dialect (or dialect in the [run] table of expsql.toml)")
    target = connect if connect is not None else settings.run.connect
    source_path = source or settings.relative(settings.run.source)
    catalog = catalog_for(metrics, settings)
    definition = with_breakdown(load_experiment(experiment, catalog=catalog), breakdown, str(experiment))
    definition = with_readout(
        definition,
        str(experiment),
        inference=inference,
        prior=prior,
        sequential=sequential,
        tuning=sequential_tuning,
        threshold=decision_threshold,
    )
    if timeline:
        definition = definition.model_copy(update={"timeline": "daily"})
    contract = runner.choose_rows(definition, rows.value if rows is not None else None, settings.run.rows)
    table = load_source(source_path) if source_path else None
    check_timeline(definition, contract)  # before connecting: a timeline needs its window

    state = state_options(
        definition.incremental if incremental is None else incremental,
        state_schema or settings.state.schema_,
        settings.state.late_arrival_hours if late_arrival_hours is None else late_arrival_hours,
        given=given_state_options(state_schema, full_refresh, as_of, late_arrival_hours),
    )
    moment = None if as_of is None else parse_as_of(as_of)
    if state is not None:
        from expsql.dialects import get
        from expsql.incremental.refresh import check_dialect

        check_dialect(get(dialect))  # before connecting: a warehouse that cannot keep a state

    options = settings.connector_options(dialect)
    results_schema = write_results or settings.results.schema_
    if dialect == "duckdb" and results_schema is None and state is None:
        options.setdefault("read_only", True)  # a run only reads; a mistyped path must not create a file
    where = f"{dialect} {target}" if target else dialect
    dao = runner.connect(dialect, target, options)
    started = dt.datetime.now(dt.UTC)

    def announce(sql: str) -> None:
        announce_query(sql, dialect, contract, where, show_sql=show_sql)

    if state is None:
        result = runner.run(
            definition,
            dao,
            dialect=dialect,
            rows=contract,
            source=table,
            on_query=announce,
            close=results_schema is None,
        )
    else:
        from expsql.incremental import refresh

        refreshed = refresh(
            definition,
            dao,
            dialect=dialect,
            state=state,
            source=table,
            rows=contract,
            as_of=moment,
            full_refresh=full_refresh,
            on_query=announce,
            close=results_schema is None,
        )
        stderr.print(refreshed.summary(), markup=False)
        result = refreshed.run
    if results_schema is not None:
        from expsql.dialects import get
        from expsql.results import write_results as write

        try:
            run_id = write(
                result.evaluation,
                dao,
                get(dialect),
                results_schema,
                rows=contract,
                started=started,
                experiment=definition,
            )
        finally:
            dao.close()
        stderr.print(f"wrote run {run_id} to {results_schema}", markup=False)
    stderr.print(
        f"query took {result.query_seconds:.3f} s and returned {len(result.frame)} rows", markup=False
    )
    context = RunContext(dialect, contract, result.sql, result.query_seconds, origin=target)
    chosen = choose_format(fmt, output)
    present(chosen.value, definition, result.evaluation, context, output=output, console=stdout_console())
    if output is not None:
        stderr.print(f"wrote {chosen.value} to {output}", markup=False)
