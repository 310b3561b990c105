"""``expsql metrics`` and the ``--metrics`` catalog of compile, run and evaluate: names resolved,
unknown names and missing catalogs as one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import Invoke

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CATALOG = EXAMPLES / "metrics.yaml"
BY_NAME = EXAMPLES / "checkout-catalog.yaml"


def by_name(directory: Path, *metrics: object) -> Path:
    """The catalog example with ``metrics`` instead of its own."""
    data = yaml.safe_load(BY_NAME.read_text()) | {"metrics": list(metrics)}
    path = directory / "experiment.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_metrics_lists_every_metric_and_check_of_the_catalog(invoke: Invoke) -> None:
    outcome = invoke("metrics", "--metrics", CATALOG)
    assert outcome.code == 0, outcome.err
    for name in ("conversion_rate", "net_revenue_per_user", "srm", "checkout-team", "Share of exposed"):
        assert name in outcome.out
    assert "count(user.global.exposure)" in outcome.out


def test_metrics_name_shows_the_entry_in_full_with_the_goals_it_reads(invoke: Invoke) -> None:
    outcome = invoke("metrics", "net_revenue_per_user", "--metrics", CATALOG)
    assert outcome.code == 0, outcome.err
    assert outcome.out.splitlines() == [
        "net_revenue_per_user (metric)",
        "  id           5",
        "  name         Net revenue per user",
        "  description  Revenue less refunds per exposed user.",
        "  owner        finance",
        "  nominator    value(user.unit.conversion) - value(user.unit.refund)",
        "  denominator  count(user.global.exposure)",
        "  reads        user.unit.conversion",
        "               user.unit.refund",
        "               user.global.exposure",
    ]


TWO_TABLES = """
exposures:
  table: exposures
  columns: {unit_id: unit_id, exp_id: exp_id, variant: variant_id, timestamp: timestamp}
  unit_type: user
events:
- table: orders
  goal: conversion
  columns: {unit_id: user_id, value: amount, count: null, timestamp: ordered_at}
- table: refunds
  goal: refund
  columns: {unit_id: user_id, value: amount, count: null, timestamp: refunded_at}
- table: app_events
  goals: [view, click]
  columns: {unit_id: unit_id, goal: event, value: null, count: null, timestamp: timestamp}
  dimensions: {element: string}
