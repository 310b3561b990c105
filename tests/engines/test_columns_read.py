"""Every column the experiment does not need is never read: each engine's own plan says so.

A warehouse bills by the columns it reads, so the one query must read only the columns the
experiment needs. The tables here hold more: an undeclared text ``payload``, declared dimensions
no metric of the experiment references (``price``, or ``product`` when only ``platform`` is
read), the events' ``count`` when the source does not name it, the exposure log's ``country``
when nothing breaks down by it. For each case the columns the engine's plan reads from each
table must equal the case's needed set exactly, so a column the compiler starts to read fails:

- DuckDB: ``EXPLAIN (FORMAT JSON)``; each ``SEQ_SCAN`` of the table lists its ``Projections``
  and, apart, the columns of the ``Filters`` pushed into the scan (read, but not projected).
- PostgreSQL: ``EXPLAIN (VERBOSE, FORMAT JSON)``; a row store reads whole rows whatever the query
  names, so what is checked is what the query uses: the ``Output`` and ``Filter`` of the table's
  ``Seq Scan`` and every expression above it that names the table's columns. When the scan
  outputs its physical row (every column, as bare columns, so that the node above projects
  instead: the planner's "physical tlist"), that ``Output`` says nothing and is left out.
- Spark: the tables are Parquet files, so each ``Scan parquet`` of ``EXPLAIN FORMATTED`` shows
  the ``ReadSchema`` it reads from the files (filter columns included).

A table scanned twice (a CTE an engine inlines) reads the union of its scans' columns. A CTE
read twice is one PostgreSQL materializes with every column it names, used or not: the breakdown
cases hold the scan to the columns its readers use (:func:`expsql.compiler.goal_rows.scanned_value`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql
from expsql.models import Experiment
from expsql.source import AnySource, Source, validate_source
from expsql.testing import load
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, generate_exposures_and_events

pytestmark = pytest.mark.engine("columns")

#: Table names in the engines shared with other test modules (PostgreSQL, Spark).
PREFIX = "columns_"
#: The attributed layout's table, and the exposures layout's two.
ATTRIBUTED, EXPOSURES, EVENTS = "events", "exposures", "raw_events"
#: The raw events split into several tables: page events with a goal column, purchases (every row
#: one goal, no goal column) and refunds, which no case reads.
PAGES, PURCHASE_ROWS, REFUNDS = "page_events", "purchases", "refunds"

SEED = frozenset(
    {"exp_id", "exp_variant_id", "unit_type", "agg_type", "goal", "unit_id", "cnt", "value", "date"}
)
EXPOSURE_LOG = frozenset({"unit_id", "exp_id", "variant_id", "timestamp"})
EVENT_LOG = frozenset({"unit_id", "event", "timestamp"})
PAGE_LOG = frozenset({"user_id", "action", "ts"})
PURCHASE_LOG = frozenset({"customer_id", "ordered_at"})

EXPOSURE = "count(user.global.exposure)"


def ratio(nominator: str, denominator: str = EXPOSURE) -> dict[str, str]:
    return {"nominator": nominator, "denominator": denominator}


CLICKS = ratio("count(user.unit.click(product=p_1))")
PRICED = ratio("value(user.unit.conversion(price>10))", "unique(user.unit.view)")
OVERLAPPING = ratio("count(user.unit.click(product=^p_))")
PURCHASES = ratio("count(user.unit.purchase(product=p_1))")
REVENUE = ratio("value(user.unit.purchase)", "count(user.global.exposure(platform=web))")


def experiment(*metrics: dict[str, Any], window: tuple[str, str] | None, **fields: Any) -> Experiment:
    numbered = [{"id": i, "name": f"metric {i}", **m} for i, m in enumerate(metrics, start=1)]
    dates = {"date_from": window[0], "date_to": window[1]} if window else {}
    base = {"id": "exp-1", "control_variant": "a", "unit_type": "user", **dates}
    return Experiment.model_validate({**base, **fields, "metrics": numbered})


#: The attributed events span 2024-03-01 to 03-14; the window cuts through them.
DAYS = ("2024-03-03", "2024-03-10")
#: The exposures layout's seven days.
WEEK = (DATE_FROM.isoformat(), DATE_TO.isoformat())


@dataclass(frozen=True)
class Case:
    """An experiment, the rows compiled, and the columns each table must be read for."""

    experiment: Experiment
    rows: str
    reads: dict[str, frozenset[str]]
    #: The exposures layout's events name their ``count`` column.
    counted: bool = False
    #: The exposures layout's events are several tables (page events, purchases, refunds).
    split: bool = False


CASES: dict[str, Case] = {
    # The attributed layout: one events table.
    "goal rows: the seed's columns and the one dimension referenced": Case(
        experiment(CLICKS, window=DAYS), "goals", {ATTRIBUTED: SEED | {"product"}}
    ),
    "unit rows: the seed's columns and the one dimension referenced": Case(
        experiment(CLICKS, window=DAYS), "units", {ATTRIBUTED: SEED | {"product"}}
    ),
    "metric rows without value(): no value": Case(
        experiment(CLICKS, window=DAYS), "metrics", {ATTRIBUTED: SEED - {"value"} | {"product"}}
    ),
    "metric rows with value(): the value and its metric's dimension": Case(
        experiment(PRICED, window=DAYS), "metrics", {ATTRIBUTED: SEED | {"price"}}
    ),
    "overlapping terms (the coded scan) without value()": Case(
        experiment(CLICKS, OVERLAPPING, window=DAYS), "metrics", {ATTRIBUTED: SEED - {"value"} | {"product"}}
    ),
    "no date window: no date": Case(
        experiment(CLICKS, window=None), "metrics", {ATTRIBUTED: SEED - {"value", "date"} | {"product"}}
    ),
    "a goal filter reads its dimension": Case(
        experiment(
            CLICKS,
            window=DAYS,
            filters=[{"scope": "goal", "goal": "click", "dimension": "platform", "value": ["web"]}],
        ),
        "metrics",
        {ATTRIBUTED: SEED - {"value"} | {"product", "platform"}},
    ),
    "an exposure filter reads its dimension, goal rows": Case(
        experiment(
            PRICED, window=DAYS, filters=[{"scope": "exposure", "dimension": "platform", "value": ["ios"]}]
        ),
        "goals",
        {ATTRIBUTED: SEED | {"price", "platform"}},
    ),
    "a breakdown reads its dimension": Case(
        experiment(CLICKS, window=DAYS, breakdown=["platform"]),
        "metrics",
        {ATTRIBUTED: SEED - {"value"} | {"product", "platform"}},
    ),
    "a breakdown with overlapping terms (the coded scan)": Case(
        experiment(CLICKS, OVERLAPPING, window=DAYS, breakdown=["platform"]),
        "metrics",
        {ATTRIBUTED: SEED - {"value"} | {"product", "platform"}},
    ),
    "a winsorized metric without value()": Case(
        experiment({**CLICKS, "outlier_upper_percentile": 5}, window=DAYS),
        "metrics",
        {ATTRIBUTED: SEED - {"value"} | {"product"}},
    ),
    "a daily timeline without value()": Case(
        experiment(CLICKS, OVERLAPPING, window=DAYS, timeline="daily"),
        "metrics",
        {ATTRIBUTED: SEED - {"value"} | {"product"}},
    ),
    # The exposures layout: an exposure log and raw events.
    "exposures, metric rows without value(): no value": Case(
        experiment(PURCHASES, window=WEEK),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG, EVENTS: EVENT_LOG | {"product"}},
    ),
    "exposures, metric rows with value() and an exposure dimension": Case(
        experiment(REVENUE, window=WEEK),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG | {"platform"}, EVENTS: EVENT_LOG | {"value"}},
    ),
    "exposures, goal rows: the value": Case(
        experiment(PURCHASES, window=WEEK),
        "goals",
        {EXPOSURES: EXPOSURE_LOG, EVENTS: EVENT_LOG | {"value", "product"}},
    ),
    "exposures, unit rows: the value": Case(
        experiment(PURCHASES, window=WEEK),
        "units",
        {EXPOSURES: EXPOSURE_LOG, EVENTS: EVENT_LOG | {"value", "product"}},
    ),
    "exposures, a goal filter, an exposure filter and a breakdown": Case(
        experiment(
            PURCHASES,
            window=WEEK,
            breakdown=["country"],
            filters=[
                {"scope": "exposure", "dimension": "platform", "value": ["web"]},
                {"scope": "goal", "goal": "purchase", "dimension": "product", "value": ["p_1", "p_2"]},
            ],
        ),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG | {"platform", "country"}, EVENTS: EVENT_LOG | {"product"}},
    ),
    "exposures, a daily timeline without value()": Case(
        experiment(PURCHASES, window=WEEK, timeline="daily"),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG, EVENTS: EVENT_LOG | {"product"}},
    ),
    "exposures, CUPED without value()": Case(
        experiment(PURCHASES, window=WEEK, cuped_lookback_days=7),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG, EVENTS: EVENT_LOG | {"product"}},
    ),
    "exposures, metrics with their own windows": Case(
        experiment(PURCHASES, {**REVENUE, "conversion_window_hours": 24}, window=WEEK),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG | {"platform"}, EVENTS: EVENT_LOG | {"product", "value"}},
    ),
    "exposures, the first exposure's variant, winsorized": Case(
        experiment({**PURCHASES, "outlier_upper_percentile": 5}, window=WEEK, multiple_exposures="first"),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG, EVENTS: EVENT_LOG | {"product"}},
    ),
    "several tables: each read once, for its own columns; refunds never": Case(
        experiment(PURCHASES, ratio("count(user.unit.click)"), window=WEEK),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG, PAGES: PAGE_LOG, PURCHASE_ROWS: PURCHASE_LOG | {"product"}},
        split=True,
    ),
    "several tables, value() and a goal filter on the purchases": Case(
        experiment(
            REVENUE,
            ratio("count(user.unit.view)"),
            window=WEEK,
            filters=[{"scope": "goal", "goal": "purchase", "dimension": "product", "value": ["p_1"]}],
        ),
        "metrics",
        {
            EXPOSURES: EXPOSURE_LOG | {"platform"},
            PAGES: PAGE_LOG,
            PURCHASE_ROWS: PURCHASE_LOG | {"amount", "product"},
        },
        split=True,
    ),
    "exposures, a count column when the source names it": Case(
        experiment(PURCHASES, window=WEEK),
        "metrics",
        {EXPOSURES: EXPOSURE_LOG, EVENTS: EVENT_LOG | {"product", "count"}},
        counted=True,
    ),
}


PURCHASE_RENAMED = (("unit_id", "customer_id"), ("value", "amount"), ("timestamp", "ordered_at"))
PAGE_COLUMNS = {"unit_id": "user_id", "goal": "action", "timestamp": "ts", "value": "points"}
PURCHASE_COLUMNS = {"unit_id": "customer_id", "value": "amount", "timestamp": "ordered_at"}


def source_for(case: Case, engine: str) -> AnySource:
    """The case's source, its tables under their names in ``engine``."""
    prefix = "" if engine == "duckdb" else PREFIX
    if ATTRIBUTED in case.reads:
        return Source(table=f"{prefix}{ATTRIBUTED}", dimensions=DIMENSION_TYPES)
    if case.split:
        exposures = {
            "table": f"{prefix}{EXPOSURES}",
            "dimensions": {"platform": "string", "country": "string"},
        }
        pages = {"table": f"{prefix}{PAGES}", "goals": ["click", "view"], "columns": PAGE_COLUMNS}
        purchases = {"table": f"{prefix}{PURCHASE_ROWS}", "goal": "purchase", "columns": PURCHASE_COLUMNS}
        refunds = {"table": f"{prefix}{REFUNDS}", "goal": "refund", "columns": PURCHASE_COLUMNS}
        for table in (purchases, refunds):
            table["dimensions"] = {"product": "string"}
        return validate_source({"exposures": exposures, "events": [pages, purchases, refunds]})
    columns = {"count": "count"} if case.counted else {}
    return validate_source(
        {
            "exposures": {
                "table": f"{prefix}{EXPOSURES}",
                "dimensions": {"platform": "string", "country": "string"},
            },
            "events": {"table": f"{prefix}{EVENTS}", "dimensions": {"product": "string"}, "columns": columns},
        }
    )


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """The three tables, each with a text column no experiment reads. They hold several
    experiments, unit types, days and NULL keys, so no engine can prove a filter always true from
    its statistics and leave its column unread for that reason; ``payload`` holds NULLs too, so
    even a ``payload IS NOT NULL`` slipped into a query would be read."""
    exposures, events = generate_exposures_and_events(seed=11, units=60)
    purchase = events["event"] == "purchase"
    pages = {"unit_id": "user_id", "event": "action", "timestamp": "ts", "value": "points"}
    purchases = events[purchase].drop(columns=["event"]).rename(columns=dict(PURCHASE_RENAMED))
    frames = {
        ATTRIBUTED: generate_events(seed=11, experiments=2, units=40),
        EXPOSURES: exposures,
        EVENTS: events,
        PAGES: events[~purchase].rename(columns=pages).reset_index(drop=True),
        PURCHASE_ROWS: purchases.reset_index(drop=True),
        REFUNDS: purchases.head(5).reset_index(drop=True),
    }
    for name, frame in frames.items():
        frame["payload"] = [None if i % 7 == 0 else f"{name} row {i}" for i in range(len(frame))]
    return frames


