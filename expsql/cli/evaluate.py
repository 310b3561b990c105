"""``expsql evaluate``: score rows exported from any warehouse (CSV, Parquet, JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from expsql.cli.app import app, stderr
from expsql.cli.catalog import ConfigOption, MetricsOption, catalog_for
from expsql.cli.run import (
    FormatOption,
    InferenceOption,
    OutputOption,
    PriorOption,
    SequentialOption,
    ThresholdOption,
    TuningOption,
    choose_format,
    quiet_degenerate_warnings,
    stdout_console,
    with_readout,
)


@app.command("evaluate")
def evaluate_command(
    experiment: Annotated[Path, typer.Argument(help="Experiment file (YAML, TOML or JSON).")],
    rows: Annotated[
        Path, typer.Argument(help="Goal, metric, unit or wide rows: .csv, .parquet, .json or .jsonl.")
    ],
    fmt: FormatOption = None,
    output: OutputOption = None,
    inference: InferenceOption = None,
    prior: PriorOption = None,
    sequential: SequentialOption = None,
    sequential_tuning: TuningOption = None,
    decision_threshold: ThresholdOption = None,
    metrics: MetricsOption = None,
    config: ConfigOption = None,
) -> None:
    """Evaluate EXPERIMENT on ROWS its query returned elsewhere, and print the scorecard."""
    from expsql.models import load_experiment
    from expsql.report import RunContext, present
    from expsql.stats import evaluate

    quiet_degenerate_warnings()
    definition = with_readout(
        load_experiment(experiment, catalog=catalog_for(metrics, config)),
        str(experiment),
        inference=inference,
        prior=prior,
        sequential=sequential,
        tuning=sequential_tuning,
        threshold=decision_threshold,
    )
    evaluation = evaluate(definition, rows)
    chosen = choose_format(fmt, output)
    context = RunContext(origin=str(rows))
    present(chosen.value, definition, evaluation, context, output=output, console=stdout_console())
    if output is not None:
        stderr.print(f"wrote {chosen.value} to {output}", markup=False)
