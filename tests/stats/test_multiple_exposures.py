"""The MultipleExposures check from marked rows of every contract, and rows without marks."""

from __future__ import annotations

import pandas as pd
import pytest

from expsql.contracts import MULTIPLE_EXPOSURES_CHECK
from expsql.models import Experiment
from expsql.stats import evaluate
from expsql.stats.multiple_exposures import exposed_units, split_marked

EXPERIMENT = Experiment.model_validate(
    {
        "id": "e",
        "control_variant": "a",
        "unit_type": "user",
        "metrics": [
            {
                "id": 1,
                "name": "clicks",
                "nominator": "count(user.unit.click)",
                "denominator": "count(user.global.exposure)",
            }
        ],
    }
)


def metric_rows(excluded: dict[str, int]) -> pd.DataFrame:
    """One exposure per unit; the clicks' x is 0.3 per unit on average."""
    rows = []
    for variant, n in (("a", 1000), ("b", 990)):
        for metric_id, x in (("1", 0.3), ("@exposure", 1.0)):
            rows.append(
                {"exp_id": "e", "exp_variant_id": variant, "metric_id": metric_id, "n": n, "sum_x": n * x,
                 "sum_x2": n * x, "sum_y": n, "sum_y2": n, "sum_xy": n * x}
            )  # fmt: skip
    for variant, n in excluded.items():
        for metric_id in ("1", "@exposure"):
            rows.append(
                {"exp_id": "e", "exp_variant_id": f"@multiple:{variant}", "metric_id": metric_id, "n": n,
                 "sum_x": 0.0, "sum_x2": 0.0, "sum_y": n, "sum_y2": n, "sum_xy": 0.0}
            )  # fmt: skip
    return pd.DataFrame(rows)


def check_values(evaluation: object) -> dict[str, object]:
    checks = evaluation.checks  # type: ignore[attr-defined]
    rows = checks[checks["check_id"] == MULTIPLE_EXPOSURES_CHECK]
    return {**dict(zip(rows["variable_id"], rows["value"], strict=True)), "passed": rows["passed"].iloc[0]}


def test_marked_rows_become_the_check_and_leave_the_variants() -> None:
    evaluation = evaluate(EXPERIMENT, metric_rows({"a": 5, "b": 20}))
    assert evaluation.variants == ("a", "b")
    assert evaluation.exposures["exposures"].tolist() == [1000, 990]
    values = check_values(evaluation)
    assert values["excluded_a"] == 5 and values["excluded_b"] == 20
    assert values["excluded_share"] == pytest.approx(20 / 1010)
    assert values["max_share"] == 0.01 and values["passed"] is False


def test_the_threshold_is_the_experiments() -> None:
    lenient = EXPERIMENT.model_copy(update={"max_multiple_exposures": 0.05})
    assert check_values(evaluate(lenient, metric_rows({"a": 5, "b": 20})))["passed"] is True


def test_no_marked_rows_report_nothing_unless_asked() -> None:
    assert MULTIPLE_EXPOSURES_CHECK not in set(evaluate(EXPERIMENT, metric_rows({})).checks["check_id"])
    values = check_values(evaluate(EXPERIMENT, metric_rows({}), multiple_exposures=True))
    assert values["excluded_a"] == 0 and values["excluded_share"] == 0 and values["passed"] is True


def test_goal_and_unit_rows_count_the_exposure_goals_units() -> None:
    goal_rows = pd.DataFrame(
        [
            {"exp_id": "e", "exp_variant_id": v, "unit_type": "user", "agg_type": agg, "goal": goal,
             "count": c, "sum_sqr_count": c, "sum_value": 0, "sum_sqr_value": 0, "count_unique": u}
            for v, agg, goal, c, u in [
                ("a", "global", "exposure", 120, 100), ("@multiple:a", "global", "exposure", 9, 3),
                ("@multiple:a", "unit", "click", 4, 2), ("b", "global", "exposure", 110, 97),
            ]
        ]
    )  # fmt: skip
    frame, marked = split_marked(goal_rows)
    assert len(frame) == 2 and len(marked) == 2
    assert exposed_units(marked, "goal rows", EXPERIMENT, []) == {"a": 3.0}
    assert exposed_units(frame, "goal rows", EXPERIMENT, []) == {"a": 100.0, "b": 97.0}
    unit_rows = pd.DataFrame(
        {
            "exp_id": "e",
            "exp_variant_id": ["@multiple:a", "@multiple:a", "@multiple:b", "@multiple:a"],
            "unit_type": "user",
            "agg_type": "global",
            "goal": "exposure",
            "unit_id": ["u1", "u1", "u1", "u2"],
            "count": 1.0,
            "sum_value": 0.0,
        }
    )
    assert exposed_units(unit_rows, "unit rows", EXPERIMENT, []) == {"a": 2.0, "b": 1.0}


def test_a_declared_multiple_exposures_check_is_refused() -> None:
    with pytest.raises(ValueError, match="reported by expsql itself"):
        Experiment.model_validate(
            {**EXPERIMENT.model_dump(), "checks": [{"id": 1, "name": "x", "type": "MultipleExposures",
                                                     "denominator": "count(user.global.exposure)"}]}
        )  # fmt: skip
