"""Readouts: how the relative difference and its standard error become the scorecard's verdict.

One test (:func:`~expsql.stats.ttest.relative_ttest`) feeds every readout; each fills the same
columns, NaN where it has nothing to say:

- **frequentist, fixed horizon or group-sequential** (``obrien-fleming``, ``ep-stats``, ``none``):
  today's two-sided Welch t-test, or with a metric's ``one_sided`` the t-test one-sided in its
  direction of improvement (``p = P(T > t)`` when higher is better, ``P(T < t)`` when lower;
  the interval is open on the side of improvement);
- **frequentist, always-valid** (:mod:`~expsql.stats.always_valid`): the confidence sequence and
  its always-valid p-value around the same estimate; ``one_sided`` takes the sequence's bound on
  the side of harm, and the p-value is 1 when the estimate points the other way (conservative);
- **bayesian** (:mod:`~expsql.stats.bayesian`): ``diff`` the posterior mean, ``ci_lower`` and
  ``ci_upper`` the credible interval, ``standard_error`` the posterior standard deviation,
  ``chance_to_win``, ``risk_control``, ``risk_treatment``; no p-value, statistic or degrees of
  freedom, and no multiple-comparison correction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from expsql.models import Experiment, Inference, Prior, Sequential
from expsql.stats import always_valid
from expsql.stats.bayesian import posterior
from expsql.stats.ttest import t_quantile

INFERENCES: tuple[str, ...] = ("frequentist", "bayesian")
#: The columns Bayesian inference adds to the metrics table (NaN under frequentist inference).
BAYESIAN_COLUMNS: tuple[str, ...] = ("chance_to_win", "risk_control", "risk_treatment")


@dataclass(frozen=True)
class Readout:
    """The options that decide how a result is read, resolved from the experiment and ``evaluate``."""

    inference: Inference = "frequentist"
    sequential: Sequential = "obrien-fleming"
    prior: Prior = field(default_factory=Prior)
    sequential_tuning: float = always_valid.DEFAULT_TUNING
    decision_threshold: float = 0.95

    @property
    def bayesian(self) -> bool:
        return self.inference == "bayesian"

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON values (the Evaluation's header)."""
        return {
            "inference": self.inference,
            "sequential": self.sequential,
            "prior": self.prior.model_dump(),
            "sequential_tuning": self.sequential_tuning,
            "decision_threshold": self.decision_threshold,
        }


def resolve_readout(
    experiment: Experiment,
    *,
    inference: Inference | None = None,
    sequential: Sequential | None = None,
    prior: Prior | dict[str, Any] | None = None,
    sequential_tuning: float | None = None,
    decision_threshold: float | None = None,
) -> Readout:
    """``evaluate``'s keywords where given, else the experiment's fields, else the defaults.

    :raises ValueError: an unknown inference or sequential mode, a Bayesian readout with a
        sequential mode, or an option out of its range.
    """
    chosen = inference or experiment.inference
    if chosen not in INFERENCES:
        raise ValueError(f"unknown inference {chosen!r}; choose one of {', '.join(INFERENCES)}")
    mode = sequential or experiment.sequential
    if chosen == "bayesian" and mode not in (None, "none"):
        raise ValueError(
            f"sequential {mode!r} is a frequentist mode; a Bayesian readout has none "
            "(leave sequential unset, or choose inference frequentist)"
        )
    if mode is None:
        mode = "none" if chosen == "bayesian" else "obrien-fleming"
    gaussian = experiment.prior if prior is None else Prior.model_validate(prior)
    tuning = experiment.sequential_tuning if sequential_tuning is None else float(sequential_tuning)
    if not (np.isfinite(tuning) and tuning > 0):
        raise ValueError(f"sequential_tuning must be a positive number, not {tuning}")
    threshold = experiment.decision_threshold if decision_threshold is None else float(decision_threshold)
    if not 0.5 < threshold < 1:
        raise ValueError(f"decision_threshold must be above 0.5 and below 1, not {threshold}")
    return Readout(chosen, mode, gaussian, tuning, threshold)


@dataclass
class ReadoutColumns:
    """The columns a readout decides, each ``(metrics, variants)``."""

    diff: np.ndarray
    test_stat: np.ndarray
    p_value: np.ndarray
    confidence_interval: np.ndarray
    standard_error: np.ndarray
    degrees_of_freedom: np.ndarray
    chance_to_win: np.ndarray
    risk_control: np.ndarray
    risk_treatment: np.ndarray


