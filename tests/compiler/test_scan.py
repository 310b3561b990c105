"""The scan with experiment filters: goal-filter conjuncts, unit-filter events and flags.

Predicates are checked as SQL text where the shape matters and executed on DuckDB over a handful
of hand-written events where the meaning matters (NULL cells, events in no goal term, a trigger
goal that is also a term of another aggregation type).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql, compile_tree
from expsql.compiler.goal_rows import FILTERED_UNIT_TERMS
from expsql.compiler.layouts import plan_query
from expsql.compiler.predicates import goal_filter_condition, unit_filter_predicate
from expsql.compiler.scan import scan_filter, scan_query
from expsql.dialects import available, get
from expsql.dialects.registry import default_registry
from expsql.models import Experiment
from expsql.source import Source

SOURCE = Source(dimensions={"product": "string", "price": "integer", "platform": "string"})
DUCKDB = get("duckdb")
BUILT_IN = [name for name in available() if default_registry().origin(name) == "built-in"]
COLUMNS = ["exp_id", "exp_variant_id", "unit_type", "agg_type", "goal", "unit_id", "cnt", "value", "date"]


def experiment(*filters: dict, nominator: str = "count(user.unit.click)") -> Experiment:
    return Experiment.model_validate(
        {
            "id": "e",
            "control_variant": "a",
            "unit_type": "user",
            "metrics": [
                {"id": 1, "name": "m", "nominator": nominator, "denominator": "count(user.global.exposure)"}
            ],
            "filters": list(filters),
        }
    )


def sql(node: exp.Expression) -> str:
    return node.sql("duckdb")


def test_goal_filter_conditions_exempt_what_the_filter_is_not_about() -> None:
    plan = plan_query(
        experiment(
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_2"]},
            {"scope": "goal", "dimension": "price", "value": [3], "goal": "click"},
            {"scope": "goal", "dimension": "platform", "value": ["web"], "goal": "exposure"},
        ),
        SOURCE,
    )
    everything, click, exposure = (goal_filter_condition(plan, f, DUCKDB) for f in plan.goal_filters)
    assert sql(everything) == (
        """(("events"."unit_type" = 'user' AND "events"."goal" = 'exposure')"""
        """ OR "events"."product" IN ('p_1', 'p_2'))"""
    )
    assert sql(click) == """("events"."goal" <> 'click' OR "events"."price" = 3)"""
    assert sql(exposure) == (
        """("events"."goal" <> 'exposure' OR "events"."unit_type" = 'user' OR "events"."platform" = 'web')"""
    )


def test_unit_filter_predicates_ignore_the_aggregation_type() -> None:
    plan = plan_query(
        experiment(
            {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]},
            {"scope": "trigger", "goal": "view"},
        ),
        SOURCE,
    )
    exposure, trigger = (unit_filter_predicate(plan, f, DUCKDB) for f in plan.unit_filters)
    assert sql(exposure) == (
        """"events"."unit_type" = 'user' AND "events"."goal" = 'exposure'"""
        """ AND "events"."platform" IN ('web', 'ios')"""
    )
    assert sql(trigger) == """"events"."unit_type" = 'user' AND "events"."goal" = 'view'"""


def test_without_unit_filters_the_where_keeps_its_flat_shape() -> None:
    plain = plan_query(experiment(), SOURCE)
    goal_only = plan_query(experiment({"scope": "goal", "dimension": "product", "value": ["p_1"]}), SOURCE)
    assert sql(scan_filter(goal_only, DUCKDB)).startswith(sql(scan_filter(plain, DUCKDB)) + " AND (")
    assert not list(scan_query(goal_only, DUCKDB).find_all(exp.Case))[1:], (
        "no flag column without unit filters"
    )


# --- executed on hand-written events ------------------------------------------------------------

EVENTS = [
    # unit u1: exposed on web, a p_1 click, a view (in no term), a click with a NULL product
    ("e", "a", "user", "global", "exposure", "u1", 1, None, "2024-03-01", None, None, "web"),
    ("e", "a", "user", "unit", "click", "u1", 2, 1.0, "2024-03-01", "p_1", 3, "web"),
    ("e", "a", "user", "unit", "view", "u1", 1, None, "2024-03-02", "p_2", None, None),
    ("e", "a", "user", "unit", "click", "u1", 7, 1.0, "2024-03-02", None, 3, "web"),
    # unit u2: exposed with a NULL platform, a p_2 click, a view with a NULL product
    ("e", "a", "user", "global", "exposure", "u2", 1, None, "2024-03-01", None, None, None),
    ("e", "a", "user", "unit", "click", "u2", 3, 2.0, "2024-03-03", "p_2", 4, "ios"),
    ("e", "a", "user", "unit", "view", "u2", 1, None, "2024-03-03", None, None, "ios"),
    # unit u3: exposed on ios (agg_type unit), a global click of p_1, a unit click of p_1
    ("e", "b", "user", "unit", "exposure", "u3", 1, None, "2024-03-01", None, None, "ios"),
    ("e", "b", "user", "global", "exposure", "u3", 1, None, "2024-03-01", None, None, "android"),
    ("e", "b", "user", "global", "click", "u3", 1, 5.0, "2024-03-04", "p_1", 3, "ios"),
    ("e", "b", "user", "unit", "click", "u3", 5, 5.0, "2024-03-04", "p_1", 3, "ios"),
    # another experiment's trigger event never lets a unit pass
    ("other", "b", "user", "unit", "view", "u3", 1, None, "2024-03-04", "p_2", None, "ios"),
]


@pytest.fixture(scope="module")
def database() -> Iterator[duckdb.DuckDBPyConnection]:
    frame = pd.DataFrame(EVENTS, columns=[*COLUMNS, "product", "price", "platform"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["price"] = frame["price"].astype("Int64")
    connection = duckdb.connect(":memory:")
    connection.register("frame", frame)
    connection.execute("CREATE TABLE events AS SELECT * FROM frame")
    yield connection
    connection.close()


def metric_1(connection: duckdb.DuckDBPyConnection, definition: Experiment) -> dict[str, tuple[int, float]]:
    """``{variant: (n, sum_x)}`` of metric 1 from the compiled metric-rows query."""
    rows = connection.execute(compile_sql(definition, rows="metrics", source=SOURCE)).fetchall()
    return {variant: (n, sum_x) for _, variant, metric, n, sum_x, *_ in rows if metric == "1"}


def goal_counts(
    connection: duckdb.DuckDBPyConnection, definition: Experiment
) -> dict[tuple[str, str], tuple]:
    """``{(variant, goal): (count, count_unique)}`` from the compiled goal-rows query."""
    frame = connection.execute(compile_sql(definition, rows="goals", source=SOURCE)).df()
    return {(r.exp_variant_id, r.goal): (r.count, r.count_unique) for r in frame.itertuples()}


CLICKS_BY_VARIANT = [
    ([], {"a": (2, 12.0), "b": (1, 5.0)}),
    # the NULL-product click of u1 is dropped; exposures (NULL product) are not subject
    ([{"scope": "goal", "dimension": "product", "value": ["p_1", "p_2"]}], {"a": (2, 5.0), "b": (1, 5.0)}),
    (
        [{"scope": "goal", "dimension": "price", "value": [4], "goal": "click"}],
        {"a": (2, 3.0), "b": (1, 0.0)},
    ),
    # u2's exposure has a NULL platform: it never passes
    ([{"scope": "exposure", "dimension": "platform", "value": ["web"]}], {"a": (1, 9.0)}),
    # u3 passes through its exposure event of agg_type unit
    ([{"scope": "exposure", "dimension": "platform", "value": ["ios"]}], {"b": (1, 5.0)}),
    # u3's view belongs to another experiment
    ([{"scope": "trigger", "goal": "view"}], {"a": (2, 12.0)}),
    ([{"scope": "trigger", "goal": "view", "dimension": "product", "value": ["p_2"]}], {"a": (1, 9.0)}),
    # the goal filter drops u2's view (NULL product) before the trigger filter looks, and u1's clicks
    (
        [{"scope": "goal", "dimension": "product", "value": ["p_2"]}, {"scope": "trigger", "goal": "view"}],
        {"a": (1, 0.0)},
    ),
]


@pytest.mark.parametrize(("filters", "expected"), CLICKS_BY_VARIANT)
def test_filters_keep_the_events_and_units_they_should(
    database: duckdb.DuckDBPyConnection, filters: list[dict], expected: dict
) -> None:
    assert metric_1(database, experiment(*filters)) == expected


def test_goal_rows_keep_the_units_that_pass_and_drop_events_in_no_term(
    database: duckdb.DuckDBPyConnection,
) -> None:
    trigger = {"scope": "trigger", "goal": "view", "dimension": "product", "value": ["p_2"]}
    assert goal_counts(database, experiment(trigger)) == {("a", "exposure"): (1, 1), ("a", "click"): (9, 1)}
    tree = compile_tree(experiment(trigger), source=SOURCE)
    assert FILTERED_UNIT_TERMS in {cte.alias for cte in tree.find_all(exp.CTE)}
    assert FILTERED_UNIT_TERMS not in {cte.alias for cte in compile_tree(experiment()).find_all(exp.CTE)}


def test_a_trigger_goal_of_another_aggregation_type_is_no_term_event(
    database: duckdb.DuckDBPyConnection,
) -> None:
    """All terms are global, so without filters the from-events sums need no agg_type test; the
    trigger admits unit-level clicks, which must not count in the global click terms."""
    definition = experiment(
        {"scope": "trigger", "goal": "click"}, nominator="count(user.global.click(product=p_1))"
    )
    definition = definition.model_copy(
        update={
            "metrics": [
                *definition.metrics,
                definition.metrics[0].model_copy(
                    update={"id": 2, "nominator": "count(user.global.click(product=^p_))"}
                ),
            ]
        }
    )
    definition = Experiment.model_validate(definition.model_dump())
    assert len(plan_query(definition, SOURCE).layers) == 2
    assert metric_1(database, definition) == {"a": (2, 0.0), "b": (1, 1.0)}


@pytest.mark.parametrize("rows", ["goals", "metrics"])
@pytest.mark.parametrize("dialect", BUILT_IN)
def test_filters_keep_one_scan_in_every_dialect(dialect: str, rows: str) -> None:
    definition = experiment(
        {"scope": "goal", "dimension": "product", "value": ["p_1"]},
        {"scope": "exposure", "dimension": "platform", "value": ["web"]},
        {"scope": "trigger", "goal": "view"},
    )
    text = compile_sql(definition, dialect=dialect, rows=rows, source=SOURCE)
    (statement,) = sqlglot.parse(text, read=get(dialect).sqlglot_dialect)
    assert statement is not None
    assert len([t for t in statement.find_all(exp.Table) if t.name == "events"]) == 1
