"""The timeline's oracle: the rows as of day d are the single-look rows of the window cut at d.

A timeline day is the experiment evaluated by a reader at the end of that day: the same
reference computation (:mod:`expsql.testing.reference`, :mod:`expsql.testing.attribution_reference`) with
``date_to = d``. Shared only with the models, never with the compiler.

Under ``multiple_exposures: exclude`` that holds for units exposed to several variants too: as
of a day before its second variant is seen, a unit counts in its first variant; from that day on
it is excluded and counted under the markers of its variants, as the single look of the window cut
there counts it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from expsql.models import Experiment
from expsql.source import ExposuresSource, Source
from expsql.testing import attribution_reference, reference
from expsql.testing.exposure_events import DATE_FROM, DATE_TO

EXPOSURE = "count(user.global.exposure)"


def timeline_experiment(metrics: list[dict[str, Any]], **fields: Any) -> Experiment:
    """``exp-1`` with ``timeline: daily`` over the test data's window, an SRM check and ``metrics``
    numbered from 1; ``fields`` override the rest."""
    numbered = [{"id": i, "name": f"metric {i}", **m} for i, m in enumerate(metrics, start=1)]
    base = {
        "id": "exp-1",
        "control_variant": "a",
        "unit_type": "user",
        "date_from": DATE_FROM.isoformat(),
        "date_to": DATE_TO.isoformat(),
        "timeline": "daily",
        "checks": [{"id": 1, "name": "SRM", "denominator": EXPOSURE}],
    }
    return Experiment.model_validate({**base, **fields, "metrics": numbered})


def as_of(experiment: Experiment, day: dt.date) -> Experiment:
    """The single-look experiment a reader at the end of ``day`` evaluates."""
    return experiment.model_copy(update={"date_to": day, "date_for": None, "timeline": None})


def attributed_as_of(
    events: pd.DataFrame, experiment: Experiment, source: Source, day: dt.date
) -> pd.DataFrame:
    """The metric rows of the attributed layout as of the end of ``day``."""
    return reference.metric_rows(events, as_of(experiment, day), source)


def exposures_as_of(
    exposures: pd.DataFrame,
    events: pd.DataFrame,
    experiment: Experiment,
    source: ExposuresSource,
    day: dt.date,
) -> pd.DataFrame:
    """The metric rows of the exposures layout as of the end of ``day``, the markers of units
    excluded for multiple exposures by then included."""
    return attribution_reference.metric_rows(exposures, events, as_of(experiment, day), source)
