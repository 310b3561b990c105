"""Shape of the metric-rows query: one scan, per-unit expressions computed once, safe division."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql, compile_tree
from expsql.contracts import EXPOSURE_ROW_ID, METRIC_KEYS, METRIC_VALUES
from expsql.dialects import available, get
from expsql.dialects.registry import default_registry
from expsql.models import Experiment

EXPOSURE = "count(user.global.exposure)"

#: The dialects that ship with expsql; an installed third-party plugin does not change the goldens.
BUILT_IN = [name for name in available() if default_registry().origin(name) == "built-in"]


def experiment(*metrics: tuple[str, str], **fields: object) -> Experiment:
    definition = {"id": "e", "control_variant": "a", "unit_type": "user", **fields}
    definition["metrics"] = [
        {"id": f"m{i}", "name": str(i), "nominator": n, "denominator": d} for i, (n, d) in enumerate(metrics)
    ]
    return Experiment.model_validate(definition)


def cte(tree: exp.Expression, name: str) -> exp.Select:
    (found,) = [c for c in tree.find_all(exp.CTE) if c.alias == name]
    return found.this


@pytest.mark.parametrize("dialect", BUILT_IN)
@pytest.mark.parametrize("metrics", [1, 10, 100])
def test_one_scan_of_the_events_table_however_many_metrics(dialect: str, metrics: int) -> None:
    definition = experiment(
        *[(f"value(user.unit.g{i % 5}(product=p_{i}))", EXPOSURE) for i in range(metrics)]
    )
    sql = compile_sql(definition, dialect=dialect, rows="metrics")
    statements = sqlglot.parse(sql, read=get(dialect).sqlglot_dialect)
    assert len(statements) == 1
    assert len([t for t in statements[0].find_all(exp.Table) if t.name == "events"]) == 1


def test_each_distinct_per_unit_expression_is_computed_once() -> None:
    definition = experiment(*[(f"count(user.unit.click(product=p_{i})) + 1", EXPOSURE) for i in range(10)])
    tree = compile_tree(definition, rows="metrics")
    computed = cte(tree, "unit_metrics").expressions
    # ten compound nominators; the shared denominator (also the exposure row) is a bare column
    assert isinstance(computed[0], exp.Star) and len(computed) == 1 + 10
    sums = [s.alias for s in cte(tree, "variant_sums").expressions if s.alias.startswith("sum_")]
    assert len([name for name in sums if name.count("_") == 1]) == 11


def test_one_output_row_per_metric_check_and_exposure() -> None:
    checks = [{"id": "srm", "name": "SRM", "denominator": EXPOSURE}]
    tree = compile_tree(experiment(("count(user.unit.a)", EXPOSURE), checks=checks), rows="metrics")
    assert tree.named_selects == [*METRIC_KEYS, *METRIC_VALUES]
    (rows,) = tree.find_all(exp.Values)
    ids = [row.expressions[1].this for row in rows.expressions]
    assert ids == ["m0", "@check:srm", EXPOSURE_ROW_ID]


def test_division_gives_zero_for_a_unit_whose_denominator_is_zero() -> None:
    tree = compile_tree(experiment(("count(user.unit.a) / count(user.unit.b)", EXPOSURE)), rows="metrics")
    (division,) = cte(tree, "unit_metrics").find_all(exp.Div)
    assert isinstance(division.expression, exp.Nullif)
    assert isinstance(division.parent, exp.Coalesce)
    assert division.args.get("typed") is False


def test_units_are_those_with_an_exposure_event() -> None:
    having = cte(compile_tree(experiment(("count(user.unit.a)", EXPOSURE)), rows="metrics"), "unit_goals")
    condition = having.args["having"].this
    assert isinstance(condition, exp.GT) and isinstance(condition.this, exp.Count)


@pytest.mark.parametrize(
    ("expression", "sql"),
    [
        (
            "count(user.unit.a) - (count(user.unit.b) - count(user.unit.c))",
            '"count_1" - ("count_2" - "count_3")',
        ),
        ("(count(user.unit.a) + count(user.unit.b)) * 2", '("count_1" + "count_2") * 2'),
        ("-(count(user.unit.a) ~ count(user.unit.b))", '-("count_1" - "count_2")'),
        ("unique(user.unit.a) * 0.5", 'CASE WHEN "count_1" > 0 THEN 1 ELSE 0 END * 0.5'),
    ],
)
def test_per_unit_expressions_keep_the_metric_shape(expression: str, sql: str) -> None:
    unit_metrics = cte(
        compile_tree(experiment((expression, "count(user.unit.z) + 1")), rows="metrics"), "unit_metrics"
    )
    first = unit_metrics.expressions[1].this
    if isinstance(first, exp.Cast):
        first = first.this
    assert first.sql("duckdb") == sql


@pytest.mark.parametrize(
    ("expression", "cast"),
    [
        ("count(user.unit.a) * 2", False),
        ("unique(user.unit.a) + value(user.unit.b)", False),
        ("unique(user.unit.a)", True),
        ("2", True),
    ],
)
def test_per_unit_expressions_are_doubles(expression: str, cast: bool) -> None:
    tree = compile_tree(experiment(("count(user.unit.z)", expression)), rows="metrics")
    (computed,) = cte(tree, "unit_metrics").expressions[1:]
    assert isinstance(computed.this, exp.Cast) is cast
    scan = cte(tree, "experiment_events")
    assert [p.this.to.this for p in scan.expressions[2:4]] == [exp.DataType.Type.DOUBLE] * 2


def test_overlapping_terms_are_summed_from_coded_events_without_repeating_rows() -> None:
    definition = experiment(
        ("count(user.unit.click(product=p_1))", EXPOSURE),
        ("count(user.unit.click(product=^p_))", EXPOSURE),
        ("count(user.unit.view(product=^p_))", EXPOSURE),
    )
    tree = compile_tree(definition, rows="metrics")
    unit_goals = cte(tree, "unit_goals")
    # the layer expansion of the goal rows would be a second VALUES; only the metric rows' one is left
    assert len(list(tree.find_all(exp.Values))) == 1
    assert [t.name for t in unit_goals.find_all(exp.Table)] == ["experiment_events"]
    scan = cte(tree, "experiment_events")
    filters = {s.alias: s.this.sql() for s in scan.expressions if s.alias.startswith("term_filter_")}
    # each distinct dimension filter once, shared by the terms of two goals
    assert sorted(filters.values()) == sorted(
        ['"events"."product" = \'p_1\'', 'STARTS_WITH("events"."product", \'p_\')']
    )
    sums = {s.alias: s.sql() for s in unit_goals.expressions if s.alias.startswith("count_")}
    assert "term_goal_1" in sums["count_2"] and "events" not in sums["count_2"]
    assert "ELSE" not in sums["count_2"] and sums["count_2"].startswith("COALESCE(SUM(")
