"""The daily timeline (``timeline: daily``): which days it has and what it needs, before any SQL.

A timeline is the experiment's cumulative result as of the end of each day of its window
``[date_from, min(date_to, date_for)]``, evaluated day by day as the daily looks of a sequential
test. The compiler builds its rows in the one query (:mod:`expsql.compiler.timeline`), the stats
evaluate each day (:mod:`expsql.stats.timeline`); both check the experiment here first, so a
timeline that cannot be built fails with a :class:`~expsql.errors.TimelineError` naming what to
change, before any query runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from expsql.contracts import TIMELINE_DAY
from expsql.errors import TimelineError
from expsql.models import Experiment

#: At most this many days in one timeline: a quarter. Each day is one look of the sequential test
#: and one row per metric, variant and day; a longer window is evaluated in pieces (or without
#: the timeline). Pass ``max_days`` to :func:`timeline_days` to allow more.
MAX_TIMELINE_DAYS: Final = 92
#: The row contract a timeline is built over.
TIMELINE_ROWS: Final = "metrics"
#: The column that the timeline's rows add to the metric rows: the day they are cumulative to.
DAY: Final = TIMELINE_DAY


def timeline_days(experiment: Experiment, *, max_days: int = MAX_TIMELINE_DAYS) -> list[dt.date]:
    """The days of the experiment's timeline, first to last.

    :raises TimelineError: no ``date_from`` or ``date_to``, or more than ``max_days`` days.
    """
    if experiment.date_from is None or experiment.date_to is None:
        missing = " and ".join(
            name
            for name, value in (("date_from", experiment.date_from), ("date_to", experiment.date_to))
            if value is None
        )
        raise TimelineError(
            f"timeline: daily needs the experiment's date window, but experiment {experiment.id} has no "
            f"{missing}: set date_from and date_to (the timeline's first and last day), or remove timeline"
        )
    last = experiment.date_until
    assert last is not None  # date_to is set
    days = (last - experiment.date_from).days + 1
    if days > max_days:
        raise TimelineError(
            f"timeline: daily of experiment {experiment.id} spans {days} days "
            f"({experiment.date_from} to {last}); a timeline has at most {max_days} days: "
            "shorten the window (date_from, date_to or date_for), or remove timeline"
        )
    return [experiment.date_from + dt.timedelta(days=k) for k in range(days)]


def check_timeline(experiment: Experiment, rows: str) -> list[dt.date]:
    """The timeline's days, when the experiment asks for one and ``rows`` can carry it.

    :raises TimelineError: as :func:`timeline_days`, or ``rows`` is not metric rows.
    """
    if experiment.timeline is None:
        return []
    quantiles = experiment.quantile_metrics()
    if quantiles:
        named = ", ".join(f"{m.id} ({m.name})" for m in quantiles)
        raise TimelineError(
            f"timeline: daily of experiment {experiment.id} cannot include quantile metric {named}: "
            "each day's cumulative quantile needs every observation up to that day ranked again (a "
            "quantile is not a sum that days add up to), one ranking per day over all the data. "
            "Evaluate the quantile metrics in an experiment without timeline."
        )
    days = timeline_days(experiment)
    if rows != TIMELINE_ROWS:
        raise TimelineError(
            f"timeline: daily of experiment {experiment.id} is built over metric rows, not {rows} rows "
            "(their per-unit squares are cumulative per day only in the per-unit step of metric "
            'rows). Use metric rows (--rows metrics, or "rows": "metrics"), or remove timeline.'
        )
    return days