"""


def test_metrics_name_with_a_source_shows_the_table_each_goal_is_read_from(
    invoke: Invoke, tmp_path: Path
) -> None:
    source = tmp_path / "source.yaml"
    source.write_text(TWO_TABLES)
    outcome = invoke("metrics", "net_revenue_per_user", "--metrics", CATALOG, "--source", source)
    assert outcome.code == 0, outcome.err
    assert outcome.out.splitlines()[-3:] == [
        "  reads        user.unit.conversion from orders",
        "               user.unit.refund from refunds",
        "               user.global.exposure from exposures",
    ]
    shown = json.loads(
        invoke("metrics", "buy_button_ctr", "--metrics", CATALOG, "--source", source, "-f", "json").out
    )
    assert shown["tables"] == {
        "user.unit.click(element=button-buy)": "app_events",
        "user.unit.view(element=^button-)": "app_events",
    }
    attributed = invoke("metrics", "srm", "--metrics", CATALOG, "--source", EXAMPLES / "demo-source.yaml")
    assert attributed.out.splitlines()[-1] == "  reads        user.global.exposure from events"


def test_metrics_name_whose_goal_no_table_holds_says_which(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "source.yaml"
    source.write_text(TWO_TABLES.replace("goal: refund", "goal: refunded"))
    outcome = invoke("metrics", "net_revenue_per_user", "--metrics", CATALOG, "--source", source)
    assert outcome.code == 2
    assert "goal 'refund' is in none of the events tables" in outcome.err
    assert "Did you mean 'refunded'?" in outcome.err


def test_metrics_as_json_is_every_entry_as_the_rest_api_lists_it(invoke: Invoke) -> None:
    outcome = invoke("metrics", "--metrics", CATALOG, "--format", "json")
    entries = json.loads(outcome.out)
    assert [entry["name"] for entry in entries][-1] == "srm"
    assert entries[0]["defaults"] == {"minimum_effect": 0.05}


def test_metrics_with_an_unknown_name_says_the_closest(invoke: Invoke) -> None:
    outcome = invoke("metrics", "conversion_rte", "--metrics", CATALOG)
    assert outcome.code == 2
    assert "no metric 'conversion_rte' in the catalog" in outcome.err
    assert "did you mean 'conversion_rate'?" in outcome.err and "Traceback" not in outcome.err


def test_metrics_without_a_catalog_says_where_to_give_one(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = invoke("metrics")
    assert outcome.code == 2
    assert "no metric catalog: pass --metrics FILE, or set `metrics` in the [catalog] table" in outcome.err


def test_compile_resolves_names_as_the_written_out_experiment(invoke: Invoke) -> None:
    named = invoke("compile", BY_NAME, "--metrics", CATALOG, "--rows", "metrics")
    written_out = invoke("compile", EXAMPLES / "checkout.yaml", "--rows", "metrics")
    assert named.code == 0, named.err
    assert named.out == written_out.out


def test_the_catalog_comes_from_expsql_toml_relative_to_it(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "catalog.yaml").write_text(CATALOG.read_text())
    (settings / "expsql.toml").write_text('[catalog]\nmetrics = "catalog.yaml"\n')
    monkeypatch.chdir(tmp_path)
    named = invoke("compile", BY_NAME, "--config", settings / "expsql.toml")
    assert named.code == 0, named.err
    monkeypatch.setenv("EXPSQL_CONFIG", str(settings / "expsql.toml"))
    assert invoke("metrics", "srm").code == 0


@pytest.mark.parametrize("command", ["compile", "run", "evaluate"])
def test_an_unknown_name_is_one_line_and_exit_2_on_every_command(
    invoke: Invoke, tmp_path: Path, demo_database: Path, command: str
) -> None:
    experiment = by_name(tmp_path, "conversion_rate", {"metric": "net_revenue", "minimum_effect": 0.02})
    extra = {
        "compile": [],
        "run": ["--dialect", "duckdb", "--connect", demo_database],
        "evaluate": [tmp_path / "rows.csv"],
    }[command]
    outcome = invoke(command, experiment, *extra, "--metrics", CATALOG)
    assert outcome.code == 2
    assert outcome.err == (
        f"error: {experiment}: metrics.1: no metric 'net_revenue' in the catalog {CATALOG} "
        "(did you mean 'net_revenue_per_user'?)\n"
    )


@pytest.mark.parametrize("command", ["compile", "run", "evaluate"])
def test_a_name_without_a_catalog_says_to_pass_metrics_or_set_it_in_expsql_toml(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_database: Path, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    extra = {
        "compile": [],
        "run": ["--dialect", "duckdb", "--connect", demo_database],
        "evaluate": [tmp_path / "rows.csv"],
    }[command]
    outcome = invoke(command, BY_NAME, *extra)
    assert outcome.code == 2
    assert "metrics.0 names the catalog metric 'conversion_rate' (and 5 more)" in outcome.err
    assert "pass --metrics FILE, set `metrics` in the [catalog] table of expsql.toml" in outcome.err


def test_run_by_name_with_an_override_scores_the_overridden_metric(
    invoke: Invoke, tmp_path: Path, demo_database: Path
) -> None:
    experiment = by_name(tmp_path, {"metric": "conversion_rate", "minimum_effect": 0.5}, "revenue_per_user")
    outcome = invoke(
        "run",
        experiment,
        "--metrics",
        CATALOG,
        "--dialect",
        "duckdb",
        "--connect",
        demo_database,
        "--format",
        "json",
    )
    assert outcome.code == 0, outcome.err
    metrics = json.loads(outcome.out)["metrics"]
    assert {m["metric_id"] for m in metrics} == {1, 2}
    treatments = [m for m in metrics if m["metric_id"] == 1 and m["exp_variant_id"] != "a"]
    assert treatments and {m["minimum_effect"] for m in treatments} == {0.5}


def test_a_broken_catalog_is_an_error_naming_the_file_and_entry(invoke: Invoke, tmp_path: Path) -> None:
    broken = tmp_path / "metrics.yaml"
    broken.write_text(
        "metrics:\n  revenue:\n    nominator: value(user.unit.conversion)\n    minimum_efect: 1\n"
    )
    outcome = invoke("compile", BY_NAME, "--metrics", broken)
    assert outcome.code == 2
    assert f"{broken}: metrics.revenue: unknown catalog metric key 'minimum_efect'" in outcome.err
