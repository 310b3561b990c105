"""ep-stats' Result shape from an evaluation's frames; NaN and infinities as null."""

from __future__ import annotations

import json
import math

import numpy as np

from expsql.report.epstats import (
    EXTRA_STAT_FIELDS,
    METRIC_STAT_FIELDS,
    READOUT_STAT_FIELDS,
    epstats_result,
    finite_or_none,
    json_safe,
)
from tests.report.frames import Frames, with_cuped


def test_result_has_ep_stats_shape_in_request_order(experiment, frames: Frames) -> None:
    result = epstats_result(experiment, frames)
    assert set(result) == {"id", "metrics", "checks", "exposure"}
    assert result["id"] == "checkout-redesign"
    assert [m["id"] for m in result["metrics"]] == [1, 2, 3]
    assert [m["name"] for m in result["metrics"]] == ["Conversion rate", "Revenue per user", "Refund rate"]
    stat = result["metrics"][0]["stats"][1]
    assert set(stat) == {"exp_variant_id", *METRIC_STAT_FIELDS, *EXTRA_STAT_FIELDS, *READOUT_STAT_FIELDS}
    assert stat["cuped"] is False and stat["variance_reduction"] is None  # frames without CUPED
    assert stat["exp_variant_id"] == "b" and stat["diff"] == 0.1198 and stat["confidence_interval"] == 0.0531
    assert result["checks"][0] == {
        "id": 1,
        "name": "Sample ratio mismatch",
        "stats": [
            {"variable_id": "p_value", "value": 0.5412},
            {"variable_id": "test_stat", "value": 1.228},
            {"variable_id": "confidence_level", "value": 0.999},
        ],
    }
    assert result["exposure"] == {
        "unit_type": "user",
        "stats": [
            {"exp_variant_id": "a", "count": 13_412},
            {"exp_variant_id": "b", "count": 13_301},
            {"exp_variant_id": "c", "count": 13_287},
        ],
    }


def test_non_finite_numbers_become_null_and_json_is_standard(experiment, frames: Frames) -> None:
    result = epstats_result(experiment, frames)
    refund_b = result["metrics"][2]["stats"][1]
    assert (
        refund_b["diff"] is None and refund_b["p_value"] is None and refund_b["required_sample_size"] is None
    )
    json.dumps(result, allow_nan=False)


def test_finite_or_none_and_json_safe() -> None:
    assert finite_or_none(math.inf) is None and finite_or_none("x") is None and finite_or_none(None) is None
    assert finite_or_none(np.float64(2.5)) == 2.5
    assert json_safe({"a": [np.float64("nan"), np.int64(3)], 1: (math.inf, "t")}) == {
        "a": [None, 3],
        "1": [None, "t"],
    }


def test_cuped_fields_are_added_to_each_stat(experiment, frames: Frames) -> None:
    result = epstats_result(experiment, with_cuped(frames, {(1, "b"): 0.482}))
    stats = result["metrics"][0]["stats"]
    assert [(s["cuped"], s["variance_reduction"]) for s in stats] == [
        (False, None),
        (True, 0.482),
        (False, None),
    ]
    assert json.loads(json.dumps(result, allow_nan=False)) == result
