"""``expsql run`` and ``compile`` with a winsorized metric: metric rows unless goal rows are asked for."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.conftest import EXAMPLE, Invoke


def winsorized_experiment(directory: Path) -> tuple[Path, dict]:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["metrics"][1]["outlier_upper_percentile"] = 1
    path = directory / "winsorized.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, data["metrics"][1]


def test_run_picks_metric_rows_even_when_configured_for_goal_rows(
    invoke: Invoke, tmp_path: Path, demo_database: Path
) -> None:
    experiment, metric = winsorized_experiment(tmp_path)
    config = tmp_path / "expsql.toml"
    config.write_text('[run]\nrows = "goals"\n')
    outcome = invoke(
        "run", experiment, "--dialect", "duckdb", "--connect", demo_database, "--config", config, "-f", "json"
    )
    assert outcome.code == 0, outcome.err
    assert "running the metrics-rows query" in outcome.err
    plain = invoke("run", EXAMPLE, "--dialect", "duckdb", "--connect", demo_database, "-f", "json")
    means = {}
    for name, result in (("capped", outcome), ("plain", plain)):
        rows = json.loads(result.out)["metrics"]
        means[name] = [r["mean"] for r in rows if r["metric_id"] == metric["id"]]
    assert all(c < p for c, p in zip(means["capped"], means["plain"], strict=True))


def test_asking_for_goal_rows_says_to_use_metric_rows(
    invoke: Invoke, tmp_path: Path, demo_database: Path
) -> None:
    experiment, metric = winsorized_experiment(tmp_path)
    outcome = invoke("run", experiment, "--dialect", "duckdb", "--connect", demo_database, "--rows", "goals")
    assert outcome.code == 2
    assert f"metric {metric['id']} ({metric['name']}) caps outliers" in outcome.err
    assert "Use metric rows (--rows metrics" in outcome.err and "Traceback" not in outcome.err


def test_compile_defaults_to_metric_rows_for_a_winsorized_metric(invoke: Invoke, tmp_path: Path) -> None:
    experiment, _ = winsorized_experiment(tmp_path)
    outcome = invoke("compile", experiment, "--dialect", "postgres")
    assert outcome.code == 0, outcome.err
    assert '"capped_metrics"' in outcome.out and "PERCENTILE_CONT(0.99) WITHIN GROUP" in outcome.out
    assert invoke("compile", experiment, "--rows", "goals").code == 2
