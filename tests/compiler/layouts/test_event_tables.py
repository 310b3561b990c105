"""Several events tables in the exposures layout, at compile time: each goal resolves to one
table, each table is read once for its goals and its own columns, and what cannot resolve is a
clear error before any SQL exists. Their rows on every engine: tests/engines/test_event_tables_engines.py."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql
from expsql.errors import ExperimentError
from expsql.models import Experiment
from expsql.source import ExposuresSource, validate_source

EXPOSURE = "count(user.global.exposure)"
PAGES = {
    "table": "page_events",
    "goals": ["click", "view"],
    "columns": {"unit_id": "user_id", "goal": "action", "timestamp": "ts"},
    "dimensions": {"platform": "string"},
}
ORDERS = {
    "table": "shop.orders",
    "goal": "purchase",
    "columns": {"unit_id": "customer_id", "value": "amount", "timestamp": "ordered_at"},
    "dimensions": {"product": "string"},
}
REFUNDS = {"table": "shop.refunds", "goal": "refund", "columns": {"unit_id": "customer_id"}}


def source(*tables: dict[str, Any]) -> ExposuresSource:
    return validate_source({"exposures": {}, "events": list(tables)})  # type: ignore[return-value]


def experiment(*nominators: str, **fields: Any) -> Experiment:
    metrics = [
        {"id": i, "name": f"metric {i}", "nominator": n, "denominator": EXPOSURE}
        for i, n in enumerate(nominators, start=1)
    ]
    base = {"id": "exp-1", "control_variant": "a", "unit_type": "user", "metrics": metrics}
    return Experiment.model_validate({**base, **fields})


def scans(sql: str) -> dict[str, list[exp.Select]]:
    """Each table the SQL reads, with the SELECTs that read it."""
    found: dict[str, list[exp.Select]] = {}
    for table in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table):
        select = table.find_ancestor(exp.Select)
        if table.db or table.name in ("exposures", "page_events"):
            found.setdefault(".".join(p for p in (table.db, table.name) if p), []).append(select)
    return found


def test_each_referenced_table_is_read_once_and_an_unreferenced_one_never() -> None:
    sql = compile_sql(
        experiment("count(user.unit.click(platform=web))", "value(user.unit.purchase(product=p_1))"),
        rows="metrics",
        source=source(PAGES, ORDERS, REFUNDS),
    )
    read = scans(sql)
    assert set(read) == {"exposures", "page_events", "shop.orders"}
    assert all(len(selects) == 1 for selects in read.values())
    (pages,) = read["page_events"]
    assert pages.find(exp.In) is None  # one goal of the table's read: an equality
    assert '"events"."action" = \'click\'' in pages.sql(dialect="duckdb")
    (orders,) = read["shop.orders"]
    text = orders.sql(dialect="duckdb")
    assert "'purchase' AS \"goal\"" in text and '"action"' not in text  # no goal column to test
    assert '"amount" AS "value"' in text and '"platform"' in text  # the other table's dimension: NULL


def test_a_goal_in_no_table_is_refused_naming_the_tables_and_the_closest_goal() -> None:
    with pytest.raises(
        ExperimentError,
        match=r"goal 'purchases' is in none of the events tables.*"
        r"'page_events': click, view; 'shop.orders': purchase\)\. Did you mean 'purchase'\?",
    ):
        compile_sql(experiment("count(user.unit.purchases)"), rows="metrics", source=source(PAGES, ORDERS))


def test_a_goal_in_two_tables_is_refused_naming_both() -> None:
    twice = {**REFUNDS, "goal": None, "goals": ["refund", "click"]}
    with pytest.raises(
        ExperimentError,
        match=r"goal 'click' is held by the events tables 'page_events' and "
        r"'shop.refunds'",
    ):
        compile_sql(experiment("count(user.unit.click)"), rows="metrics", source=source(PAGES, twice))


def test_a_dimension_the_goals_table_does_not_declare_is_refused() -> None:
    with pytest.raises(
        ExperimentError,
        match=r"reads dimension 'product', which the events table "
        r"'page_events' of goal 'click' does not declare \(its dimensions: platform\)",
    ):
        compile_sql(
            experiment("count(user.unit.click(product=p_1))"), rows="metrics", source=source(PAGES, ORDERS)
        )
    filtered = experiment(
        "count(user.unit.click)",
        filters=[{"scope": "goal", "goal": "click", "dimension": "product", "value": ["x"]}],
    )
    with pytest.raises(ExperimentError, match=r"filters\.0 \(goal filter\) reads dimension 'product'"):
        compile_sql(filtered, rows="metrics", source=source(PAGES, ORDERS))


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([PAGES, {"table": "more_events"}], "each says which goals it holds.*'more_events' does not"),
        ([{**ORDERS, "goals": ["purchase"]}], "goal and goals both set"),
        ([{**ORDERS, "goal": "not a goal"}], "'not a goal' is not a goal name"),
        ([], "an empty list"),
        (
            [PAGES, {**ORDERS, "dimensions": {"platform": "integer"}}],
            "dimension 'platform' is string in events.0.dimensions but integer in events.1.dimensions",
        ),
    ],
)
def test_a_bad_list_of_tables_is_refused_naming_the_key(events: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ExperimentError, match=message):
        validate_source({"exposures": {}, "events": events})


def test_one_table_that_names_its_goals_refuses_the_others() -> None:
    with pytest.raises(ExperimentError, match="goal 'click' is in none of the events tables"):
        compile_sql(experiment("count(user.unit.click)"), rows="metrics", source=source(ORDERS))


def test_a_unit_id_of_another_type_is_cast_to_the_logs() -> None:
    typed = {**ORDERS, "unit_id_type": "string"}
    sql = compile_sql(experiment("value(user.unit.purchase)"), rows="metrics", source=source(PAGES, typed))
    assert 'CAST("events"."customer_id" AS TEXT) = "exposed_units"."unit_id"' in sql
