"""The timeline's query on DuckDB: the rows as of each day equal the single-look reference of the
window cut at that day (:mod:`expsql.testing.timeline_reference`), in both layouts, with filters,
overlapping terms, compound metrics and CUPED; the last day equals the single look; what is
refused before any SQL exists. Every engine: tests/engines/test_timeline_engines.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql, compile_tree
from expsql.errors import TimelineError
from expsql.source import Source, validate_source
from expsql.stats.timeline import row_days, rows_as_of
from expsql.testing import attribution_reference, timeline_reference
from expsql.testing import reference as seed_reference
from expsql.testing.attribution_reference import assert_rows_equal
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, SOURCE
from expsql.testing.exposure_events import generate_exposures_and_events as generate
from expsql.testing.segment_reference import attributed_rows, exposures_rows, labelled
from expsql.testing.timeline_reference import timeline_experiment as experiment
from expsql.timeline_days import MAX_TIMELINE_DAYS

EXPOSURE = "count(user.global.exposure)"
EXPOSURES_SOURCE = validate_source(SOURCE)
EVENTS_SOURCE = Source(dimensions=DIMENSION_TYPES)


ATTRIBUTED = {
    "plain": experiment(
        [
            {"nominator": "count(user.unit.click)", "denominator": EXPOSURE},
            {"nominator": "unique(user.unit.conversion)", "denominator": EXPOSURE},
        ]
    ),
    "compound and overlapping terms": experiment(
        [
            {
                "nominator": "value(user.unit.conversion(product=^p_))",
                "denominator": "unique(user.unit.view)",
            },
            {
                "nominator": "value(user.unit.conversion(product=p_1)) - value(user.unit.refund)",
                "denominator": "count(user.unit.click) + 1",
            },
        ]
    ),
    "filters": experiment(
        [{"nominator": "count(user.unit.click)", "denominator": EXPOSURE}],
        filters=[
            {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]},
            {"scope": "trigger", "goal": "view"},
        ],
    ),
}
PLAIN = [
    {"nominator": "count(user.unit.click)", "denominator": EXPOSURE},
    {"nominator": "value(user.unit.purchase(product=p_1|p_10))", "denominator": "unique(user.unit.view)"},
    {
        "nominator": "value(user.unit.purchase) - value(user.unit.purchase(product=^p_))",
        "denominator": EXPOSURE,
    },
]
WINDOW = {"conversion_delay_hours": 1, "conversion_window_hours": 24}
EXPOSURES = {
    "plain": experiment(PLAIN),
    "delay, window and first variant": experiment(PLAIN, multiple_exposures="first", **WINDOW),
    "filters of every scope": experiment(
        PLAIN,
        filters=[
            {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10", "q_1"], "goal": "purchase"},
            {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]},
            {"scope": "trigger", "goal": "view"},
        ],
        **WINDOW,
    ),
    "per-metric windows": experiment([{**PLAIN[0], "conversion_window_hours": 1}, PLAIN[2]]),
    "cuped": experiment(PLAIN, cuped_lookback_days=3),
}
WINSORIZED = experiment(
    [{**PLAIN[2], "outlier_upper_percentile": 5, "outlier_lower_percentile": 1}, PLAIN[0]],
    cuped_lookback_days=2,
)


@pytest.fixture(scope="module")
def events() -> Iterator[tuple[duckdb.DuckDBPyConnection, Any]]:
    frame = generate_events(seed=3)
    connection = duckdb.connect(":memory:")
    connection.register("generated", frame)
    connection.execute("CREATE TABLE events AS SELECT * FROM generated")
    yield connection, frame
    connection.close()


@pytest.fixture(scope="module")
def exposures() -> Iterator[tuple[duckdb.DuckDBPyConnection, Any, Any]]:
    log, raw = generate(seed=4, units=300)
    connection = duckdb.connect(":memory:")
    for name, frame in (("exposures", log), ("events", raw)):
        connection.register("generated", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM generated")
        connection.unregister("generated")
    yield connection, log, raw
    connection.close()


@pytest.mark.parametrize("case", list(ATTRIBUTED))
def test_attributed_rows_as_of_each_day_equal_the_window_cut_there(case: str, events: Any) -> None:
    connection, frame = events
    chosen = ATTRIBUTED[case]
    rows = connection.execute(compile_sql(chosen, rows="metrics", source=EVENTS_SOURCE)).df()
    days = row_days(rows)
    window = {DATE_FROM + dt.timedelta(days=k) for k in range(7)}
    assert set(days) <= window and len(set(days)) >= 5
    for day in sorted(set(days)):
        expected = timeline_reference.attributed_as_of(frame, chosen, EVENTS_SOURCE, day)
        assert_rows_equal(rows_as_of(rows, days, day), expected)


@pytest.mark.parametrize("case", list(EXPOSURES))
def test_exposures_rows_as_of_each_day_equal_the_window_cut_there(case: str, exposures: Any) -> None:
    connection, log, raw = exposures
    chosen = EXPOSURES[case]
    rows = connection.execute(compile_sql(chosen, rows="metrics", source=EXPOSURES_SOURCE)).df()
    days = row_days(rows)
    assert len(set(days)) == 7
    for day in sorted(set(days)):
        expected = timeline_reference.exposures_as_of(log, raw, chosen, EXPOSURES_SOURCE, day)
        assert_rows_equal(rows_as_of(rows, days, day), expected)


@pytest.mark.parametrize("case", [*EXPOSURES, "winsorized"])
def test_the_last_day_equals_the_single_look(case: str, exposures: Any) -> None:
    connection, _, _ = exposures
    chosen = WINSORIZED if case == "winsorized" else EXPOSURES[case]
    rows = connection.execute(compile_sql(chosen, rows="metrics", source=EXPOSURES_SOURCE)).df()
    single = chosen.model_copy(update={"timeline": None})
    expected = connection.execute(compile_sql(single, rows="metrics", source=EXPOSURES_SOURCE)).df()
    assert_rows_equal(rows_as_of(rows, row_days(rows), DATE_TO), expected, rtol=1e-12)


def test_winsorized_days_cap_at_the_last_days_percentiles(exposures: Any) -> None:
    """Earlier days clip at the whole window's caps, not their own: a unit's x never exceeds them."""
    connection, _, _ = exposures
    sql = compile_sql(WINSORIZED, rows="metrics", source=EXPOSURES_SOURCE)
    caps = connection.execute(
        sql.replace(sql[sql.index("SELECT\n  'exp-1'") :], 'SELECT * FROM "nominator_caps_0"')
    ).fetchone()
    assert caps is not None and caps[0] < caps[1]
    capped = connection.execute(
        sql.replace(sql[sql.index("SELECT\n  'exp-1'") :], 'SELECT * FROM "capped_metrics"')
    ).df()
    column = next(c for c in capped.columns if c.startswith("capped_"))
    assert capped[column].between(caps[0], caps[1]).all()
    assert capped[f"previous_{column}"][capped["entered"] == 1].eq(0).all()
    assert capped[f"previous_{column}"][capped["entered"] == 0].between(caps[0], caps[1]).all()


def test_a_timeline_without_a_date_window_is_refused_naming_the_fields() -> None:
    undated = experiment(PLAIN[:1], date_from=None)
    with pytest.raises(TimelineError, match="no date_from: set date_from and date_to"):
        compile_sql(undated, rows="metrics")
    with pytest.raises(TimelineError, match="no date_from and date_to"):
        compile_sql(experiment(PLAIN[:1], date_from=None, date_to=None), rows="metrics")


def test_a_timeline_longer_than_the_bound_is_refused() -> None:
    last = DATE_FROM + dt.timedelta(days=MAX_TIMELINE_DAYS)
    with pytest.raises(
        TimelineError, match=f"spans {MAX_TIMELINE_DAYS + 1} days.*at most {MAX_TIMELINE_DAYS}"
    ):
        compile_sql(experiment(PLAIN[:1], date_to=last.isoformat()), rows="metrics")
    # date_for shortens the window: within the bound again.
    compile_sql(experiment(PLAIN[:1], date_to=last.isoformat(), date_for=DATE_TO.isoformat()), rows="metrics")


@pytest.mark.parametrize("rows", ["goals", "units"])
def test_a_timeline_over_goal_or_unit_rows_is_refused(rows: str) -> None:
    with pytest.raises(TimelineError, match=f"not {rows} rows.*Use metric rows"):
        compile_sql(experiment(PLAIN[:1]), rows=rows)


@pytest.mark.parametrize("case", ["plain", "cuped"])
def test_exposures_segments_as_of_each_day_equal_the_window_cut_there(case: str, exposures: Any) -> None:
    """Each segment's daily looks: the breakdown's rows as of each day, units excluded for multiple
    exposures included, equal the single look's of the window cut there."""
    connection, log, raw = exposures
    chosen = EXPOSURES[case].model_copy(update={"breakdown": ["country", "platform"]})
    rows = connection.execute(compile_sql(chosen, rows="metrics", source=EXPOSURES_SOURCE)).df()
    days = row_days(rows)
    assert len(set(days)) == 7
    for day in sorted(set(days)):
        as_of = timeline_reference.as_of(chosen, day)
        expected = exposures_rows(attribution_reference.metric_rows, log, raw, as_of, EXPOSURES_SOURCE)
        actual = rows_as_of(rows, days, day, segments=chosen.breakdown)
        assert_rows_equal(labelled(actual, list(chosen.breakdown)), expected)


