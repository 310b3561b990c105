"""A small evaluation in ep-stats' columns, written out by hand, for the renderers' layout tests.

The renderers only lay out frames; these frames hold the cases a layout must get right: a
significant rise, a significant fall, a non-significant change, NaN statistics, a sequentially
adjusted confidence level and a failing and a passing check. (End-to-end tests with the real
stats module live in tests/cli and tests/server.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from expsql import Experiment

NAN = math.nan


@dataclass(frozen=True)
class Frames:
    metrics: pd.DataFrame
    checks: pd.DataFrame
    exposures: pd.DataFrame


def experiment_named(metric_name: str = "Conversion rate", variant: str = "b") -> Experiment:
    exposures = "count(user.global.exposure)"
    return Experiment.model_validate(
        {
            "id": "checkout-redesign",
            "control_variant": "a",
            "unit_type": "user",
            "variants": ["a", variant, "c"],
            "metrics": [
                {
                    "id": 1,
                    "name": metric_name,
                    "nominator": "unique(user.unit.conversion)",
                    "denominator": exposures,
                },
                {
                    "id": 2,
                    "name": "Revenue per user",
                    "nominator": "value(user.unit.conversion)",
                    "denominator": exposures,
                },
                {
                    "id": 3,
                    "name": "Refund rate",
                    "nominator": "count(user.unit.refund)",
                    "denominator": exposures,
                },
            ],
            "checks": [
                {"id": 1, "name": "Sample ratio mismatch", "denominator": exposures},
                {
                    "id": 2,
                    "name": "Refunds vs conversions",
                    "type": "SumRatio",
                    "nominator": "count(user.unit.refund)",
                    "denominator": "count(user.unit.conversion)",
                },
            ],
            "date_from": "2026-11-02",
            "date_to": "2026-11-15",
        }
    )


def metric_row(
    metric_id: int,
    name: str,
    variant: str,
    mean: float,
    diff: float,
    half: float,
    p: float,
    level: float,
    significant: bool,
) -> dict:
    return {
        "exp_id": "checkout-redesign",
        "metric_id": metric_id,
        "metric_name": name,
        "exp_variant_id": variant,
        "count": 13_000,
        "mean": mean,
        "std": 0.27,
        "sum_value": mean * 13_000,
        "confidence_level": level,
        "diff": diff,
        "test_stat": NAN,
        "p_value": p,
        "confidence_interval": half,
        "standard_error": half / 2,
        "degrees_of_freedom": 26_000,
        "minimum_effect": NAN,
        "sample_size": 13_000,
        "required_sample_size": NAN,
        "power": 0.9,
        "false_positive_risk": NAN,
        "absolute_diff": diff * 0.08,
        "ci_lower": diff - half,
        "ci_upper": diff + half,
        "significant": significant,
    }


def frames_for(experiment: Experiment, level: float = 0.9944) -> Frames:
    names = {m.id: m.name for m in experiment.metrics}
    treatment = experiment.variants[1]  # type: ignore[index]
    rows = [
        metric_row(1, names[1], "a", 0.0801, 0.0, 0.0, 1.0, level, False),
        metric_row(1, names[1], treatment, 0.0897, 0.1198, 0.0531, 0.0002, level, True),
        metric_row(1, names[1], "c", 0.0805, 0.005, 0.05, 0.81, level, False),
        metric_row(2, names[2], "a", 4.412, 0.0, 0.0, 1.0, level, False),
        metric_row(2, names[2], treatment, 3.981, -0.0977, 0.061, 0.0012, level, True),
        metric_row(2, names[2], "c", 4.43, 0.004, 0.06, 0.9, level, False),
        metric_row(3, names[3], "a", 0.0, NAN, NAN, NAN, level, False),
        metric_row(3, names[3], treatment, 0.0, NAN, NAN, NAN, level, False),
        metric_row(3, names[3], "c", 0.0, NAN, NAN, NAN, level, False),
    ]
    checks = pd.DataFrame(
        [
            ("checkout-redesign", 1, "Sample ratio mismatch", "p_value", 0.5412),
            ("checkout-redesign", 1, "Sample ratio mismatch", "test_stat", 1.228),
            ("checkout-redesign", 1, "Sample ratio mismatch", "confidence_level", 0.999),
            ("checkout-redesign", 2, "Refunds vs conversions", "sum_ratio", 0.048),
            ("checkout-redesign", 2, "Refunds vs conversions", "max_sum_ratio", 0.01),
            ("checkout-redesign", 2, "Refunds vs conversions", "p_value", 1e-9),
            ("checkout-redesign", 2, "Refunds vs conversions", "test_stat", 61.2),
            ("checkout-redesign", 2, "Refunds vs conversions", "confidence_level", 0.999),
        ],
        columns=["exp_id", "check_id", "check_name", "variable_id", "value"],
    )
    exposures = pd.DataFrame(
        {
            "exp_variant_id": ["a", treatment, "c"],
            "exposures": [13_412, 13_301, 13_287],
            "exp_id": "checkout-redesign",
        }
    )
    return Frames(pd.DataFrame(rows), checks, exposures)


def with_cuped(frames: Frames, reductions: dict[tuple[int, str], float]) -> Frames:
    """The frames with ``cuped`` and ``variance_reduction`` set on the (metric id, variant) rows given."""
    metrics = frames.metrics.copy()
    keys = list(zip(metrics["metric_id"], metrics["exp_variant_id"], strict=True))
    metrics["cuped"] = [key in reductions for key in keys]
    metrics["variance_reduction"] = [reductions.get(key, NAN) for key in keys]
    return Frames(metrics, frames.checks, frames.exposures)