def metric_directions(experiment: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """Per metric, as ``(metrics, 1)`` columns: higher is better, and one-sided."""
    higher = np.array([m.higher_is_better for m in experiment.metrics], dtype=bool)[:, np.newaxis]
    one_sided = np.array([m.one_sided for m in experiment.metrics], dtype=bool)[:, np.newaxis]
    return higher, one_sided


def comparison_sizes(count: np.ndarray, control: int) -> np.ndarray:
    """``N = n_T + n_C`` of each comparison (the control's own row: twice its units)."""
    return np.asarray(count + count[:, [control]], dtype=float)


def readout_columns(
    readout: Readout,
    columns: ReadoutColumns,
    count: np.ndarray,
    control: int,
    level: float,
    higher: np.ndarray,
    one_sided: np.ndarray,
) -> ReadoutColumns:
    """The two-sided fixed-horizon ``columns`` read as ``readout`` says (unchanged for today's modes
    on two-sided metrics)."""
    alpha = 1 - level
    shape = columns.diff.shape
    nan = np.full(shape, np.nan)
    sign = np.where(higher, 1.0, -1.0)
    one_sided = np.broadcast_to(one_sided, shape)
    if readout.bayesian:
        with np.errstate(invalid="ignore"):
            variance = columns.standard_error**2
        post = posterior(
            columns.diff,
            variance,
            level,
            higher_is_better=higher,
            prior_mean=readout.prior.mean,
            prior_variance=readout.prior.variance,
            proper=readout.prior.proper,
        )
        is_control = np.zeros(shape, dtype=bool)
        is_control[:, control] = True
        with np.errstate(invalid="ignore"):
            undecided = is_control | ~(variance > 0)
        mean = np.where(is_control, 0.0, np.where(undecided, np.nan, post.mean))
        return ReadoutColumns(
            diff=mean,
            test_stat=nan,
            p_value=nan.copy(),
            confidence_interval=np.where(undecided, np.nan, post.mean - post.ci_lower),
            standard_error=np.where(undecided, np.nan, post.std),
            degrees_of_freedom=nan.copy(),
            chance_to_win=np.where(undecided, np.nan, post.chance_to_win),
            risk_control=np.where(undecided, np.nan, post.risk_control),
            risk_treatment=np.where(undecided, np.nan, post.risk_treatment),
        )
    p_value, interval = columns.p_value, columns.confidence_interval
    if readout.sequential == "always-valid":
        total = comparison_sizes(count, control)
        interval = always_valid.half_width(columns.standard_error, total, alpha, readout.sequential_tuning)
        # The statistic after ep-stats' sparse rule, as the fixed-horizon test reads it.
        p_value = always_valid.p_value(columns.test_stat, total, alpha, readout.sequential_tuning)
        with np.errstate(invalid="ignore"):
            p_value = np.where(one_sided & (sign * columns.diff <= 0) & ~np.isnan(p_value), 1.0, p_value)
    elif one_sided.any():
        with np.errstate(invalid="ignore"):
            one_p = np.asarray(stats.t.sf(sign * columns.test_stat, columns.degrees_of_freedom), dtype=float)
            one_interval = columns.standard_error * t_quantile(1 - alpha, columns.degrees_of_freedom)
        p_value = np.where(one_sided, one_p, p_value)
        interval = np.where(one_sided, one_interval, interval)
    return ReadoutColumns(
        diff=columns.diff,
        test_stat=columns.test_stat,
        p_value=p_value,
        confidence_interval=interval,
        standard_error=columns.standard_error,
        degrees_of_freedom=columns.degrees_of_freedom,
        chance_to_win=nan,
        risk_control=nan.copy(),
        risk_treatment=nan.copy(),
    )


def widened_half_widths(
    readout: Readout,
    raw: np.ndarray,
    adjusted: np.ndarray,
    standard_error: np.ndarray,
    degrees_of_freedom: np.ndarray,
    total: np.ndarray,
    one_sided: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """Half-widths after a correction, at the adjusted level ``α · p / p_adj`` (ratio 1 for 0/0):
    the t-interval (two- or one-sided) or, under ``always-valid``, the confidence sequence."""
    with np.errstate(divide="ignore", invalid="ignore"):
        adjusted_alpha = np.nan_to_num(raw / adjusted, nan=1.0) * alpha
        if readout.sequential == "always-valid":
            return always_valid.half_width(standard_error, total, adjusted_alpha, readout.sequential_tuning)
        tail = np.where(np.broadcast_to(one_sided, np.shape(raw)), adjusted_alpha, adjusted_alpha / 2)
        return np.asarray(standard_error * t_quantile(1 - tail, degrees_of_freedom), dtype=float)


def interval_bounds(
    diff: np.ndarray, half_width: np.ndarray, higher: np.ndarray, one_sided: np.ndarray, bayesian: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(ci_lower, ci_upper)``: ``diff ∓ half_width``, open (±inf) on the side of improvement for
    a one-sided frequentist test."""
    lower, upper = diff - half_width, diff + half_width
    if bayesian or not np.any(one_sided):
        return lower, upper
    shape = np.shape(diff)
    open_up = np.broadcast_to(one_sided & higher, shape)
    open_down = np.broadcast_to(one_sided & ~higher, shape)
    finite = ~np.isnan(half_width)
    return (
        np.where(open_down & finite, -np.inf, lower),
        np.where(open_up & finite, np.inf, upper),
    )
