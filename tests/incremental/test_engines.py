"""Incremental refresh on PostgreSQL and Spark (local mode): refreshes of the simulated experiment
on both layouts equal the full query on the same data (the DuckDB tests walk every moment and
feature; these walk a few moments of the features whose SQL differs most per engine)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from expsql.dialects import Dao, get
from expsql.incremental import StateOptions, refresh
from expsql.models import Experiment
from expsql.source import AnySource, ExposuresSource, Source
from expsql.testing import load
from tests.incremental.simulation import (
    ATTRIBUTION,
    MOMENTS,
    PLAIN,
    Simulation,
    assert_same_rows,
    attributed_simulation,
    experiment,
    exposures_simulation,
    full_rows,
)

pytestmark = pytest.mark.filterwarnings("ignore::expsql.stats.metric_table.DegenerateInputWarning")

WALK = [MOMENTS[2], MOMENTS[4], MOMENTS[8]]
#: Spark local takes seconds a statement: two moments, the second incremental.
SPARK_WALK = [MOMENTS[2], MOMENTS[5]]
CASES: dict[str, Experiment] = {
    "cuped, breakdown": experiment(PLAIN[:3], cuped_lookback_days=2, breakdown=["platform"], **ATTRIBUTION),
    "timeline, per-metric windows": experiment(
        [{**PLAIN[0], "conversion_window_hours": 1}, PLAIN[2]], timeline="daily", **ATTRIBUTION
    ),
}


def _renamed(source: AnySource, prefix: str) -> AnySource:
    if isinstance(source, Source):
        return source.model_copy(update={"table": f"{prefix}{source.table}"})
    assert isinstance(source, ExposuresSource)
    exposures = source.exposures.model_copy(update={"table": f"{prefix}{source.exposures.table}"})
    events = tuple(t.model_copy(update={"table": f"{prefix}{t.table}"}) for t in source.events)
    return source.model_copy(update={"exposures": exposures, "events": events})


def _walk(
    dao: Dao,
    dialect: str,
    loader: Callable[[pd.DataFrame, str], None],
    simulation: Simulation,
    case: Experiment,
    schema: str,
    walk: list[dt.datetime] = WALK,
) -> None:
    prefix = f"{schema}_"
    source = _renamed(simulation.source, prefix)
    for moment in walk:
        for name, frame in simulation.as_of(moment).items():
            loader(frame, f"{prefix}{name}")
        done = refresh(
            case, dao, dialect=dialect, state=StateOptions(schema), source=source, as_of=moment, close=False
        )
        assert done.incremental == (moment != walk[0])
        assert_same_rows(
            done.run.frame, full_rows(case, dao, dialect, source, "metrics"), f"{dialect}, {moment}"
        )


def _simulations() -> list[tuple[str, Simulation, Experiment]]:
    exposures = exposures_simulation(units=120)
    walks = [(name, exposures, case) for name, case in CASES.items()]
    return [
        *walks,
        ("attributed", attributed_simulation(units=120), experiment(PLAIN[:3], breakdown=["platform"])),
    ]


SIMULATIONS = _simulations()
NAMES = [name for name, _, _ in SIMULATIONS]


@pytest.mark.engine("postgres")
@pytest.mark.parametrize("index", range(len(SIMULATIONS)), ids=NAMES)
def test_postgres_refreshes_equal_the_full_query(index: int, postgres_connection: Any) -> None:
    _, simulation, case = SIMULATIONS[index]
    dao = get("postgres").connect(connection=postgres_connection)

    def loader(frame: pd.DataFrame, table: str) -> None:
        load.to_postgres(postgres_connection, frame, table=table)

    _walk(dao, "postgres", loader, simulation, case, f"incremental_{index}")


@pytest.mark.engine("spark")
@pytest.mark.parametrize("index", [0, len(SIMULATIONS) - 1], ids=[NAMES[0], NAMES[-1]])
def test_spark_refreshes_equal_the_full_query(index: int, spark_session: Any) -> None:
    _, simulation, case = SIMULATIONS[index]
    dao = get("spark").connect(session=spark_session)

    def loader(frame: pd.DataFrame, table: str) -> None:
        load.to_spark(spark_session, frame, table=table)

    _walk(dao, "spark", loader, simulation, case, f"incremental_{index}", SPARK_WALK)
