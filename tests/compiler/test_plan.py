"""The plan: goal terms, typed filter values, disjointness and layers of disjoint terms."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from expsql.compiler.layouts import plan_query
from expsql.compiler.terms import disjoint
from expsql.errors import ExperimentError
from expsql.grammar.ast import GoalKey, Number
from expsql.grammar.parse import parse_expression
from expsql.models import Experiment, Filter
from expsql.source import Columns, Source

TYPES = {"product": "string", "price": "integer", "score": "float", "flag": "boolean", "day": "date"}
SOURCE = Source(dimensions=TYPES)


def key(text: str) -> GoalKey:
    """The goal key of ``count(<text>)``: ``key("user.unit.click(product=p_1)")``."""
    return parse_expression(f"count({text})").key  # type: ignore[union-attr]


def experiment(*nominators: str, checks: list[dict] | None = None) -> Experiment:
    return Experiment(
        id="e",
        control_variant="a",
        unit_type="user",
        metrics=[
            {"id": i, "name": str(i), "nominator": n, "denominator": "count(user.global.exposure)"}
            for i, n in enumerate(nominators)
        ],
        checks=checks or [],
    )


def test_unit_and_global_goals_overlap_without_an_agg_type_column() -> None:
    assert disjoint(key("user.unit.click"), key("user.global.click"), TYPES, by_agg_type=False) is False
    source = Source(columns=Columns(agg_type=None))
    plan = plan_query(experiment("count(user.unit.click)", "count(user.global.click)"), source)
    assert len(plan.layers) == 2


def test_plan_lists_each_goal_term_once_exposure_first() -> None:
    plan = plan_query(
        experiment("count(user.unit.click) + value(user.unit.click)", "unique(user.unit.click(product=p_1))"),
        SOURCE,
    )
    assert [str(t) for t in plan.terms] == [
        "user.global.exposure",
        "user.unit.click",
        "user.unit.click(product=p_1)",
    ]
    assert plan.dimension_names == ("product",)


@pytest.mark.parametrize(
    ("dimension", "values"),
    [
        ("price>10", (10,)),
        ("price=1|2", (1, 2)),
        ("product>10", ("10",)),
        ("score<=2.5", (Decimal("2.5"),)),
        ("score>-1e3", (Decimal("-1e3"),)),
        ("flag=true", (True,)),
        ("day>=2024-03-01", (dt.date(2024, 3, 1),)),
    ],
)
def test_filter_values_take_the_declared_column_type(dimension: str, values: tuple) -> None:
    goal = key(f"user.unit.click({dimension})")
    plan = plan_query(experiment(f"count({goal})"), SOURCE)
    assert plan.typed_values(goal.dimensions[0]) == values


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        ("price>ten", "dimension 'price': value 'ten' is not a valid integer"),
        ("price=1|x", "dimension 'price': value 'x' is not a valid integer"),
        ("price=1_000", "dimension 'price': value '1_000' is not a valid integer"),
        ("score>1_0", "dimension 'score': value '1_0' is not a valid float"),
        ("score<1.2.3", "dimension 'score': value '1.2.3' is not a valid float"),
        ("flag=yes", "dimension 'flag': value 'yes' is not a valid boolean"),
        ("day<2024-13-01", "dimension 'day': value '2024-13-01' is not a valid date"),
        ("price=^1", "'=^' (starts with) needs a string column"),
    ],
)
def test_values_that_do_not_fit_the_column_type_are_refused(dimension: str, message: str) -> None:
    with pytest.raises(ExperimentError, match=re.escape(message)):
        plan_query(experiment(f"count(user.unit.click({dimension}))"), SOURCE)


def test_dimension_named_like_a_goal_rows_column_is_refused() -> None:
    with pytest.raises(ExperimentError, match="dimension 'count' has the name of a goal-rows column"):
        plan_query(experiment("count(user.unit.click(count=1))"), SOURCE)


def test_metric_rows_are_metrics_then_checks_then_exposure() -> None:
    checks = [
        {"id": "srm", "name": "SRM", "denominator": "count(user.global.exposure)"},
        {
            "id": 3,
            "name": "EVA",
            "type": "SumRatio",
            "nominator": "count(user.unit.x)",
            "denominator": "count(user.unit.y)",
        },
    ]
    rows = plan_query(experiment("count(user.unit.click)", checks=checks), SOURCE).metric_rows()
    assert [r.metric_id for r in rows] == ["0", "@check:srm", "@check:3", "@exposure"]
    assert rows[1].nominator == Number(0)
    assert str(rows[2].nominator) == "count(user.unit.x)"
    assert str(rows[3].nominator) == str(rows[3].denominator) == "count(user.global.exposure)"


# --- experiment filters ------------------------------------------------------------------------


def filtered(*filters: dict) -> Experiment:
    return experiment("count(user.unit.click(product=p_1))").model_copy(
        update={"filters": [Filter.model_validate(f) for f in filters]}
    )


def test_filters_split_into_goal_and_unit_filters_keeping_their_index() -> None:
    plan = plan_query(
        filtered(
            {"scope": "trigger", "goal": "view"},
            {"scope": "goal", "dimension": "price", "value": [1, 2]},
            {"scope": "exposure", "dimension": "day", "value": ["2024-03-01"]},
        ),
        SOURCE,
    )
    assert [(f.index, f.scope) for f in plan.goal_filters] == [(1, "goal")]
    assert [(f.index, f.scope, f.goal) for f in plan.unit_filters] == [
        (0, "trigger", "view"),
        (2, "exposure", None),
    ]
    assert plan.unit_filters[0].dimension is None
    assert plan.typed_values(plan.goal_filters[0].dimension) == (1, 2)  # type: ignore[arg-type]
    assert plan.typed_values(plan.unit_filters[1].dimension) == (dt.date(2024, 3, 1),)  # type: ignore[arg-type]
    # Filter columns are typed, but are no goal-rows dimension columns.
    assert plan.dimension_names == ("product",)


@pytest.mark.parametrize(
    ("dimension", "values", "typed"),
    [
        ("price", [1, "2", 2], (1, 2)),
        ("product", [1, True, 2.5, "p_1"], ("1", "true", "2.5", "p_1")),
        ("score", [1, 2.5, "3e2"], (Decimal(1), Decimal("2.5"), Decimal("3e2"))),
        ("flag", [True, "false"], (True, False)),
        ("unknown", ["a"], ("a",)),
    ],
)
def test_filter_values_are_typed_by_the_source(dimension: str, values: list, typed: tuple) -> None:
    plan = plan_query(filtered({"scope": "goal", "dimension": dimension, "value": values}), SOURCE)
    assert plan.typed_values(plan.goal_filters[0].dimension) == typed  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"scope": "goal", "dimension": "price", "value": [1, "x"]},
            "filters.1.value (goal filter): dimension 'price': value 'x' is not a valid integer",
        ),
        (
            {"scope": "exposure", "dimension": "price", "value": [2.5]},
            "filters.1.value (exposure filter): dimension 'price': value '2.5'",
        ),
        (
            {"scope": "trigger", "goal": "v", "dimension": "flag", "value": [1]},
            "filters.1.value (trigger filter): dimension 'flag': value '1' is not a valid boolean",
        ),
        ({"scope": "goal", "dimension": "day", "value": ["2024-02-30"]}, "'2024-02-30' is not a valid date"),
        ({"scope": "goal", "dimension": "score", "value": [float("nan")]}, "'nan' is not a valid float"),
    ],
)
def test_filter_values_that_do_not_fit_the_type_name_the_filter(item: dict, message: str) -> None:
    with pytest.raises(ExperimentError, match=re.escape(message)):
        plan_query(filtered({"scope": "trigger", "goal": "view"}, item), SOURCE)
