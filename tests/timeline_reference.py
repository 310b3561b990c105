"""The timeline's oracle: the rows as of day d are the single-look rows of the window cut at d.

A timeline day is the experiment evaluated by a reader at the end of that day: the same
reference computation (:mod:`tests.reference`, :mod:`tests.attribution_reference`) with
``date_to = d``. Shared only with the models, never with the compiler.

The exposures layout excludes a unit exposed to several variants on every day once it is so as
of the last day (documented in :mod:`expsql.compiler.timeline`); a reader on an earlier day would
have counted it in its first variant. :func:`exposures_as_of` compares the real variants with
those units left out of the log, which is what the timeline reports for them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from expsql.contracts import MULTIPLE_EXPOSURES_PREFIX
from expsql.models import Experiment
from expsql.source import ExposuresSource, Source
from tests import attribution_reference, reference
from tests.exposure_events import DATE_FROM, DATE_TO

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


def excluded_units(exposures: pd.DataFrame, experiment: Experiment, source: ExposuresSource) -> set[str]:
    """Units exposed to several variants in the whole window (none with ``multiple_exposures: first``)."""
    if experiment.multiple_exposures != "exclude":
        return set()
    columns = source.exposures.columns
    log = exposures.dropna(subset=[columns.unit_id, columns.variant, columns.timestamp, columns.exp_id])
    log = log[log[columns.exp_id].astype(str) == experiment.id]
    assert experiment.date_from is not None and experiment.date_until is not None
    start = pd.Timestamp(experiment.date_from)
    end = pd.Timestamp(experiment.date_until + dt.timedelta(days=1))
    log = log[(log[columns.timestamp] >= start) & (log[columns.timestamp] < end)]
    variants = log.groupby(columns.unit_id)[columns.variant].nunique()
    return set(variants[variants > 1].index)


def exposures_as_of(
    exposures: pd.DataFrame,
    events: pd.DataFrame,
    experiment: Experiment,
    source: ExposuresSource,
    day: dt.date,
) -> pd.DataFrame:
    """The real variants' metric rows of the exposures layout as of the end of ``day``."""
    excluded = excluded_units(exposures, experiment, source)
    kept = exposures[~exposures[source.exposures.columns.unit_id].isin(excluded)]
    rows = attribution_reference.metric_rows(kept, events, as_of(experiment, day), source)
    return real_variants(rows)


def real_variants(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of evaluated variants (not the markers of excluded units)."""
    marked = rows["exp_variant_id"].astype(str).str.startswith(MULTIPLE_EXPOSURES_PREFIX)
    return rows[~marked.to_numpy(dtype=bool)].reset_index(drop=True)
