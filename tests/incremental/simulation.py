"""A simulated experiment whose rows arrive late: the adversarial exposures and events of
:mod:`expsql.testing.exposure_events` (and the attributed rows derived from them), each given the
moment it lands in the warehouse, so a test can load "the data as of" any moment and compare a
refresh's rows with the full query's on exactly that data.

Values are multiples of 1/4, so every sum is exact in floating point and "equal" means equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from expsql.compiler import compile_sql
from expsql.dialects import Dao
from expsql.models import Experiment
from expsql.source import AnySource, ExposuresSource, Source, validate_source
from expsql.testing.exposure_events import DATE_FROM, END, SOURCE
from expsql.testing.exposure_events import generate_exposures_and_events as generate
from tests.engines.test_exposures_engines import ATTRIBUTION as ATTRIBUTION  # re-exported for the tests
from tests.engines.test_exposures_engines import PLAIN as PLAIN
from tests.engines.test_exposures_engines import experiment as engine_experiment

ARRIVAL = "arrival"
MARGIN_HOURS = 48.0
#: Daily refreshes from the experiment's first day to two days after its end, and one mid-day.
MOMENTS = [
    *(dt.datetime.combine(DATE_FROM, dt.time()) + dt.timedelta(days=d) for d in range(0, 10)),
]
MOMENTS.insert(4, MOMENTS[3] + dt.timedelta(hours=13, minutes=30))


def experiment(
    metrics: list[dict[str, Any]] | None = None, exp_id: str = "exp-1", **fields: Any
) -> Experiment:
    """The exposures-layout engine tests' experiment over the simulated window (their metrics by default)."""
    return engine_experiment(metrics or PLAIN, exp_id, **fields)


@dataclass(frozen=True)
class Simulation:
    """Source tables whose rows each carry the moment they arrive (:data:`ARRIVAL`)."""

    tables: dict[str, pd.DataFrame]
    source: AnySource

    def as_of(self, moment: dt.datetime) -> dict[str, pd.DataFrame]:
        """Each table as the warehouse holds it at ``moment``."""
        return {
            name: frame[frame[ARRIVAL] <= moment].drop(columns=ARRIVAL).reset_index(drop=True)
            for name, frame in self.tables.items()
        }


def _arrivals(rng: np.random.Generator, when: pd.Series, late_hours: float) -> pd.Series:
    """Most rows land within minutes; a fifth up to ``late_hours`` later (the margin's edge included)."""
    minutes = rng.integers(0, 30 if late_hours >= 1 else 1, len(when))
    late = rng.random(len(when)) < (0.2 if late_hours >= 1 else 0.0)
    hours = np.where(late, rng.uniform(1, max(late_hours, 1), len(when)), 0.0)
    hours[late & (rng.random(len(when)) < 0.1)] = late_hours
    lag = pd.to_timedelta(minutes, unit="min") + pd.to_timedelta(hours, unit="h")
    base = when.fillna(pd.Timestamp(END))  # a row without a timestamp lands at the end
    return (base + lag).dt.floor("s")


def exposures_simulation(seed: int = 7, units: int = 240, late_hours: float = MARGIN_HOURS) -> Simulation:
    """The exposures layout: ``exposures`` and ``events`` (``count`` read as the count column)."""
    rng = np.random.default_rng(seed)
    exposures, events = generate(seed, units=units)
    events["value"] = (events["value"] * 4).round() / 4
    exposures[ARRIVAL] = _arrivals(rng, exposures["timestamp"], late_hours)
    events[ARRIVAL] = _arrivals(rng, events["timestamp"], late_hours)
    source = validate_source(SOURCE)
    return Simulation({"exposures": exposures, "events": events}, source)


def attributed_simulation(seed: int = 7, units: int = 240) -> Simulation:
    """The attributed layout: each event of ``exp-1``'s units as an attributed row of its day."""
    rng = np.random.default_rng(seed)
    exposures, events = generate(seed, units=units)
    exposures = exposures.dropna(subset=["unit_id", "exp_id", "variant_id", "timestamp"])
    first = exposures.sort_values("timestamp").drop_duplicates(["exp_id", "unit_id"])
    rows = []
    exposure_rows = first.assign(event="exposure", value=np.nan, count=1, product=None)
    goal_rows = events.dropna(subset=["unit_id", "timestamp"]).merge(
        first[["exp_id", "unit_id", "variant_id", "platform"]]
    )
    for frame in (exposure_rows, goal_rows):
        rows.append(
            pd.DataFrame(
                {
                    "exp_id": frame["exp_id"],
                    "exp_variant_id": frame["variant_id"],
                    "unit_type": "user",
                    "agg_type": np.where(frame["event"] == "exposure", "global", "unit"),
                    "goal": frame["event"],
                    "unit_id": frame["unit_id"],
                    "cnt": frame["count"].fillna(1).astype("int64"),
                    "value": (frame["value"] * 4).round() / 4,
                    "date": frame["timestamp"].dt.floor("D"),
                    "product": frame["product"],
                    "platform": frame["platform"],
                    ARRIVAL: _arrivals(rng, frame["timestamp"], MARGIN_HOURS).to_numpy(),
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    table["date"] = table["date"].dt.date
    source = Source(dimensions={"product": "string", "platform": "string"})
    return Simulation({"events": table}, source)


def with_count_column(source: AnySource) -> AnySource:
    assert isinstance(source, ExposuresSource)
    events = source.events[0]
    counted = events.model_copy(update={"columns": events.columns.model_copy(update={"count": "count"})})
    return source.model_copy(update={"events": (counted,)})


def full_rows(experiment: Experiment, dao: Dao, dialect: str, source: AnySource, rows: str) -> pd.DataFrame:
    return dao.execute(compile_sql(experiment, dialect, rows, source))


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame, what: str = "") -> None:
    """The same rows in any order, every value equal (NaN equal to NaN)."""
    assert list(actual.columns) == list(expected.columns), what

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        text = frame.astype(str)
        return frame.loc[text.sort_values(list(text.columns)).index].reset_index(drop=True)

    pd.testing.assert_frame_equal(
        ordered(actual), ordered(expected), check_dtype=False, check_exact=True, obj=what
    )


Loader = Callable[[dict[str, pd.DataFrame]], None]