def test_every_table_holds_columns_no_case_reads(tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        read = set().union(*(case.reads.get(name, frozenset()) for case in CASES.values()))
        assert read < set(frame.columns), name
        assert "payload" not in read


# --- each engine's columns read, from its plan -----------------------------------------------

#: ``columns_read(sql, table)``: the columns of ``table`` the engine's plan of ``sql`` reads.
ColumnsRead = Callable[[str, str], set[str]]


def walk(node: dict[str, Any], children: str) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get(children, []):
        yield from walk(child, children)


@pytest.fixture(scope="module")
def duckdb_columns_read(tables: dict[str, pd.DataFrame]) -> Iterator[ColumnsRead]:
    import duckdb

    connection = duckdb.connect(":memory:")
    for name, frame in tables.items():
        load.to_duckdb(connection, frame, table=name)

    def columns_read(sql: str, table: str) -> set[str]:
        ((_, plan),) = connection.execute(f"EXPLAIN (FORMAT JSON) {sql}").fetchall()
        columns: set[str] = set()
        scans = 0
        for root in json.loads(plan):
            for node in walk(root, "children"):
                info = node.get("extra_info", {})
                if node["name"].strip() != "SEQ_SCAN" or info.get("Table", "").split(".")[-1] != table:
                    continue
                scans += 1
                projections = info.get("Projections", [])
                columns.update([projections] if isinstance(projections, str) else projections)
                filters = info.get("Filters", [])
                for text in [filters] if isinstance(filters, str) else filters:
                    # "optional: " marks a filter DuckDB may skip; it reads the column all the same.
                    tree = sqlglot.parse_one(text.replace("optional: ", ""), read="duckdb")
                    columns.update(column.name for column in tree.find_all(exp.Column))
        assert scans, f"no SEQ_SCAN of {table} in the plan"
        return columns

    yield columns_read
    connection.close()


def _postgres_columns(texts: list[str], alias: str) -> set[str]:
    """The columns of the relation ``alias`` that PostgreSQL's deparsed expressions name:
    ``alias.name``, or ``alias."name"`` for a reserved word, never part of a longer name
    (``experiment_events.x`` is not ``events.x``)."""
    reference = re.compile(rf'(?<![\w."]){re.escape(alias)}\.(?:"((?:[^"]|"")+)"|(\w+))')
    found = [match for text in texts for match in reference.findall(text)]
    return {quoted.replace('""', '"') if quoted else bare for quoted, bare in found}


def _expressions(node: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Each field of a plan node (not its children) and the texts it holds."""
    for key, value in node.items():
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        yield key, [text for text in texts if isinstance(text, str)]


def postgres_plan_columns(plan: dict[str, Any], table: str, every: set[str]) -> set[str]:
    """The columns of ``table`` (whose columns are ``every``) that any node of ``plan`` names,
    except a scan's ``Output`` that is the physical row: one entry per column of the table."""
    nodes = list(walk(plan, "Plans"))
    scans = [n for n in nodes if n["Node Type"] == "Seq Scan" and n["Relation Name"] == table]
    assert scans, f"no Seq Scan of {table} in the plan"
    columns: set[str] = set()
    for alias in {scan["Alias"] for scan in scans}:
        for node in nodes:
            for key, texts in _expressions(node):
                named = _postgres_columns(texts, alias)
                physical = len(texts) == len(every) and named == every
                if physical and key == "Output" and any(node is scan for scan in scans):
                    continue  # the node above projects what it uses, and names it
                columns |= named
    return columns


@pytest.fixture(scope="module")
def postgres_columns_read(tables: dict[str, pd.DataFrame], postgres_connection: Any) -> ColumnsRead:
    for name, frame in tables.items():
        load.to_postgres(postgres_connection, frame, table=f"{PREFIX}{name}")

    def columns_read(sql: str, table: str) -> set[str]:
        with postgres_connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}")
            ((plan,),) = cursor.fetchall()
        return postgres_plan_columns(plan[0]["Plan"], table, set(tables[table.removeprefix(PREFIX)].columns))

    return columns_read


def _read_schema(schema: str) -> set[str]:
    """The field names of Spark's ``struct<name:type,...>`` (flat, as these tables are)."""
    fields, depth, start = [], 0, 0
    inner = schema.removeprefix("struct<").removesuffix(">")
    for index, character in enumerate(inner + ","):
        if character in "<(":
            depth += 1
        elif character in ">)":
            depth -= 1
        elif character == "," and depth == 0:
            fields.append(inner[start:index])
            start = index + 1
    return {field.split(":", 1)[0].strip("`") for field in fields if field}


@pytest.fixture(scope="module")
def spark_columns_read(
    tables: dict[str, pd.DataFrame], spark_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> ColumnsRead:
    directory: Path = tmp_path_factory.mktemp("columns_read")
    for name, frame in tables.items():
        load.to_spark_parquet(spark_session, frame, directory, table=f"{PREFIX}{name}")

    def columns_read(sql: str, table: str) -> set[str]:
        ((plan,),) = spark_session.sql(f"EXPLAIN FORMATTED {sql}").collect()
        columns: set[str] = set()
        scans = 0
        for block in (text.strip() for text in plan.split("\n\n")):
            if not re.match(r"\(\d+\) Scan parquet", block):
                continue
            details = dict(line.split(": ", 1) for line in block.splitlines()[1:] if ": " in line)
            if not details["Location"].rstrip("]").endswith(f"/{table}"):
                continue
            scans += 1
            columns |= _read_schema(details["ReadSchema"])
        assert scans, f"no Scan parquet of {table} in the plan:\n{plan}"
        return columns

    return columns_read


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_only_the_needed_columns_are_read(engine: str, case: str, request: pytest.FixtureRequest) -> None:
    columns_read: ColumnsRead = request.getfixturevalue(f"{engine}_columns_read")
    planned = CASES[case]
    sql = compile_sql(
        planned.experiment, dialect=engine, rows=planned.rows, source=source_for(planned, engine)
    )
    prefix = "" if engine == "duckdb" else PREFIX
    if planned.split:
        assert f"{prefix}{REFUNDS}" not in sql  # a table no goal resolves to is never read
    for name, needed in planned.reads.items():
        read = columns_read(sql, f"{prefix}{name}")
        assert read == needed, (
            f"{name}: read needlessly {sorted(read - needed)}, unread {sorted(needed - read)}"
        )
