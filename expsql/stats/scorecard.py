"""``evaluate``: rows of any contract → an :class:`~expsql.stats.evaluation.Evaluation`.

Order of operations (ep-stats' §3.10): per metric and variant count, mean, std → CUPED adjustment
of mean and std (metric and unit rows with covariate sums, :mod:`expsql.stats.cuped`) → sequential
level → the metrics table (:mod:`expsql.stats.metric_table`: relative t-test for all metrics ×
variants at once, degenerate rows to NaN with one warning, the readout of
:mod:`expsql.stats.readouts`, multiple-comparison correction across treatments, planning columns)
→ checks and exposures.
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
from expsql.stats.breakdowns import evaluate_breakdowns
from expsql.stats.checks import CheckResult, evaluate_check, planned_shares
from expsql.stats.corrections import Correction, check_correction
from expsql.stats.cuped import CupedResult, metric_cuped
from expsql.stats.detection import detect_contract
from expsql.stats.evaluation import Evaluation
from expsql.stats.goal_rows import goal_key_codes, metric_sums, sum_goal_rows
from expsql.stats.metric_rows import metric_statistics, sum_metric_rows
from expsql.stats.metric_table import DegenerateInputWarning, metric_columns
from expsql.stats.multiple_exposures import exposed_units, multiple_exposures_check, split_marked
from expsql.stats.readouts import (
    Readout,
    resolve_readout,
)
from expsql.stats.rows import (
    Contract,
    RowsLike,
    ValidRows,
    dimension_names,
    load_rows,
    unknown_variants,
    validate_rows,
    variant_order,
)
from expsql.stats.sequential import Sequential, check_sequential_mode, sequential_level
from expsql.stats.tables import CHECK_COLUMNS, EXPOSURE_COLUMNS, METRIC_COLUMNS, Table
from expsql.stats.timeline import evaluate_timeline
from expsql.stats.unit_rows import sum_unit_rows, validate_unit_rows
from expsql.stats.wide_rows import wide_goal_rows


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

        def evaluate_one(plain: Experiment, frame: pd.DataFrame, chosen: Correction) -> Evaluation:
            return _evaluate(plain, frame, chosen, readout, multiple_exposures)

        def look(as_of: Experiment, frame: pd.DataFrame) -> Evaluation:
            """One look at the rows: the segments' too, with a breakdown."""
            if not as_of.breakdown:
                return evaluate_one(as_of, frame, correction)
            return evaluate_breakdowns(as_of, frame.reset_index(drop=True), correction, evaluate_one, readout)

        if experiment.timeline is None:
            return look(experiment, load_rows(rows))
        last, timeline, segment_timeline = evaluate_timeline(experiment, load_rows(rows), look)
        evaluation = replace(look(experiment, last), timeline_table=timeline)
        if evaluation.breakdowns is None:
            return evaluation
        return replace(evaluation, breakdowns=replace(evaluation.breakdowns, timeline_table=segment_timeline))


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
    metrics, messages = metric_columns(
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
