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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from expsql.contracts import METRIC_KEYS
from expsql.errors import RowsError
from expsql.models import Experiment
from expsql.stats.evaluation import Evaluation
from expsql.stats.segment_results import SEGMENT_KEYS
from expsql.stats.tables import Table
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


def rows_as_of(
    frame: pd.DataFrame, days: pd.Series, day: dt.date, segments: Sequence[str] = ()
) -> pd.DataFrame:
    """The metric rows as of ``day``: per variant, metric row (and breakdown ``segments``), its
    latest row up to that day, without the ``day`` column."""
    upto = frame[(days <= day).to_numpy(dtype=bool)]
    order = days[upto.index].to_numpy()
    keys = [*METRIC_KEYS, *segments]
    latest = upto.iloc[np.argsort(order, kind="stable")].groupby(keys, sort=False, dropna=False).tail(1)
    return latest.drop(columns=[DAY]).reset_index(drop=True)


def evaluate_timeline(
    experiment: Experiment,
    frame: pd.DataFrame,
    evaluate_look: Callable[[Experiment, pd.DataFrame], Evaluation],
) -> tuple[pd.DataFrame, Table, Table | None]:
    """The rows as of the window's last day, the timeline and, with a breakdown, each segment's
    timeline: each day's look evaluated by ``evaluate_look`` (the single-look evaluation, with its
    breakdown; its warnings silenced: the last day's are the evaluation's own).

    :raises TimelineError: the experiment has no date window or too long a one.
    :raises RowsError: the rows have no ``day`` column.
    """
    window = timeline_days(experiment)
    days = row_days(frame)
    first = days.min() if len(days) else None
    segments = list(experiment.breakdown)
    overall: dict[str, list[Any]] = {name: [] for name in TIMELINE_COLUMNS}
    by_segment: dict[str, list[Any]] = {name: [] for name in (*SEGMENT_KEYS, *TIMELINE_COLUMNS)}
    for look, day in enumerate(window, start=1):
        if first is None or day < first:
            continue
        as_of = experiment.model_copy(update={"date_for": day, "timeline": None})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = evaluate_look(as_of, rows_as_of(frame, days, day, segments))
        _collect(overall, result.metric_table, day, look)
        if result.breakdowns is not None:
            _collect(by_segment, result.breakdowns.metric_table, day, look)
    last = rows_as_of(frame, days, window[-1], segments)
    segment_table = _table(by_segment, (*SEGMENT_KEYS, *TIMELINE_COLUMNS)) if segments else None
    return last, _table(overall, TIMELINE_COLUMNS), segment_table


def _collect(records: dict[str, list[Any]], metrics: Table, day: dt.date, look: int) -> None:
    """Append one look's metrics table (or a breakdown's) to the timeline's columns."""
    size = len(metrics)
    records["day"] += [day] * size
    records["look"] += [look] * size
    for name in records:
        if name not in ("day", "look"):
            records[name] += metrics.column(name).tolist()


def _table(records: dict[str, list[Any]], columns: tuple[str, ...]) -> Table:
    values = {name: np.array(records[name], dtype=object) for name in columns}
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
    return Table.build(columns, values)
