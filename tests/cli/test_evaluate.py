"""``expsql evaluate``: rows exported from a warehouse (CSV, Parquet, JSON) scored like a run."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.models import load_experiment
from tests.cli.conftest import EXAMPLE, Invoke, broken_experiment


def export(demo_database: Path, rows: str) -> pd.DataFrame:
    """What a warehouse hands back for the example experiment: the compiled query's rows."""
    return export_of(EXAMPLE, demo_database, rows)


def export_of(experiment: Path, demo_database: Path, rows: str) -> pd.DataFrame:
    """What a warehouse hands back for an experiment file: the compiled query's rows."""
    sql = compile_sql(load_experiment(experiment), dialect="duckdb", rows=rows)
    with duckdb.connect(str(demo_database), read_only=True) as connection:
        return connection.execute(sql).fetch_df()


@pytest.mark.parametrize("rows", ["metrics", "goals"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_exported_rows_score_like_a_run(
    invoke: Invoke, demo_database: Path, tmp_path: Path, rows: str, suffix: str
) -> None:
    frame = export(demo_database, rows)
    path = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records")
    evaluated = invoke("evaluate", EXAMPLE, path, "--format", "json")
    assert evaluated.code == 0, evaluated.err
    ran = invoke(
        "run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database, "--rows", rows, "-f", "json"
    )
    assert ran.code == 0, ran.err
    evaluated_metrics = pd.DataFrame(json.loads(evaluated.out)["metrics"])
    ran_metrics = pd.DataFrame(json.loads(ran.out)["metrics"])
    for column in ("mean", "diff", "p_value", "ci_lower", "ci_upper"):
        assert evaluated_metrics[column].tolist() == pytest.approx(
            ran_metrics[column].tolist(), rel=1e-9, nan_ok=True
        )


def test_evaluate_prints_the_scorecard_and_names_the_rows_file(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    export(demo_database, "metrics").to_csv(path, index=False)
    outcome = invoke("evaluate", EXAMPLE, path)
    assert outcome.code == 0, outcome.err
    assert f"source: {path}" in outcome.out.replace("\n", "") or str(path.name) in outcome.out
    assert "Conversion rate" in outcome.out


def test_evaluate_html_report_from_an_export(invoke: Invoke, demo_database: Path, tmp_path: Path) -> None:
    rows = tmp_path / "export.parquet"
    export(demo_database, "metrics").to_parquet(rows)
    report = tmp_path / "report.html"
    outcome = invoke("evaluate", EXAMPLE, rows, "--output", report)
    assert outcome.code == 0, outcome.err
    document = report.read_text()
    assert document.count("<svg") == 5 and "Rows from" in document


def test_rows_that_fit_no_contract_are_an_error(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("exp_id,exp_variant_id,clicks\ncheckout-redesign,a,3\n")
    outcome = invoke("evaluate", EXAMPLE, path)
    assert outcome.code == 2 and "error:" in outcome.err and "Traceback" not in outcome.err


def test_missing_rows_file_is_an_error(invoke: Invoke, tmp_path: Path) -> None:
    outcome = invoke("evaluate", EXAMPLE, tmp_path / "nowhere.csv")
    assert outcome.code == 2 and "no such file" in outcome.err


def test_malformed_expression_prints_the_caret_and_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("exp_id\n")
    outcome = invoke("evaluate", broken_experiment(tmp_path), rows)
    assert outcome.code == 2
    assert "metric 2 nominator: unexpected end of expression" in outcome.err and "^" in outcome.err
    assert "Traceback" not in outcome.err
