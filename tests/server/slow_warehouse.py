"""A warehouse table on which one experiment's query is genuinely slow: hours of real work.

``all_events`` is a view: the demo events, and beside them ~10^12 generated exposure rows of
experiment :data:`SLOW_EXPERIMENT` (a number series the engine produces as it scans, so nothing
is stored). Evaluating the demo experiment prunes the generated part (its ``exp_id`` is a
constant that cannot match) and takes milliseconds; evaluating :data:`SLOW_EXPERIMENT` makes the
engine aggregate every generated row — a query that outlives any test unless it is cancelled.
The view is one sqlglot tree, rendered for each engine.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from sqlglot import exp

from expsql.server.schemas import DEMO_BODY

SLOW_EXPERIMENT: Final = "slow-experiment"
VIEW: Final = "all_events"
#: Generated rows: 10^12 (PostgreSQL: three joined series of 10^4, so each stays small in memory).
GENERATED: Final = 10**12
EVENT_COLUMNS: Final = (
    "exp_id", "exp_variant_id", "unit_type", "agg_type", "goal", "unit_id", "cnt", "value", "date",
    "product", "element",
)  # fmt: skip


def _numbers(dialect: str) -> tuple[exp.Expression, list[exp.Join]]:
    """A table of ``GENERATED`` numbers ``n``, generated while it is scanned."""

    def series(function: str, low: int, high: int, alias: str) -> exp.Table:
        call = exp.Anonymous(this=function, expressions=[exp.Literal.number(low), exp.Literal.number(high)])
        columns = [exp.to_identifier("n")]
        return exp.Table(this=call, alias=exp.TableAlias(this=exp.to_identifier(alias), columns=columns))

    if dialect == "postgres":
        side = round(GENERATED ** (1 / 3))
        joins = [exp.Join(this=series("generate_series", 1, side, f"s{i}"), kind="CROSS") for i in (1, 2)]
        return series("generate_series", 1, side, "s0"), joins
    return series("range", 0, GENERATED, "s0"), []


def count_generated(dialect: str) -> str:
    """``SELECT COUNT(*)`` over the generated numbers: a query that runs for hours unless cancelled."""
    numbers, joins = _numbers(dialect)
    query = exp.select(exp.Count(this=exp.Star())).from_(numbers)
    for join in joins:
        query = query.join(join)
    return query.sql(dialect)


def all_events(dialect: str, events: str) -> exp.Select:
    """``SELECT`` the ``events`` table ``UNION ALL`` the generated rows of :data:`SLOW_EXPERIMENT`."""
    text = exp.DataType.build("text")

    def literal(value: str) -> exp.Expression:
        return exp.cast(exp.Literal.string(value), text)

    unit = exp.cast(exp.Mod(this=exp.column("n", "s0"), expression=exp.Literal.number(1000)), text)
    generated = {
        "exp_id": literal(SLOW_EXPERIMENT),
        "exp_variant_id": literal("a"),
        "unit_type": literal("user"),
        "agg_type": literal("global"),
        "goal": literal("exposure"),
        "unit_id": unit,
        "cnt": exp.cast(exp.Literal.number(1), exp.DataType.build("bigint")),
        "value": exp.cast(exp.Literal.number(0), exp.DataType.build("double")),
        "date": exp.cast(exp.Literal.string("2026-11-05"), exp.DataType.build("date")),
        "product": exp.cast(exp.null(), text),
        "element": exp.cast(exp.null(), text),
    }
    numbers, joins = _numbers(dialect)
    slow = exp.select(*(exp.alias_(generated[name], name) for name in EVENT_COLUMNS)).from_(numbers)
    for join in joins:
        slow = slow.join(join)
    stored = exp.select(*(exp.column(name) for name in EVENT_COLUMNS)).from_(exp.to_table(events))
    return exp.union(stored, slow, distinct=False)


def create_view(dialect: str, events: str, *, temporary: bool = False) -> str:
    """``CREATE OR REPLACE [TEMPORARY] VIEW all_events AS ...`` for ``dialect``."""
    properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
    create = exp.Create(
        this=exp.to_table(VIEW),
        kind="VIEW",
        replace=True,
        expression=all_events(dialect, events),
        properties=properties,
    )
    return create.sql(dialect)


def active_queries(connection: Any, application: str) -> int:
    """Queries PostgreSQL is running for connections named ``application`` (``pg_stat_activity``)."""
    named = exp.column("application_name").eq(exp.Literal.string(application))
    active = exp.column("state").eq(exp.Literal.string("active"))
    query = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table("pg_stat_activity"))
    with connection.cursor() as cursor:
        cursor.execute(query.where(exp.and_(named, active)).sql("postgres"))
        return int(cursor.fetchone()[0])


def fast_body() -> dict[str, Any]:
    """The demo experiment: milliseconds on ``all_events``."""
    return copy.deepcopy(DEMO_BODY)


def slow_body() -> dict[str, Any]:
    """The demo's metrics on :data:`SLOW_EXPERIMENT`: every generated row is aggregated."""
    return copy.deepcopy(DEMO_BODY) | {"id": SLOW_EXPERIMENT, "variants": ["a", "b"]}
