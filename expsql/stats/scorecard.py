"""``evaluate``: rows of any contract → an :class:`~expsql.stats.evaluation.Evaluation`.

Order of operations (ep-stats' §3.10): per metric and variant count, mean, std → CUPED adjustment
of mean and std (metric and unit rows with covariate sums, :mod:`expsql.stats.cuped`) → sequential
level → relative t-test for all metrics × variants at once → degenerate rows to NaN (one warning) →
multiple-comparison correction across treatments → planning columns → checks and exposures.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from expsql.contracts import check_row_id
from expsql.models import Experiment, Inference, Prior
from expsql.stats.bad_rows import (
    goal_row_messages,
    metric_row_messages,
    poisoned_goal_metrics,
    poisoned_metric_rows,
    variant_message,
)
from expsql.stats.bayesian import decided
from expsql.stats.breakdowns import evaluate_breakdowns
from expsql.stats.checks import CheckResult, evaluate_check, planned_shares
from expsql.stats.corrections import Correction, adjust_p_values, check_correction
from expsql.stats.cuped import CupedResult, metric_cuped
from expsql.stats.evaluation import CHECK_COLUMNS, EXPOSURE_COLUMNS, METRIC_COLUMNS, Evaluation, Table
from expsql.stats.goal_rows import goal_key_codes, metric_sums, sum_goal_rows
from expsql.stats.metric_rows import metric_statistics, sum_metric_rows
from expsql.stats.multiple_exposures import exposed_units, multiple_exposures_check, split_marked
from expsql.stats.planning import achieved_power, false_positive_risk, required_sample_sizes
from expsql.stats.readouts import (
    Readout,
    ReadoutColumns,
    comparison_sizes,
    interval_bounds,
    metric_directions,
    readout_columns,
    resolve_readout,
    widened_half_widths,
)
from expsql.stats.rows import (
    Contract,
    RowsLike,
    ValidRows,
    detect_contract,
    dimension_names,
    load_rows,
    unknown_variants,
    validate_rows,
    variant_order,
)
from expsql.stats.sequential import Sequential, check_sequential_mode, sequential_level
from expsql.stats.timeline import evaluate_timeline
from expsql.stats.ttest import degenerate_reasons, relative_ttest
from expsql.stats.unit_rows import sum_unit_rows, validate_unit_rows
from expsql.stats.wide_rows import wide_goal_rows

#: At most this many metric × variant pairs are named in one degenerate-input warning.
WARNING_EXAMPLES = 20


class DegenerateInputWarning(UserWarning):
    """Some metric × variant could not be tested; its statistics are NaN."""


class CupedWarning(DegenerateInputWarning):
    """CUPED could not adjust some metric × variant (no covariate sums or no covariate variance):
    its statistics are the unadjusted ones."""


class RowsWarning(DegenerateInputWarning):
    """Rows with bad cells, duplicates or unknown variants: evaluated anyway, as the message says.

    A subclass of :class:`DegenerateInputWarning`, so that whoever lists those in the scorecard
    (and silences the Python warning) does the same for these.
    """


def evaluate(
    experiment: Experiment,
    rows: RowsLike,
    *,
    correction: Correction = "holm",
    sequential: Sequential | None = None,
    multiple_exposures: bool | None = None,
    inference: Inference | None = None,
    prior: Prior | dict[str, Any] | None = None,
    sequential_tuning: float | None = None,
    decision_threshold: float | None = None,
) -> Evaluation:
    """Evaluate an experiment from goal, metric, unit or wide rows (recognised from the columns).

    With ``experiment.cuped_lookback_days``, metric rows carrying the CUPED columns (or unit rows
    with ``pre_count, pre_sum_value``) adjust each metric by its pre-exposure value
    (:mod:`expsql.stats.cuped`); the metrics frame says where (``cuped``) and by how much
    (``variance_reduction``), and a :class:`CupedWarning` names metrics left unadjusted.

    :param experiment: the experiment whose metrics and checks to evaluate.
    :param rows: a pandas DataFrame, a list of dicts, a pyarrow Table or a CSV/Parquet/JSON path.
    :param correction: across the treatment variants of each metric: ``holm`` (default),
        ``bonferroni``, ``benjamini-hochberg`` or ``none``.
    :param sequential: ``obrien-fleming`` (exact Lan–DeMets boundaries when ``date_from`` and
        ``date_to`` are set, the frequentist default), ``ep-stats`` (its nominal per-day rule),
        ``always-valid`` (a confidence sequence valid at any look, :mod:`expsql.stats.always_valid`)
        or ``none``; default the experiment's ``sequential``.
    :param inference: ``frequentist`` or ``bayesian`` (:mod:`expsql.stats.bayesian`: chance to win,
        risk, a credible interval; no correction); default the experiment's ``inference``.
    :param prior: Bayesian: the Gaussian prior ``{mean, variance, proper}`` on the relative effect;
        default the experiment's (flat).
    :param sequential_tuning: always-valid: the total sample size where the sequence is tightest.
    :param decision_threshold: Bayesian: the chance to win above which a treatment won.
    :param multiple_exposures: report the MultipleExposures check (units exposed to several
        variants, which the exposures layout excludes and marks in the rows,
        :mod:`expsql.stats.multiple_exposures`): ``None`` when the rows hold such units.
    With ``experiment.timeline``, the rows are the timeline's (metric rows with a ``day``): the
    evaluation is the window's last day, and its ``timeline`` each day's look
    (:mod:`expsql.stats.timeline`).

    :raises TimelineError: a timeline without a date window, or with too long a one.
    :raises RowsError: the rows fit no contract, hold bad values or another experiment's rows, or a
        metric asks for winsorization on rows without per-unit values (goal or wide rows).
    """
    readout = resolve_readout(
        experiment,
        inference=inference,
        sequential=sequential,
        prior=prior,
        sequential_tuning=sequential_tuning,
        decision_threshold=decision_threshold,
    )
    check_correction(correction)
    check_sequential_mode(readout.sequential)
    if readout.bayesian:
        correction = "none"  # each posterior is read on its own
    # NaN and inf are results here (named in a DegenerateInputWarning), not floating-point alarms.
    with np.errstate(all="ignore"):
        if experiment.timeline is not None:

            def look(as_of: Experiment, frame: pd.DataFrame) -> Evaluation:
                return _evaluate(as_of, frame, correction, readout, multiple_exposures)

            last, timeline = evaluate_timeline(experiment, load_rows(rows), look)
            evaluation = _evaluate(experiment, last, correction, readout, multiple_exposures)
            return replace(evaluation, timeline_table=timeline)
        if not experiment.breakdown:
            return _evaluate(experiment, rows, correction, readout, multiple_exposures)

        def evaluate_one(plain: Experiment, frame: pd.DataFrame, chosen: Correction) -> Evaluation:
            return _evaluate(plain, frame, chosen, readout, multiple_exposures)

        frame = load_rows(rows).reset_index(drop=True)
        return evaluate_breakdowns(experiment, frame, correction, evaluate_one, readout)


def _evaluate(
    experiment: Experiment,
    rows: RowsLike,
    correction: Correction,
    readout: Readout,
    multiple_exposures: bool | None,
) -> Evaluation:
    frame = load_rows(rows).reset_index(drop=True)  # validation builds columns on a RangeIndex
    keys = experiment.goal_keys()  # walks every expression: once per evaluation
    dimensions = dimension_names(keys)
    contract = detect_contract(frame, dimensions)
    frame, marked = split_marked(frame)
    report_multiple = multiple_exposures or (multiple_exposures is None and not marked.empty)
    if report_multiple:
        excluded = exposed_units(marked, contract, experiment, dimensions)
        evaluated = exposed_units(frame, contract, experiment, dimensions)
    valid, clean = _validated(frame, contract, experiment, dimensions)
    variants = variant_order(experiment, clean["exp_variant_id"])
    row_messages = variant_message(experiment, variants, unknown_variants(variants, clean["exp_variant_id"]))
    level = sequential_level(
        readout.sequential,
        experiment.confidence_level,
        experiment.date_from,
        experiment.date_to,
        experiment.date_for,
    )
    shares = planned_shares(experiment, variants)
    cuped: CupedResult | None = None
    if contract in ("goal rows", "wide rows"):
        key_codes = goal_key_codes(clean, keys)
        if valid is not None:
            row_messages += goal_row_messages(valid, experiment, variants, keys, key_codes)
        totals = sum_goal_rows(clean, experiment, variants, keys, key_codes)
        invalid = poisoned_goal_metrics(totals, experiment)
        count, sum_value, sum_sqr_value = metric_sums(totals, experiment)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = sum_value / count
            variance = (sum_sqr_value - sum_value * mean) / (count - 1)
        sample_size = count.copy()
        if contract == "goal rows":
            # ep-stats' rule: count is not the number of units when the denominator reads value()
            # (its goal-name metrics, the only kind wide rows serve, keep count as the sample size).
            value_denominators = [m.denominator.lstrip().startswith("value(") for m in experiment.metrics]
            sample_size[np.array(value_denominators, dtype=bool)] = np.nan
        exposures = totals.exposures
        check_results = [
            evaluate_check(
                check,
                None if check.nominator_expr is None else totals.evaluate(check.nominator_expr)[0],
                totals.evaluate(check.denominator_expr)[0],
                shares,
            )
            for check in experiment.checks
        ]
    else:
        if contract == "unit rows":
            sums = sum_unit_rows(clean, experiment, variants, keys)
        else:
            assert valid is not None
            row_messages += metric_row_messages(valid, experiment, variants)
            sums = sum_metric_rows(clean, experiment, variants)
        invalid = poisoned_metric_rows(sums, experiment)
        ratios = metric_statistics(sums, experiment)
        count, mean, sum_value = ratios.n, ratios.ratio, ratios.sum_x
        cuped = metric_cuped(sums, experiment, variants)
        if cuped is not None:
            mean = cuped.mean
        with np.errstate(invalid="ignore"):
            variance = (ratios.variance if cuped is None else cuped.variance) * count
        sample_size = count.copy()
        exposures = sums.exposures
        check_results = [
            evaluate_check(
                check,
                sums.column(check_row_id(check.id), "sum_x"),
                sums.column(check_row_id(check.id), "sum_y"),
                shares,
            )
            for check in experiment.checks
        ]
    if report_multiple:
        check_results.append(multiple_exposures_check(experiment, variants, excluded, evaluated))
    for message in row_messages:
        warnings.warn(message, RowsWarning, stacklevel=3)
    cuped_messages = list(cuped.messages) if cuped is not None else []
    for message in cuped_messages:
        warnings.warn(message, CupedWarning, stacklevel=3)
    metrics, messages = _metric_columns(
        experiment,
        variants,
        level,
        correction,
        readout,
        (count, mean, variance, sum_value, sample_size, invalid),
        cuped,
    )
    return Evaluation(
        experiment_id=experiment.id,
        contract=contract,
        control_variant=experiment.control_variant,
        variants=tuple(variants),
        confidence_level=level,
        correction=correction,
        sequential=readout.sequential,
        exposure_table=Table.build(
            EXPOSURE_COLUMNS, {"exp_variant_id": variants, "exposures": exposures, "exp_id": experiment.id}
        ),
        metric_table=Table.build(METRIC_COLUMNS, metrics),
        check_table=_check_table(experiment.id, check_results),
        warnings=(*row_messages, *cuped_messages, *messages),
        experiment=experiment,
        inference=readout.inference,
        prior=readout.prior.model_dump(),
        sequential_tuning=readout.sequential_tuning,
        decision_threshold=readout.decision_threshold,
    )


def _validated(
    frame: pd.DataFrame, contract: Contract, experiment: Experiment, dimensions: list[str]
) -> tuple[ValidRows | None, pd.DataFrame]:
    """The rows in their contract's clean form (wide rows become goal rows), with the cell-level
    findings of the contracts validated leniently (goal and metric rows; the others are strict)."""
    if contract in ("goal rows", "wide rows"):
        experiment.require_metric_rows(f"evaluate {contract}")
    if contract == "unit rows":
        return None, validate_unit_rows(frame, experiment, dimensions)
    if contract == "wide rows":
        return None, wide_goal_rows(frame, experiment)
    valid = validate_rows(frame, contract, experiment, dimensions)
    return valid, valid.frame


def _metric_columns(
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
    degenerate = reasons != ""
    for array in (test_stat, p_value, interval, error, freedom):
        array[degenerate] = np.nan
    diff[degenerate & ~np.isfinite(diff)] = np.nan
    messages = _degenerate_messages(experiment, variants, reasons)
    if messages:
        warnings.warn(" ".join(messages), DegenerateInputWarning, stacklevel=3)
    read = readout_columns(
        readout,
        ReadoutColumns(diff, test_stat, p_value, interval, error, freedom, *(diff,) * 3),
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


def _degenerate_messages(experiment: Experiment, variants: list[str], reasons: np.ndarray) -> list[str]:
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


def _check_table(experiment_id: str, results: list[CheckResult]) -> Table:
    records = [
        (r.check.id, r.check.name, variable, value, r.passed)
        for r in results
        for variable, value in r.variables
    ]
    columns = list(zip(*records, strict=True)) if records else [(), (), (), (), ()]
    return Table.build(
        CHECK_COLUMNS,
        {
            "exp_id": np.full(len(records), experiment_id, dtype=object),
            "check_id": np.array(columns[0], dtype=object),
            "check_name": np.array(columns[1], dtype=object),
            "variable_id": np.array(columns[2], dtype=object),
            "value": np.array(columns[3], dtype=float),
            "passed": np.array(columns[4], dtype=object),  # True, False or None (undecidable)
        },
    )
