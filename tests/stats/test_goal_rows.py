"""ep-stats' expression semantics on goal rows: columns per function, squares, ~, dimensions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql.grammar.parse import parse_expression
from expsql.models import Experiment
from expsql.stats.goal_rows import GoalTotals, evaluate_all, metric_sums, sum_goal_rows
from expsql.stats.rows import validate
from tests.stats.frames import experiment, exposure_row, goal_row, metric

VARIANTS = ["a", "b"]


def _totals(metrics: list[dict[str, Any]], rows: list[dict[str, Any]]) -> tuple[Experiment, GoalTotals]:
    definition = experiment(metrics)
    clean = validate(pd.DataFrame(rows), "goal rows", definition, definition.dimension_names())
    return definition, sum_goal_rows(clean, definition, VARIANTS)


BASE = [
    exposure_row("a", 100),
    exposure_row("b", 80),
    goal_row("a", "order", count=30, sum_sqr_count=50, sum_value=300, sum_sqr_value=9000, count_unique=20),
    goal_row("b", "order", count=40, sum_sqr_count=70, sum_value=500, sum_sqr_value=16000, count_unique=25),
    goal_row("a", "refund", count=3, sum_sqr_count=3, sum_value=30, sum_sqr_value=400, count_unique=3),
]


@pytest.mark.parametrize(
    ("text", "value", "square"),
    [
        ("count(user.unit.order)", [30, 40], [50, 70]),
        ("value(user.unit.order)", [300, 500], [9000, 16000]),
        ("unique(user.unit.order)", [20, 25], [20, 25]),
        ("2 * count(user.unit.order)", [60, 80], [200, 280]),
        ("count(user.unit.order) + 5", [35, 45], [75, 95]),
        ("value(user.unit.order) - value(user.unit.refund)", [270, 500], [8600, 16000]),
        ("value(user.unit.order) ~ value(user.unit.refund)", [270, 500], [9400, 16000]),
        ("-1 * value(user.unit.refund)", [-30, 0], [400, 0]),
        ("value(user.unit.order) / 2", [150, 250], [2250, 4000]),
        ("value(user.unit.nothing)", [0, 0], [0, 0]),
    ],
)
def test_expressions_evaluate_to_value_and_square_sides(
    text: str, value: list[float], square: list[float]
) -> None:
    metrics = [metric(1, "count(user.unit.order)"), metric(2, text)]
    _, totals = _totals(metrics, BASE)
    sides = totals.evaluate(parse_expression(text))
    assert sides[0].tolist() == value
    assert sides[1].tolist() == square


def test_metric_sums_take_the_nominator_value_and_square_and_the_denominator_value() -> None:
    definition, totals = _totals(
        [metric(1, "value(user.unit.order)"), metric(2, "count(user.unit.order)")], BASE
    )
    count, sum_value, sum_sqr_value = metric_sums(totals, definition)
    assert count.tolist() == [[100, 80], [100, 80]]
    assert sum_value.tolist() == [[300, 500], [30, 40]]
    assert sum_sqr_value.tolist() == [[9000, 16000], [50, 70]]


def test_dimension_labels_match_exactly_and_empty_means_not_broken_down() -> None:
    rows = [
        *BASE,
        goal_row("a", "order", count=7, sum_value=70, product="p_1"),
        goal_row("a", "order", count=9, sum_value=90, product="^p_"),
        goal_row("b", "order", count=2, sum_value=20, product="!=p_1"),
    ]
    metrics = [
        metric(1, "value(user.unit.order)"),
        metric(2, "value(user.unit.order(product=p_1))"),
        metric(3, "value(user.unit.order(product=^p_))"),
        metric(4, "value(user.unit.order(product!=p_1))"),
    ]
    definition, totals = _totals(metrics, rows)
    _, sum_value, _ = metric_sums(totals, definition)
    # "value(order)" reads only rows with product '' once the experiment references product.
    assert sum_value.tolist() == [[300, 500], [70, 0], [90, 0], [0, 20]]


def test_exposures_sum_every_exposure_row_whatever_its_dimensions_and_duplicates_add_up() -> None:
    rows = [*BASE, exposure_row("a", 5, product="p_1"), exposure_row("b", 80)]
    definition, totals = _totals([metric(1, "value(user.unit.order(product=p_1))")], rows)
    assert totals.exposures.tolist() == [105, 160]
    count, _, _ = metric_sums(totals, definition)
    assert count[0].tolist() == [100, 160]


def test_variants_without_rows_are_zero_filled() -> None:
    definition = experiment([metric(1, "value(user.unit.order)")])
    clean = validate(pd.DataFrame(BASE), "goal rows", definition, definition.dimension_names())
    totals = sum_goal_rows(clean, definition, ["a", "b", "z"])
    count, sum_value, _ = metric_sums(totals, definition)
    assert count.tolist() == [[100, 80, 0]]
    assert np.array_equal(sum_value, [[300, 500, 0]])


def test_evaluating_many_expressions_at_once_equals_one_by_one() -> None:
    texts = [
        "count(user.unit.order)",
        "value(user.unit.order) ~ value(user.unit.refund)",
        "unique(user.unit.order)",
        "2 * value(user.unit.refund)",
        "value(user.unit.refund)",
    ]
    _, totals = _totals([metric(i, text) for i, text in enumerate(texts)], BASE)
    expressions = [parse_expression(text) for text in texts]
    values, squares = evaluate_all(totals, expressions)
    for row, expression in enumerate(expressions):
        value, square = totals.evaluate(expression)
        assert values[row].tolist() == value.tolist() and squares[row].tolist() == square.tolist()
