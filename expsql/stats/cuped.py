"""CUPED: each metric adjusted by its own pre-exposure value (Deng, Xu, Kohavi, Walker, WSDM 2013).

A metric is the ratio ``R = x̄ / ȳ`` of its per-unit nominator x and denominator y (a mean when
y ≡ 1); its covariate is the same ratio ``R_c = x̄_c / ȳ_c`` of the unit's pre-exposure nominator
and denominator (a denominator reading the exposure goal has covariate 1 per unit). Both are
linearised by the delta method (Deng, Knoblich, Lu, KDD 2018); with the sample (co)variances s of a
variant's units, per unit,

    Var(R)       = [s²(x) − 2 R s(x, y) + R² s²(y)] / ȳ²
    Var(R_c)     = [s²(x_c) − 2 R_c s(x_c, y_c) + R_c² s²(y_c)] / ȳ_c²
    Cov(R, R_c)  = [s(x, x_c) − R_c s(x, y_c) − R s(y, x_c) + R R_c s(y, y_c)] / (ȳ ȳ_c)

For each treatment T against the control C, on the **pooled** units of C and T (their sums added):

    θ = Cov(R, R_c) / Var(R_c),      R̄_c = Σx_c / Σy_c

and for v ∈ {C, T}, on v's own units,

    adjusted mean      R_v − θ (R_c,v − R̄_c)
    its variance       [Var(R) + θ² Var(R_c) − 2θ Cov(R, R_c)] / n_v
    variance_reduction 1 − adjusted variance / (Var(R) / n_v)

— tea-tasting's ``RatioOfMeans(numer, denom, numer_covariate, denom_covariate)`` (``Mean(value,
covariate)`` when y ≡ 1). The relative t-test, Holm and the sequential level then run on these
adjusted means and variances exactly as without CUPED. Where the pooled ``Var(R_c)`` is 0 or cannot
be computed (no pre-exposure data, missing covariate sums) the metric stays unadjusted, with a
warning.

**Which control mean is shown.** θ and R̄_c belong to a comparison, so with several treatments the
control has one adjusted mean per comparison (tea-tasting reports each pair on its own). Every
treatment row is tested against the control adjusted *in its own comparison*; that control mean is
``mean − absolute_diff`` of the treatment row. The control's own row shows its adjusted mean (and
std, ``cuped`` true, its variance reduction) when there is one treatment — then
``absolute_diff = mean_T − mean_C`` holds as without CUPED — and its unadjusted mean (``cuped``
false) when there are several, since no single adjusted value exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from expsql.contracts import METRIC_COVARIATE_VALUES, METRIC_VALUES, UNIT_COVARIATE_VALUES, metric_row_id
from expsql.models import Experiment
from expsql.stats.metric_rows import MetricSums

#: Every sum the estimator reads, post-exposure first (``n`` included), then the covariate sums.
SUMS: tuple[str, ...] = (*METRIC_VALUES, *METRIC_COVARIATE_VALUES)


@dataclass(frozen=True)
class CupedResult:
    """Per metric × variant (``(metrics, variants)`` arrays) what the test reads.

    ``mean`` and ``variance`` (of the mean, as :class:`~expsql.stats.metric_rows.RatioStatistics`)
    are each row's own; ``control_mean`` and ``control_variance`` are the control's in the row's
    comparison (for the control's column, its own row again). ``cuped`` says whether the row's
    mean is adjusted, ``variance_reduction`` is NaN where it is not; ``theta`` is the comparison's
    coefficient (NaN where no adjustment was made). ``messages`` name the metrics CUPED could not
    adjust and why.
    """

    mean: np.ndarray
    variance: np.ndarray
    control_mean: np.ndarray
    control_variance: np.ndarray
    cuped: np.ndarray
    variance_reduction: np.ndarray
    theta: np.ndarray
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Ratios:
    """The delta-linearised moments of R and R_c, per unit (not divided by n)."""

    ratio: np.ndarray
    covariate: np.ndarray
    var: np.ndarray
    covariate_var: np.ndarray
    cov: np.ndarray


def _ratios(sums: np.ndarray) -> _Ratios:
    """Moments of R and R_c from ``sums[..., SUMS.index(name)]``, element-wise over any shape."""
    column = {name: sums[..., i] for i, name in enumerate(SUMS)}
    n = column["n"]

    def mean(name: str) -> np.ndarray:
        return column[name] / n

    def cov(a: str, b: str, ab: str) -> np.ndarray:
        return (column[ab] - column[a] * column[b] / n) / (n - 1)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean_y, mean_yc = mean("sum_y"), mean("sum_yc")
        ratio = column["sum_x"] / column["sum_y"]
        covariate = column["sum_xc"] / column["sum_yc"]
        var = (
            cov("sum_x", "sum_x", "sum_x2")
            - 2 * ratio * cov("sum_x", "sum_y", "sum_xy")
            + ratio**2 * cov("sum_y", "sum_y", "sum_y2")
        ) / mean_y**2
        covariate_var = (
            cov("sum_xc", "sum_xc", "sum_xc2")
            - 2 * covariate * cov("sum_xc", "sum_yc", "sum_xc_yc")
            + covariate**2 * cov("sum_yc", "sum_yc", "sum_yc2")
        ) / mean_yc**2
        covariance = (
            cov("sum_x", "sum_xc", "sum_x_xc")
            - covariate * cov("sum_x", "sum_yc", "sum_x_yc")
            - ratio * cov("sum_y", "sum_xc", "sum_y_xc")
            + ratio * covariate * cov("sum_y", "sum_yc", "sum_y_yc")
        ) / (mean_y * mean_yc)
    return _Ratios(ratio, covariate, var, covariate_var, covariance)


def cuped_adjust(sums: np.ndarray, adjust: np.ndarray, control: int) -> CupedResult:
    """CUPED for every metric × variant at once.

    :param sums: ``(metrics, variants, len(SUMS))``, the metric-rows sums then the covariate sums
        (NaN covariate sums where the rows carry none).
    :param adjust: ``(metrics,)`` whether each metric is to be adjusted.
    :param control: the control's column.
    """
    own = _ratios(sums)
    n = sums[..., 0]
    pooled_sums = sums + sums[:, [control], :]
    pooled = _ratios(pooled_sums)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        theta = pooled.cov / pooled.covariate_var
        centre = pooled.covariate
    usable = (
        adjust[:, np.newaxis]
        & np.isfinite(theta)
        & (pooled.covariate_var > 0)
        & np.isfinite(pooled_sums).all(axis=2)
    )
    theta = np.where(usable, theta, np.nan)
    coefficient = np.where(usable, theta, 0.0)
    variants = sums.shape[1]
    with np.errstate(invalid="ignore", over="ignore"):
        unadjusted = own.var / n
        mean = np.where(usable, own.ratio - coefficient * (own.covariate - centre), own.ratio)
        variance = np.where(
            usable,
            (own.var + coefficient**2 * own.covariate_var - 2 * coefficient * own.cov) / n,
            unadjusted,
        )
        c = (slice(None), [control])
        control_mean = np.where(
            usable, own.ratio[c] - coefficient * (own.covariate[c] - centre), own.ratio[c]
        )
        control_variance = np.where(
            usable,
            (own.var[c] + coefficient**2 * own.covariate_var[c] - 2 * coefficient * own.cov[c]) / n[c],
            unadjusted[c],
        )
    cuped = usable.copy()
    # The control's own row: adjusted in the one comparison there is, else (several) unadjusted.
    treatments = [v for v in range(variants) if v != control]
    if len(treatments) == 1:
        (only,) = treatments
        cuped[:, control] = usable[:, only]
        theta[:, control] = theta[:, only]
        mean[:, control] = control_mean[:, only]
        variance[:, control] = control_variance[:, only]
    else:
        cuped[:, control] = False
        theta[:, control] = np.nan
        mean[:, control] = own.ratio[:, control]
        variance[:, control] = unadjusted[:, control]
    control_mean[:, control] = mean[:, control]
    control_variance[:, control] = variance[:, control]
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = np.where(cuped, 1 - variance / unadjusted, np.nan)
    return CupedResult(
        mean=mean,
        variance=variance,
        control_mean=control_mean,
        control_variance=control_variance,
        cuped=cuped,
        variance_reduction=reduction,
        theta=theta,
    )


def metric_cuped(sums: MetricSums, experiment: Experiment, variants: list[str]) -> CupedResult | None:
    """CUPED for the experiment's metrics from metric-rows sums, or None when CUPED is off.

    A metric is adjusted when the experiment asks for it (:meth:`Experiment.cuped_metrics`) and
    its rows carry finite covariate sums in both arms of a comparison with a pooled ``Var(R_c) > 0``;
    every other requested metric is reported (unadjusted) in ``messages``.
    """
    requested = {m.id for m in experiment.cuped_metrics()}
    if not requested:
        return None
    control = variants.index(experiment.control_variant)
    index = np.array([sums.row_ids[metric_row_id(m.id)] for m in experiment.metrics], dtype=int)
    adjust = np.array([m.id in requested for m in experiment.metrics], dtype=bool)
    shape = (len(experiment.metrics), len(variants))
    post = sums.sums[index] if index.size else np.zeros((*shape, len(METRIC_VALUES)))
    if sums.covariates is None:
        covariates = np.full((*shape, len(METRIC_COVARIATE_VALUES)), np.nan)
    else:
        covariates = (
            sums.covariates[index] if index.size else np.zeros((*shape, len(METRIC_COVARIATE_VALUES)))
        )
    result = cuped_adjust(np.concatenate([post, covariates], axis=2), adjust, control)
    messages = _fallback_messages(experiment, variants, control, adjust, result, sums.covariates is None)
    return CupedResult(**{**result.__dict__, "messages": tuple(messages)})


#: At most this many metrics are named in one message.
EXAMPLES = 10


def _fallback_messages(
    experiment: Experiment,
    variants: list[str],
    control: int,
    adjust: np.ndarray,
    result: CupedResult,
    no_columns: bool,
) -> list[str]:
    treatments = [v for v in range(len(variants)) if v != control]
    if not treatments:
        return []
    if no_columns:
        named = [f"{m.id} ({m.name})" for m, a in zip(experiment.metrics, adjust, strict=True) if a]
        return [
            f"experiment {experiment.id} sets cuped_lookback_days but the rows carry no covariate "
            f"sums (metric rows: {', '.join(METRIC_COVARIATE_VALUES[:2])}, …; unit rows: "
            f"{', '.join(UNIT_COVARIATE_VALUES)}): metrics " + _listed(named) + " are evaluated without CUPED"
        ]
    failed = adjust[:, np.newaxis] & ~result.cuped[:, treatments]
    named = []
    for m, t in zip(*np.nonzero(failed), strict=True):
        metric = experiment.metrics[m]
        named.append(f"metric {metric.id} ({metric.name}) variant {variants[treatments[t]]}")
    if not named:
        return []
    return [
        "CUPED not applied where the covariate has no variance or no sums (no pre-exposure data, or "
        "NULL covariate columns); evaluated without CUPED: " + _listed(named)
    ]


def _listed(names: list[str]) -> str:
    more = f"; and {len(names) - EXAMPLES} more" if len(names) > EXAMPLES else ""
    return "; ".join(names[:EXAMPLES]) + more
