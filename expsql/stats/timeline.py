"""The timeline's statistics: each day evaluated as the daily look a reader would have made then.

The timeline's rows (:mod:`expsql.compiler.timeline`) are metric rows with a ``day`` column, each
cumulative as of its day; a variant has no row on a day without activity, where its sums are
those of its latest earlier row (:func:`rows_as_of`). Day k of the window is evaluated exactly as
a single look with ``date_for`` = that day: the same :func:`~expsql.stats.evaluate` on the rows as
of that day, so its confidence level is the sequential level of look k of the window's daily looks
and the correction across variants is applied per look. The last day is therefore the single-look
result, number for number (when the single look is made on or after that day: ``date_for`` set,
or the window in the past).

Days before the first row (no unit exposed yet) have no look.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from expsql.contracts import METRIC_KEYS
from expsql.errors import RowsError
from expsql.models import Experiment
from expsql.stats.evaluation import Evaluation, Table
from expsql.timeline_days import DAY, timeline_days

#: The timeline frame's columns: the day and its look, then the metrics frame's own columns.
TIMELINE_COLUMNS: tuple[str, ...] = (
    "day", "look", "metric_id", "metric_name", "exp_variant_id", "count", "mean", "diff",
    "ci_lower", "ci_upper", "p_value", "confidence_level", "significant", "chance_to_win",
)  # fmt: skip


def row_days(frame: pd.DataFrame) -> pd.Series:
    """The rows' ``day`` column as dates (engines return dates, timestamps or ISO text).

    :raises RowsError: no ``day`` column, or a cell that is no date.
    """
    if DAY not in frame.columns:
        raise RowsError(
            "timeline: daily needs the timeline query's rows, metric rows with a day column; "
            "these rows have none (compile the experiment with its timeline, or remove timeline)"
        )
    try:
        with warnings.catch_warnings():  # text days: pandas guesses their format, and says so
            warnings.simplefilter("ignore", UserWarning)
            days = pd.to_datetime(frame[DAY])
    except (ValueError, TypeError) as error:
        raise RowsError(f"the rows' day column holds a value that is no date: {error}") from None
    if days.isna().any():
        raise RowsError("the rows' day column holds an empty cell")
    return days.dt.date


def rows_as_of(frame: pd.DataFrame, days: pd.Series, day: dt.date) -> pd.DataFrame:
    """The metric rows as of ``day``: per variant and metric row, its latest row up to that day,
    without the ``day`` column."""
    upto = frame[(days <= day).to_numpy(dtype=bool)]
    order = days[upto.index].to_numpy()
    latest = upto.iloc[np.argsort(order, kind="stable")].groupby(list(METRIC_KEYS), sort=False).tail(1)
    return latest.drop(columns=[DAY]).reset_index(drop=True)


def evaluate_timeline(
    experiment: Experiment,
    frame: pd.DataFrame,
    evaluate_look: Callable[[Experiment, pd.DataFrame], Evaluation],
) -> tuple[pd.DataFrame, Table]:
    """The rows as of the window's last day and the timeline: each day's look evaluated by
    ``evaluate_look`` (the single-look evaluation, its warnings silenced: the last day's are the
    evaluation's own).

    :raises TimelineError: the experiment has no date window or too long a one.
    :raises RowsError: the rows have no ``day`` column.
    """
    window = timeline_days(experiment)
    days = row_days(frame)
    first = days.min() if len(days) else None
    records: dict[str, list[Any]] = {name: [] for name in TIMELINE_COLUMNS}
    for look, day in enumerate(window, start=1):
        if first is None or day < first:
            continue
        as_of = experiment.model_copy(update={"date_for": day, "timeline": None})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            metrics = evaluate_look(as_of, rows_as_of(frame, days, day)).metric_table
        size = len(metrics)
        records["day"] += [day] * size
        records["look"] += [look] * size
        for name in TIMELINE_COLUMNS[2:]:
            records[name] += metrics.column(name).tolist()
    last = rows_as_of(frame, days, window[-1])
    values = {name: np.array(records[name], dtype=object) for name in TIMELINE_COLUMNS}
    for name in (
        "count",
        "mean",
        "diff",
        "ci_lower",
        "ci_upper",
        "p_value",
        "confidence_level",
        "chance_to_win",
    ):
        values[name] = np.array(records[name], dtype=float)
    values["look"] = np.array(records["look"], dtype=int)
    values["significant"] = np.array(records["significant"], dtype=bool)
    return last, Table.build(TIMELINE_COLUMNS, values)
