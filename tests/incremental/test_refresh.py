"""Incremental refresh on DuckDB: at every moment of a simulated experiment whose rows arrive late
(within the margin), the refresh's rows equal the full query's on the same data, for both layouts
and every feature the compiler has; data later than the margin is missed until a full refresh,
as documented; a change of definition rebuilds the state and says so.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd
import pytest

from expsql.dialects import get
from expsql.dialects.duckdb import DuckDBDao
from expsql.incremental import IncrementalError, StateOptions, refresh
from expsql.incremental.state import StateTables
from expsql.models import Experiment
from expsql.source import AnySource
from expsql.testing import load
from tests.engines.test_exposures_engines import CASES as EXPOSURES_CASES
from tests.incremental.simulation import (
    ATTRIBUTION,
    MARGIN_HOURS,
    MOMENTS,
    PLAIN,
    Simulation,
    assert_same_rows,
    attributed_simulation,
    experiment,
    exposures_simulation,
    full_rows,
    with_count_column,
)

pytestmark = pytest.mark.filterwarnings("ignore::expsql.stats.metric_table.DegenerateInputWarning")

STATE = StateOptions("state", late_arrival_hours=MARGIN_HOURS)

CASES: dict[str, Experiment] = {
    **EXPOSURES_CASES,  # every case of the exposures layout's engine tests, then what a state adds
    "cuped": experiment(cuped_lookback_days=2, **ATTRIBUTION),
    "cuped, no delay": experiment(cuped_lookback_days=1.5),
    "breakdown": experiment(PLAIN[:3], breakdown=["platform", "country"], **ATTRIBUTION),
    "timeline": experiment(timeline="daily", **ATTRIBUTION),
    "timeline, first variant": experiment(timeline="daily", multiple_exposures="first"),
    "unit quantile": experiment([{"nominator": "count(user.unit.click)", "quantile": 0.5}, PLAIN[1]]),
}


def _rows(case: Experiment) -> list[str]:
    if case.needs_metric_rows() or case.quantile_metrics():
        return ["metrics"]
    return ["metrics", "goals", "units"]


@pytest.fixture
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield connection


def _dao(connection: duckdb.DuckDBPyConnection) -> DuckDBDao:
    return DuckDBDao(connection, owned=False)


def _load(connection: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        load.to_duckdb(connection, frame, table=name)


def _walk(
    connection: duckdb.DuckDBPyConnection,
    simulation: Simulation,
    case: Experiment,
    rows: str,
    source: AnySource | None = None,
    moments: list[dt.datetime] = MOMENTS,
) -> list[bool]:
    """Refresh at each moment on the data as of then; each time, the rows equal the full query's.
    Returns whether each refresh was incremental."""
    source = source or simulation.source
    incremental = []
    for moment in moments:
        _load(connection, simulation.as_of(moment))
        done = refresh(
            case, _dao(connection), dialect="duckdb", state=STATE, source=source, rows=rows, as_of=moment
        )
        expected = full_rows(case, _dao(connection), "duckdb", source, rows)
        assert_same_rows(done.run.frame, expected, f"{rows} as of {moment}")
        incremental.append(done.incremental)
    return incremental


@pytest.fixture(scope="module")
def exposures() -> Simulation:
    return exposures_simulation()


@pytest.mark.parametrize(
    ("name", "rows"), [(name, rows) for name, case in CASES.items() for rows in _rows(case)]
)
def test_every_refresh_equals_the_full_query(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation, name: str, rows: str
) -> None:
    # The stats cannot break down rows of no unit yet (an empty breakdown), so a breakdown starts a day in.
    moments = MOMENTS[1:] if CASES[name].breakdown else MOMENTS
    incremental = _walk(connection, exposures, CASES[name], rows, moments=moments)
    assert incremental == [False] + [True] * (len(moments) - 1)


def test_a_count_column_is_summed(connection: duckdb.DuckDBPyConnection, exposures: Simulation) -> None:
    _walk(connection, exposures, CASES["delay and window"], "metrics", with_count_column(exposures.source))


@pytest.mark.parametrize("rows", ["metrics", "goals", "units"])
def test_the_attributed_layout(connection: duckdb.DuckDBPyConnection, rows: str) -> None:
    case = experiment(PLAIN[:3], breakdown=["platform"]) if rows == "metrics" else experiment()
    _walk(connection, attributed_simulation(), case, rows, moments=MOMENTS[2:])


def test_the_attributed_layout_timeline(connection: duckdb.DuckDBPyConnection) -> None:
    _walk(connection, attributed_simulation(), experiment(timeline="daily"), "metrics")


def test_a_zero_margin_is_exact_for_data_on_time(connection: duckdb.DuckDBPyConnection) -> None:
    on_time = exposures_simulation(late_hours=0)
    case = CASES["delay and window"]
    for moment in MOMENTS:
        _load(connection, on_time.as_of(moment))
        state = StateOptions("state", late_arrival_hours=0)
        done = refresh(
            case, _dao(connection), dialect="duckdb", state=state, source=on_time.source, as_of=moment
        )
        expected = full_rows(case, _dao(connection), "duckdb", on_time.source, "metrics")
        assert_same_rows(done.run.frame, expected, f"as of {moment}")


def test_data_later_than_the_margin_is_missed_until_a_full_refresh(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    """A click 72 h late on a 48 h margin: the state settled its hour before it arrived."""
    late = exposures_simulation(late_hours=0)
    events, exposures = late.tables["events"], late.tables["exposures"]
    first = exposures[exposures["exp_id"] == "exp-1"].groupby("unit_id")["timestamp"].min()
    clicks = events[(events["event"] == "click") & (events["value"] > 0)].join(
        first.rename("t0"), on="unit_id"
    )
    day = pd.Timestamp(MOMENTS[2])
    counted = clicks[(clicks["timestamp"] > clicks["t0"]) & (clicks["timestamp"] > day)]
    counted = counted[counted["timestamp"] < day + pd.Timedelta(days=2)]
    click = counted.index[0]
    events.loc[click, "arrival"] = events.loc[click, "timestamp"] + pd.Timedelta(hours=72)
    case = CASES["plain"]
    moments = [m for m in MOMENTS if m.hour == 0]
    for moment in moments:
        _load(connection, late.as_of(moment))
        refresh(case, _dao(connection), dialect="duckdb", state=STATE, source=late.source, as_of=moment)
    missed = refresh(
        case, _dao(connection), dialect="duckdb", state=STATE, source=late.source, as_of=moments[-1]
    )
    expected = full_rows(case, _dao(connection), "duckdb", late.source, "metrics")
    clicks = missed.run.frame.set_index(["exp_variant_id", "metric_id"])["sum_x"]
    want = expected.set_index(["exp_variant_id", "metric_id"])["sum_x"]
    assert (want - clicks).abs().sum() > 0  # the late click's metric is short by it
    rebuilt = refresh(
        case,
        _dao(connection),
        dialect="duckdb",
        state=STATE,
        source=late.source,
        as_of=moments[-1],
        full_refresh=True,
    )
    assert not rebuilt.incremental and rebuilt.reason == "--full-refresh"
    assert_same_rows(rebuilt.run.frame, expected)


def test_a_refresh_run_twice_is_idempotent(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation
) -> None:
    case, moment = CASES["cuped"], MOMENTS[5]
    _load(connection, exposures.as_of(moment))
    first = refresh(
        case, _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=moment
    )
    again = refresh(
        case, _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=moment
    )
    assert again.incremental and again.record is not None and first.record is not None
    assert again.record.settled_until == first.record.settled_until
    assert again.record.state_version == first.record.state_version + 1
    assert_same_rows(again.run.frame, first.run.frame)
    tables = StateTables("state", case.id)
    names = {row[0] for row in connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'state'"
    ).fetchall()}  # fmt: skip
    current = {
        name.split(".")[1] for p in ("exposures", "events_0") for name in again.record.tiers.tables(tables, p)
    }
    assert names == {"expsql_state", *current}  # the previous version's recent tables are dropped


def test_a_base_merged_every_few_refreshes_and_recent_tables_between(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation
) -> None:
    case = CASES["cuped"]
    state = StateOptions("state", late_arrival_hours=MARGIN_HOURS, merge_every=3)
    bases = []
    for moment in MOMENTS:
        _load(connection, exposures.as_of(moment))
        done = refresh(
            case, _dao(connection), dialect="duckdb", state=state, source=exposures.source, as_of=moment
        )
        assert_same_rows(
            done.run.frame, full_rows(case, _dao(connection), "duckdb", exposures.source, "metrics")
        )
        assert done.record is not None
        bases.append(done.record.base_version)
    assert bases == [1, 1, 1, 4, 4, 4, 7, 7, 7, 10, 10]


def test_a_new_definition_rebuilds_the_state_and_says_so(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation
) -> None:
    first, second = MOMENTS[3], MOMENTS[5]
    _load(connection, exposures.as_of(first))
    refresh(
        CASES["plain"], _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=first
    )
    _load(connection, exposures.as_of(second))
    changed = CASES["delay and window"]
    done = refresh(
        changed, _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=second
    )
    assert not done.incremental
    assert done.reason == "the experiment's definition or source changed since the state was built"
    assert "full refresh (the experiment's definition or source changed" in done.summary()
    assert_same_rows(
        done.run.frame, full_rows(changed, _dao(connection), "duckdb", exposures.source, "metrics")
    )


def test_a_metric_over_the_same_goals_keeps_the_state(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation
) -> None:
    """The plan hash covers what the state holds (goals, dimensions, windows), not the formulas."""
    first, second = MOMENTS[3], MOMENTS[5]
    _load(connection, exposures.as_of(first))
    refresh(
        CASES["plain"], _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=first
    )
    _load(connection, exposures.as_of(second))
    reordered = experiment(list(reversed(PLAIN)))
    done = refresh(
        reordered, _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=second
    )
    assert done.incremental
    assert_same_rows(
        done.run.frame, full_rows(reordered, _dao(connection), "duckdb", exposures.source, "metrics")
    )


def test_another_expsql_version_rebuilds(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = MOMENTS[4]
    _load(connection, exposures.as_of(moment))
    refresh(
        CASES["plain"], _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=moment
    )
    monkeypatch.setattr(sys.modules["expsql.incremental.refresh"], "__version__", "99.0")
    done = refresh(
        CASES["plain"], _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=moment
    )
    assert done.reason == "the state was built by expsql 0.1.0, this is 99.0"


def test_event_quantiles_run_in_full_and_say_why(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation
) -> None:
    case = experiment(
        [{"nominator": "value(user.unit.purchase)", "quantile": 0.9, "quantile_of": "event"}, PLAIN[0]]
    )
    _load(connection, exposures.as_of(MOMENTS[4]))
    done = refresh(
        case, _dao(connection), dialect="duckdb", state=STATE, source=exposures.source, as_of=MOMENTS[4]
    )
    assert done.record is None and not done.incremental
    assert done.summary() == (
        "full run: metric 1 is a quantile of events: its rows need every event, and the state keeps sums"
    )
    assert_same_rows(done.run.frame, full_rows(case, _dao(connection), "duckdb", exposures.source, "metrics"))


@pytest.mark.parametrize("dialect", ["trino", "clickhouse"])
def test_a_dialect_that_cannot_keep_a_state_is_refused(dialect: str) -> None:
    with pytest.raises(IncrementalError, match=rf"{dialect} cannot keep an incremental state"):
        refresh(CASES["plain"], _dao(duckdb.connect()), dialect=dialect, state=STATE)


@pytest.mark.parametrize("schema", ["", "a.b.c", "a..b"])
def test_a_malformed_state_schema_is_refused(schema: str) -> None:
    with pytest.raises(IncrementalError, match="state schema"):
        StateOptions(schema)


def test_a_state_schema_that_cannot_be_written_says_what_to_grant(
    tmp_path: Any, exposures: Simulation
) -> None:
    path = tmp_path / "read-only.duckdb"
    with duckdb.connect(str(path)) as connection:
        _load(connection, exposures.as_of(MOMENTS[3]))
    dao = get("duckdb").connect(str(path), read_only=True)
    with pytest.raises(IncrementalError, match="needs to create, read and drop tables in 'state'"):
        refresh(CASES["plain"], dao, dialect="duckdb", state=STATE, source=exposures.source, as_of=MOMENTS[3])


def test_a_query_the_compiler_refuses_writes_nothing(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation
) -> None:
    from expsql.errors import MetricRowsRequired

    _load(connection, exposures.as_of(MOMENTS[4]))
    with pytest.raises(MetricRowsRequired):
        refresh(
            CASES["winsorized"], _dao(connection), dialect="duckdb", state=STATE, source=exposures.source,
            rows="goals", as_of=MOMENTS[4],
        )  # fmt: skip
    tables = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'state'"
    ).fetchall()
    assert tables == [("expsql_state",)]


def test_a_query_too_long_for_the_warehouse_is_refused_before_writing(
    connection: duckdb.DuckDBPyConnection, exposures: Simulation
) -> None:
    from dataclasses import replace

    short = replace(get("duckdb"), max_query_bytes=2_000)
    _load(connection, exposures.as_of(MOMENTS[4]))
    with pytest.raises(
        IncrementalError, match=r"takes queries of at most 2,000 bytes; run it without --incremental"
    ):
        refresh(
            CASES["plain"],
            _dao(connection),
            dialect=short,
            state=STATE,
            source=exposures.source,
            as_of=MOMENTS[4],
        )
    tables = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'state'"
    ).fetchall()
    assert tables == [("expsql_state",)]