def test_attributed_segments_as_of_each_day_equal_the_window_cut_there(events: Any) -> None:
    connection, frame = events
    chosen = ATTRIBUTED["filters"].model_copy(update={"breakdown": ["platform"]})
    rows = connection.execute(compile_sql(chosen, rows="metrics", source=EVENTS_SOURCE)).df()
    days = row_days(rows)
    assert len(set(days)) >= 5
    for day in sorted(set(days)):
        as_of = timeline_reference.as_of(chosen, day)
        expected = attributed_rows(seed_reference.metric_rows, frame, as_of, EVENTS_SOURCE)
        actual = rows_as_of(rows, days, day, segments=chosen.breakdown)
        assert_rows_equal(labelled(actual, ["platform"]), expected)


def test_the_timeline_adds_the_day_to_the_metric_rows() -> None:
    tree = compile_tree(ATTRIBUTED["plain"], rows="metrics")
    names = [e.alias_or_name for e in tree.expressions]
    single = compile_tree(ATTRIBUTED["plain"].model_copy(update={"timeline": None}), rows="metrics")
    assert names == [*(e.alias_or_name for e in single.expressions), "day"]


def test_the_timeline_reads_the_events_once() -> None:
    sql = compile_sql(EXPOSURES["plain"], rows="metrics", source=EXPOSURES_SOURCE)
    tables = [t.name for t in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table)]
    assert tables.count("events") == 1 and tables.count("exposures") == 1
