"""The Evaluation result: frozen, one source, standard JSON, a readable table."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from expsql.stats import Evaluation, evaluate
from expsql.stats.tables import CHECK_COLUMNS, EXPOSURE_COLUMNS, METRIC_COLUMNS, Table
from tests.stats.frames import EXPOSURES, experiment, exposure_row, goal_row, metric


def _evaluation() -> Evaluation:
    rows = [exposure_row("a", 1000), exposure_row("b", 1000), exposure_row("c", 1)]
    rows += [goal_row("a", "buy", count=100), goal_row("b", "buy", count=160), goal_row("c", "buy", count=1)]
    definition = experiment(
        [metric(1, "count(user.unit.buy)")], checks=[{"id": 1, "name": "SRM", "denominator": EXPOSURES}]
    )
    with pytest.warns(UserWarning, match="variant c"):
        return evaluate(definition, rows)


def test_to_dict_is_standard_json_with_nan_as_null() -> None:
    evaluation = _evaluation()
    data = evaluation.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["metrics"][2]["p_value"] is None
    assert data["metrics"][1]["significant"] is True
    assert data["id"] == "exp" and data["variants"] == ["a", "b", "c"]
    assert any("variant c" in message for message in data["warnings"])


def test_every_format_derives_from_the_same_tables() -> None:
    evaluation = _evaluation()
    dicts = evaluation.to_dicts()
    assert [row["p_value"] for row in dicts["metrics"]][:2] == evaluation.metrics["p_value"].tolist()[:2]
    assert list(evaluation.metrics.columns) == list(METRIC_COLUMNS)
    assert list(evaluation.checks.columns) == list(CHECK_COLUMNS)
    assert list(evaluation.exposures.columns) == list(EXPOSURE_COLUMNS)
    assert evaluation.to_pandas().equals(evaluation.metrics)
    assert len(evaluation.metric_table) == 3


def test_the_result_cannot_be_changed_through_its_frames_or_fields() -> None:
    evaluation = _evaluation()
    frame = evaluation.metrics
    frame.loc[0, "mean"] = 99.0
    assert evaluation.metrics.loc[0, "mean"] == pytest.approx(0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        evaluation.confidence_level = 0.5  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        evaluation.metric_table.column("mean")[0] = 1.0


def test_str_is_a_readable_scorecard() -> None:
    text = str(_evaluation())
    assert "Experiment exp (goal rows)" in text
    assert "Exposures: a 1,000, b 1,000, c 1" in text
    assert "a (control)" in text
    assert "+60.00%" in text and "significant" in text
    assert "SRM: FAILED" in text
    assert "n/a" in text  # the untestable variant c


def test_table_build_broadcasts_scalars_and_keeps_text_as_objects() -> None:
    table = Table.build(("x", "name"), {"x": np.array([1.0, math.nan]), "name": "same"})
    assert table.to_dicts()[0] == {"x": 1.0, "name": "same"}
    assert table.column("name").dtype == object
