"""``expsql demo``: sample data, the checkout experiment compiled, run on DuckDB and scored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from tests.cli.conftest import Invoke


def test_demo_prints_a_scorecard_with_the_real_lift(invoke: Invoke) -> None:
    outcome = invoke("demo")
    assert outcome.code == 0, outcome.err
    assert "wrote the sample events of experiment checkout-redesign to " in outcome.err
    assert re.search(r"query took \d+\.\d{3} s", outcome.err)
    lines = outcome.out.splitlines()
    assert max(len(line) for line in lines) <= 100
    # The demo's variant b carries a real +12 % conversion lift; nothing else is planted.
    rows = [line for line in lines if re.match(r"^\s*(Conversion rate)?\s+b\s", line)]
    assert rows and "▲ significant" in rows[0]
    temporary = re.search(r"to (\S+demo\.duckdb)", outcome.err)
    assert temporary and not Path(temporary.group(1)).exists()  # the temp dir is cleaned up


def test_demo_keeps_the_database_at_a_given_path(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "sample" / "demo.duckdb"
    outcome = invoke("demo", "--path", path, "--rows", "goals", "--show-rows", "--units", 2_000)
    assert outcome.code == 0, outcome.err
    assert path.exists()
    with duckdb.connect(str(path), read_only=True) as connection:
        experiments = {row[0] for row in connection.execute("SELECT DISTINCT exp_id FROM events").fetchall()}
    assert experiments == {"checkout-redesign", "search-ranking"}
    header = next(line for line in outcome.out.splitlines() if "sum_sqr_value" in line)
    assert header.split()[:5] == ["exp_id", "exp_variant_id", "unit_type", "agg_type", "goal"]
    assert "running the goals-rows query" in outcome.err


def test_demo_as_json_is_standard_json(invoke: Invoke) -> None:
    outcome = invoke("demo", "--format", "json", "--units", 2_000)
    assert outcome.code == 0, outcome.err
    document = json.loads(outcome.out, parse_constant=lambda token: (_ for _ in ()).throw(ValueError(token)))
    assert document["id"] == "checkout-redesign"
    assert {m["exp_variant_id"] for m in document["metrics"]} == {"a", "b", "c"}


def test_demo_of_the_exposures_layout_adjusts_and_reports_multiple_exposures(invoke: Invoke) -> None:
    outcome = invoke("demo", "--layout", "exposures", "--format", "json")
    assert outcome.code == 0, outcome.err
    assert "wrote the sample exposures and events of experiment checkout-redesign" in outcome.err
    document = json.loads(outcome.out)
    treatment = [m for m in document["metrics"] if m["exp_variant_id"] != "a"]
    assert treatment and all(m["cuped"] for m in treatment)
    # The history echoes half of each user's behaviour: about half the variance goes away.
    assert all(0.3 < m["variance_reduction"] < 0.7 for m in treatment)
    conversion_b = next(m for m in treatment if m["metric_id"] == 1 and m["exp_variant_id"] == "b")
    assert conversion_b["p_value"] < 0.01  # the real +12 % lift, found more surely than without CUPED
    excluded = [c for c in document["checks"] if c["check_id"] == "multiple_exposures"]
    shares = {c["variable_id"]: c["value"] for c in excluded}
    assert shares["excluded_share"] < shares["max_share"] and all(excluded[0]["passed"] for _ in excluded)
