"""The experiment and source the fault tests kill refreshes of (shared with the killed process)."""

from __future__ import annotations

from expsql.source import AnySource, ExposuresSource
from tests.incremental.simulation import ATTRIBUTION, experiment, exposures_simulation

#: CUPED, so the killed refresh has the most to settle (the pre-period of new units too).
EXPERIMENT = experiment(cuped_lookback_days=2, **ATTRIBUTION)
SIMULATION = exposures_simulation(units=120)
SOURCE = SIMULATION.source
#: The source tables' names on PostgreSQL, whose server other test modules share.
PREFIX = "faults_"


def source_for(source: AnySource, dialect: str) -> AnySource:
    if dialect == "duckdb":
        return source
    assert isinstance(source, ExposuresSource)
    exposures = source.exposures.model_copy(update={"table": f"{PREFIX}exposures"})
    events = tuple(table.model_copy(update={"table": f"{PREFIX}{table.table}"}) for table in source.events)
    return source.model_copy(update={"exposures": exposures, "events": events})
