"""``expsql run`` and ``expsql evaluate`` with the readout options: ``--inference bayesian`` prints
"Chance to win" and "Risk" instead of the p-value, ``--sequential always-valid`` the confidence
sequence; the experiment file's fields do the same; a bad combination is a message and exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from expsql.models import load_experiment
from expsql.stats import evaluate
from tests.cli.conftest import EXAMPLE, Invoke, write_experiment


def _number(value: float | None) -> float:
    return math.nan if value is None else value


def run(invoke: Invoke, database: Path, experiment: Path, *extra: str):  # type: ignore[no-untyped-def]
    return invoke("run", experiment, "--dialect", "duckdb", "--connect", database, *extra)


def test_bayesian_scorecard_shows_chance_to_win_and_risk_instead_of_p_values(
    invoke: Invoke, demo_database: Path
) -> None:
    outcome = run(invoke, demo_database, EXAMPLE, "--inference", "bayesian")
    assert outcome.code == 0, outcome.err
    assert "Chance to win" in outcome.out and "Risk" in outcome.out
    assert "p-value" not in outcome.out
    assert "no multiple-comparison correction" in outcome.out
    assert "▲ won" in outcome.out  # the demo's b carries a real conversion lift


def test_the_flags_equal_the_experiment_files_fields(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    prior = {"mean": 0.0, "variance": 0.01, "proper": True}
    written = write_experiment(tmp_path, inference="bayesian", prior=prior, decision_threshold=0.9)
    by_file = run(invoke, demo_database, written, "-f", "json")
    by_flags = run(
        invoke, demo_database, EXAMPLE, "-f", "json", "--inference", "bayesian", "--prior", "0,0.01",
        "--decision-threshold", "0.9",
    )  # fmt: skip
    assert by_file.code == 0 and by_flags.code == 0, by_file.err + by_flags.err
    file_body, flag_body = json.loads(by_file.out), json.loads(by_flags.out)
    # Two runs of one query: DuckDB's parallel sums may differ in the last bits.
    for column in ("diff", "ci_lower", "ci_upper", "chance_to_win", "risk_control", "risk_treatment"):
        by_file_column = [_number(row[column]) for row in file_body["metrics"]]
        by_flag_column = [_number(row[column]) for row in flag_body["metrics"]]
        assert by_file_column == pytest.approx(by_flag_column, rel=1e-9, nan_ok=True), column
    assert [row["significant"] for row in file_body["metrics"]] == [
        row["significant"] for row in flag_body["metrics"]
    ]
    assert flag_body["inference"] == "bayesian" and flag_body["prior"] == prior
    assert flag_body["decision_threshold"] == 0.9
    assert all(row["p_value"] is None for row in flag_body["metrics"])


def test_always_valid_prints_the_sequence_and_writes_it_to_csv(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    outcome = run(
        invoke, demo_database, EXAMPLE, "--sequential", "always-valid", "--sequential-tuning", "20000"
    )
    assert outcome.code == 0, outcome.err
    assert "always-valid confidence sequence" in outcome.out and "CS (relative)" in outcome.out
    output = tmp_path / "scores.csv"
    written = run(invoke, demo_database, EXAMPLE, "--sequential", "always-valid", "--output", output)
    assert written.code == 0, written.err
    header = output.read_text().splitlines()[0].split(",")
    assert header[-3:] == ["chance_to_win", "risk_control", "risk_treatment"]


def test_evaluate_takes_the_same_flags(invoke: Invoke, demo_database: Path, tmp_path: Path) -> None:
    import duckdb

    from expsql.compiler import compile_sql

    sql = compile_sql(load_experiment(EXAMPLE), dialect="duckdb", rows="metrics")
    with duckdb.connect(str(demo_database), read_only=True) as connection:
        frame = connection.execute(sql).fetch_df()
    rows = tmp_path / "rows.csv"
    frame.to_csv(rows, index=False)
    outcome = invoke("evaluate", EXAMPLE, rows, "-f", "json", "--inference", "bayesian")
    assert outcome.code == 0, outcome.err
    body = json.loads(outcome.out)
    expected = evaluate(load_experiment(EXAMPLE), rows, inference="bayesian").metrics
    assert [_number(row["chance_to_win"]) for row in body["metrics"]] == pytest.approx(
        expected["chance_to_win"].tolist(), nan_ok=True
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--inference", "bayesian", "--sequential", "always-valid"), "a Bayesian readout has none"),
        (("--prior", "zero"), "give MEAN,VARIANCE of the relative effect"),
        (("--prior", "0,-1"), "prior.variance"),
        (("--decision-threshold", "0.3"), "decision_threshold"),
    ],
)
def test_a_bad_readout_option_is_a_message_and_exit_2(
    invoke: Invoke, demo_database: Path, flags: tuple[str, ...], message: str
) -> None:
    outcome = run(invoke, demo_database, EXAMPLE, *flags)
    assert outcome.code == 2
    assert message in outcome.err
    assert "Traceback" not in outcome.err + outcome.out
