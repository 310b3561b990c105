"""The metrics table: per metric × variant, the relative test read as the readout says, the
multiple-comparison correction, the planning columns and the degenerate-input warning.

Order (ep-stats' §3.10 from the t-test on): relative t-test for all metrics × variants at once →
degenerate rows to NaN (one :class:`DegenerateInputWarning`) → the readout
(:mod:`expsql.stats.readouts`: two- or one-sided, always-valid or Bayesian) → correction across
treatments (none under Bayesian inference) → planning columns.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from expsql.models import Experiment
from expsql.stats.bayesian import decided
from expsql.stats.corrections import Correction, adjust_p_values
from expsql.stats.cuped import CupedResult
from expsql.stats.planning import achieved_power, false_positive_risk, required_sample_sizes
from expsql.stats.readouts import (
    Readout,
    ReadoutColumns,
    comparison_sizes,
    interval_bounds,
    metric_directions,
    readout_columns,
    widened_half_widths,
)
from expsql.stats.ttest import degenerate_reasons, relative_ttest

#: At most this many metric × variant pairs are named in one degenerate-input warning.
WARNING_EXAMPLES = 20


class DegenerateInputWarning(UserWarning):
    """Some metric × variant could not be tested; its statistics are NaN."""


def metric_columns(
    experiment: Experiment,
    variants: list[str],
    level: float,
    correction: Correction,
    readout: Readout,
    sums: tuple[np.ndarray, ...],
    cuped: CupedResult | None = None,
) -> tuple[dict[str, Any], list[str]]:
    count, mean, variance, sum_value, sample_size, invalid = sums
    control = variants.index(experiment.control_variant)
    if cuped is None:
        control_mean, control_variance = mean[:, [control]], variance[:, [control]]
        is_cuped = np.zeros(mean.shape, dtype=bool)
        reduction = np.full(mean.shape, np.nan)
    else:  # each treatment against the control as adjusted in their comparison
        control_mean, is_cuped, reduction = cuped.control_mean, cuped.cuped, cuped.variance_reduction
        with np.errstate(invalid="ignore"):
            control_variance = cuped.control_variance * count[:, [control]]
    with np.errstate(invalid="ignore"):
        std = np.sqrt(variance)
        control_std = np.sqrt(control_variance)
    test = relative_ttest(
        mean, std, count, sum_value, control, level, control_mean=control_mean, control_std=control_std
    )
    diff, test_stat, p_value = test.diff.copy(), test.test_stat.copy(), test.p_value.copy()
    interval, error, freedom = (
        test.confidence_interval.copy(),
        test.standard_error.copy(),
        test.degrees_of_freedom.copy(),
    )
    higher, one_sided = metric_directions(experiment)
    reasons = degenerate_reasons(
        count, mean, variance, control, invalid, control_mean=control_mean, control_variance=control_variance
    )
    if readout.bayesian:  # a point-mass posterior: the difference has no spread to read
        flat = (error == 0) & (reasons == "")
        flat[:, control] = False
        reasons[flat] = "zero standard error of the difference (no variance in the variant): no posterior"
    degenerate = reasons != ""
    for array in (test_stat, p_value, interval, error, freedom):
        array[degenerate] = np.nan
    diff[degenerate & ~np.isfinite(diff)] = np.nan
    messages = degenerate_messages(experiment, variants, reasons)
    if messages:
        warnings.warn(" ".join(messages), DegenerateInputWarning, stacklevel=3)
    unread = np.full(diff.shape, np.nan)  # what only the readout can fill
    read = readout_columns(
        readout,
        ReadoutColumns(diff, test_stat, p_value, interval, error, freedom, unread, unread, unread),
        count,
        control,
        level,
        higher,
        one_sided,
    )
    diff, test_stat, p_value, interval, error, freedom = (
        read.diff,
        read.test_stat,
        read.p_value.copy(),
        read.confidence_interval.copy(),
        read.standard_error,
        read.degrees_of_freedom,
    )

    treatments = np.array([i for i in range(len(variants)) if i != control], dtype=int)
    alpha = 1 - level
    if treatments.size > 1 and correction != "none":
        raw = p_value[:, treatments]
        adjusted = adjust_p_values(raw, correction)
        interval[:, treatments] = widened_half_widths(
            readout,
            raw,
            adjusted,
            error[:, treatments],
            freedom[:, treatments],
            comparison_sizes(count, control)[:, treatments],
            one_sided,
            alpha,
        )
        p_value[:, treatments] = adjusted
    is_treatment = np.ones(mean.shape, dtype=bool)
    is_treatment[:, control] = False

    minimum_effect = np.array(
        [np.nan if m.minimum_effect is None else m.minimum_effect for m in experiment.metrics], dtype=float
    )[:, np.newaxis]
    minimum_effect = np.where(is_treatment, minimum_effect, np.nan)
    required = required_sample_sizes(len(variants), minimum_effect, control_mean, control_std, std, level)
    power = achieved_power(len(variants), sample_size, required, level)
    with np.errstate(invalid="ignore"):
        significant = is_treatment & (
            decided(read.chance_to_win, readout.decision_threshold) | (p_value < alpha)
        )
    ci_lower, ci_upper = interval_bounds(diff, interval, higher, one_sided, readout.bayesian)
    shape = mean.shape
    columns: dict[str, Any] = {
        "exp_id": experiment.id,
        "metric_id": np.repeat(np.array([m.id for m in experiment.metrics], dtype=object), len(variants)),
        "metric_name": np.repeat(np.array([m.name for m in experiment.metrics], dtype=object), len(variants)),
        "exp_variant_id": np.tile(np.array(variants, dtype=object), len(experiment.metrics)),
        "count": count,
        "mean": mean,
        "std": std,
        "sum_value": sum_value,
        "confidence_level": np.full(shape, level),
        "diff": diff,
        "test_stat": test_stat,
        "p_value": p_value,
        "confidence_interval": interval,
        "standard_error": error,
        "degrees_of_freedom": freedom,
        "minimum_effect": minimum_effect,
        "sample_size": sample_size,
        "required_sample_size": required,
        "power": power,
        "false_positive_risk": false_positive_risk(p_value, power, experiment.null_hypothesis_rate, level),
        "absolute_diff": test.absolute_diff,
        "ci_lower": ci_lower,
        "ci_upper": ci_upper,
        "significant": significant,
        "cuped": is_cuped,
        "variance_reduction": reduction,
        "chance_to_win": read.chance_to_win,
        "risk_control": read.risk_control,
        "risk_treatment": read.risk_treatment,
    }
    flat = {
        name: (np.ravel(value) if isinstance(value, np.ndarray) and value.shape == shape else value)
        for name, value in columns.items()
    }
    return flat, messages


def degenerate_messages(experiment: Experiment, variants: list[str], reasons: np.ndarray) -> list[str]:
    rows, cols = np.nonzero(reasons != "")
    if rows.size == 0:
        return []
    metrics = experiment.metrics
    named = [
        f"metric {metrics[r].id} ({metrics[r].name}) variant {variants[c]}: {reasons[r, c]}"
        for r, c in zip(rows[:WARNING_EXAMPLES], cols[:WARNING_EXAMPLES], strict=True)
    ]
    more = f"; and {rows.size - WARNING_EXAMPLES} more" if rows.size > WARNING_EXAMPLES else ""
    return [f"statistics set to NaN where they cannot be computed: {'; '.join(named)}{more}."]
