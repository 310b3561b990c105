"""``expsql evaluate`` on unit rows and wide rows read from CSV (text in, numbers checked)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from expsql.models import load_experiment
from expsql.source import Source
from tests.cli.conftest import EXAMPLE, Invoke
from tests.stats.unit_frames import unit_rows

WIDE_EXPERIMENT = {
    "id": "hotel-search",
    "control_variant": "a",
    "unit_type": "visitor",
    "metrics": [
        {"id": 1, "name": "Booking rate", "numerator": "bookings", "denominator": "views"},
        {"id": 2, "name": "Revenue per view", "numerator": "revenue", "denominator": "views"},
    ],
    "checks": [{"id": 1, "name": "SRM", "denominator": "views"}],
}
WIDE_CSV = """experiment,arm,views,bookings,revenue,revenue_squared
hotel-search,a,1000,98,11760.5,3125000.25
hotel-search,b,1012,121,14020.0,3790000.5
"""


def metrics_of(outcome_json: str) -> pd.DataFrame:
    return pd.DataFrame(json.loads(outcome_json)["metrics"])


def test_unit_rows_csv_scores_like_a_metric_rows_run(
    invoke: Invoke, demo_database: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(demo_database), read_only=True) as connection:
        events = connection.execute("SELECT * FROM events").fetch_df()
    path = tmp_path / "units.csv"
    unit_rows(events, load_experiment(EXAMPLE), Source()).to_csv(path, index=False)
    evaluated = invoke("evaluate", EXAMPLE, path, "--format", "json")
    assert evaluated.code == 0, evaluated.err
    assert json.loads(evaluated.out)["contract"] == "unit rows"
    ran = invoke(
        "run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database, "--rows", "metrics", "-f", "json"
    )
    assert ran.code == 0, ran.err
    ours, theirs = metrics_of(evaluated.out), metrics_of(ran.out)
    for column in ("count", "mean", "std", "diff", "p_value", "ci_lower", "ci_upper"):
        assert ours[column].tolist() == pytest.approx(theirs[column].tolist(), rel=1e-9, nan_ok=True)


def test_wide_rows_csv_is_read_directly(invoke: Invoke, tmp_path: Path) -> None:
    experiment = tmp_path / "hotel.yaml"
    experiment.write_text(yaml.safe_dump(WIDE_EXPERIMENT))
    rows = tmp_path / "wide.csv"
    rows.write_text(WIDE_CSV)
    outcome = invoke("evaluate", experiment, rows, "--format", "json")
    assert outcome.code == 0, outcome.err
    result = json.loads(outcome.out)
    assert result["contract"] == "wide rows"
    metrics = metrics_of(outcome.out).set_index(["metric_id", "exp_variant_id"])
    assert metrics.loc[(1, "b"), "mean"] == pytest.approx(121 / 1012)
    assert metrics.loc[(2, "a"), "mean"] == pytest.approx(11760.5 / 1000)
    assert metrics.loc[(2, "a"), "std"] == pytest.approx(((3125000.25 - 11760.5**2 / 1000) / 999) ** 0.5)
    printed = invoke("evaluate", experiment, rows)
    assert printed.code == 0 and "Booking rate" in printed.out


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (WIDE_CSV.replace("1012", "1.012e"), "column 'views' holds a non-numeric value '1.012e' in row 1"),
        (WIDE_CSV.replace("98,", "n/a,"), "column 'bookings' holds a non-numeric value 'n/a' in row 0"),
        ("experiment,views,bookings,revenue\nhotel-search,1000,98,10.0\n", "is read as the variant id"),
    ],
)
def test_bad_wide_csv_is_an_error_without_traceback(
    invoke: Invoke, tmp_path: Path, csv: str, message: str
) -> None:
    experiment = tmp_path / "hotel.yaml"
    experiment.write_text(yaml.safe_dump(WIDE_EXPERIMENT))
    rows = tmp_path / "wide.csv"
    rows.write_text(csv)
    outcome = invoke("evaluate", experiment, rows)
    assert outcome.code == 2, outcome.out
    assert message in outcome.err and "Traceback" not in outcome.err
