"""ep-stats' ``Result`` shape, so existing ep-stats clients read expsql's answers unchanged.

``{id, metrics: [{id, name, stats: [...]}], checks: [{id, name, stats: [{variable_id, value}]}],
exposure: {unit_type, stats: [{exp_variant_id, count}]}}`` with metrics and checks in request
order and variants in the evaluation's order. NaN and infinities become ``None`` (JSON ``null``):
ep-stats sends bare ``NaN`` tokens, which standard JSON parsers reject.
"""

from __future__ import annotations

import math
from typing import Any, Final

from expsql.models import Experiment
from expsql.report.view import EvaluationFrames

METRIC_STAT_FIELDS: Final = (
    "diff",
    "mean",
    "std",
    "sum_value",
    "p_value",
    "confidence_interval",
    "confidence_level",
    "sample_size",
    "required_sample_size",
    "power",
    "false_positive_risk",
)
#: expsql's additions to each metric stat (CUPED, :mod:`expsql.stats.cuped`): ep-stats clients ignore them.
EXTRA_STAT_FIELDS: Final = ("cuped", "variance_reduction")
#: expsql's readout fields (:mod:`expsql.stats.readouts`), null where the readout does not apply.
READOUT_STAT_FIELDS: Final = ("ci_lower", "ci_upper", "chance_to_win", "risk_control", "risk_treatment")


def finite_or_none(value: Any) -> float | None:
    """A plain float, or ``None`` for NaN, ±inf and missing values."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None``, numpy scalars made plain."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cuped(value: Any) -> bool:
    """The ``cuped`` flag of a row (False where the frame has none: ep-stats' own frames)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def epstats_result(experiment: Experiment, evaluation: EvaluationFrames) -> dict[str, Any]:
    """The evaluation as ep-stats' ``Result`` body."""
    metrics = evaluation.metrics
    metric_results = []
    for metric in experiment.metrics:
        rows = metrics[metrics["metric_id"].astype(str) == str(metric.id)]
        stats = [
            {"exp_variant_id": str(row["exp_variant_id"])}
            | {name: finite_or_none(row.get(name)) for name in METRIC_STAT_FIELDS}
            | {
                "cuped": _cuped(row.get("cuped")),
                "variance_reduction": finite_or_none(row.get("variance_reduction")),
            }
            | {name: finite_or_none(row.get(name)) for name in READOUT_STAT_FIELDS}
            for _, row in rows.iterrows()
        ]
        metric_results.append({"id": metric.id, "name": metric.name, "stats": stats})
    checks = evaluation.checks
    check_results = []
    for check in experiment.checks:
        rows = checks[checks["check_id"].astype(str) == str(check.id)]
        stats = [
            {"variable_id": str(row["variable_id"]), "value": finite_or_none(row["value"])}
            for _, row in rows.iterrows()
        ]
        check_results.append({"id": check.id, "name": check.name, "stats": stats})
    exposure_stats = [
        {"exp_variant_id": str(row["exp_variant_id"]), "count": int(finite_or_none(row["exposures"]) or 0)}
        for _, row in evaluation.exposures.iterrows()
    ]
    result: dict[str, Any] = {
        "id": experiment.id,
        "metrics": metric_results,
        "checks": check_results,
        "exposure": {"unit_type": experiment.unit_type, "stats": exposure_stats},
    }
    inference = getattr(evaluation, "inference", None)
    default = inference == "frequentist" and getattr(evaluation, "sequential", None) == "obrien-fleming"
    if inference is not None and not default:  # expsql's addition, only for a readout asked for
        result["readout"] = {
            "inference": inference,
            "sequential": getattr(evaluation, "sequential", None),
            "prior": dict(getattr(evaluation, "prior", {})),
            "sequential_tuning": getattr(evaluation, "sequential_tuning", None),
            "decision_threshold": getattr(evaluation, "decision_threshold", None),
            "correction": getattr(evaluation, "correction", None),
        }
    timeline = getattr(evaluation, "timeline", None)
    if timeline is not None:  # expsql's addition, only when asked for (``timeline: daily``)
        result["timeline"] = [
            {name: _timeline_value(name, value) for name, value in row.items()}
            for row in timeline.to_dict(orient="records")
        ]
    return result


def _timeline_value(name: str, value: Any) -> Any:
    """A timeline cell as JSON: the day as ISO text, numbers finite or ``None``."""
    if name == "day":
        return value.isoformat()
    if name in ("look", "significant"):
        return value.item() if hasattr(value, "item") else value
    if name in ("metric_id", "metric_name", "exp_variant_id"):
        return value
    return finite_or_none(value)


def segment_results(experiment: Experiment, evaluation: Any) -> dict[str, Any]:
    """``{"breakdowns": [...]}``: each segment's ep-stats ``Result`` fields with its dimension and
    segment; ``{}`` for an evaluation without a breakdown."""
    from expsql.report.segments import SegmentFrames, segment_frames

    breakdowns = getattr(evaluation, "breakdowns", None)
    if breakdowns is None:
        return {}
    results = []
    for dimension in breakdowns.dimensions:
        for segment in breakdowns.segments(dimension):
            frames: SegmentFrames = segment_frames(breakdowns, dimension, segment)
            body = epstats_result(experiment, frames)
            del body["id"]
            results.append({"dimension": dimension, "segment": segment, **body})
    return {"breakdowns": results}
