"""``expsql evaluate`` reads quantile metrics' rows exported from a warehouse (CSV, Parquet, JSON,
NULL quantile columns on the other rows) and scores them like a run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.cli.conftest import EXAMPLE, Invoke
from tests.cli.test_evaluate import export_of


@pytest.fixture
def quantile_example(tmp_path: Path) -> Path:
    """The example experiment with a unit median and an event p90 of order values."""
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["metrics"] += [
        {"id": 6, "name": "revenue per buyer", "nominator": "value(user.unit.conversion)", "quantile": 0.5,
         "ignore_zeros": True},
        {"id": 7, "name": "order value", "nominator": "value(user.unit.conversion)", "quantile": 0.9,
         "quantile_of": "event"},
    ]  # fmt: skip
    path = tmp_path / "quantiles.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_exported_quantile_rows_score_like_a_run(
    invoke: Invoke, demo_database: Path, tmp_path: Path, quantile_example: Path, suffix: str
) -> None:
    frame = export_of(quantile_example, demo_database, "metrics")
    assert frame["quantile_hat"].notna().sum() == 6  # two metrics × three variants
    path = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records")
    evaluated = invoke("evaluate", quantile_example, path, "--format", "json")
    assert evaluated.code == 0, evaluated.err
    ran = invoke("run", quantile_example, "--dialect", "duckdb", "--connect", demo_database, "-f", "json")
    assert ran.code == 0, ran.err
    evaluated_metrics = pd.DataFrame(json.loads(evaluated.out)["metrics"])
    ran_metrics = pd.DataFrame(json.loads(ran.out)["metrics"])
    assert "p90 order value, per event" in set(ran_metrics["metric_name"])
    for column in ("mean", "diff", "p_value", "ci_lower", "ci_upper"):
        assert evaluated_metrics[column].tolist() == pytest.approx(
            ran_metrics[column].tolist(), rel=1e-9, nan_ok=True
        )
