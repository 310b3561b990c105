"""Breakdowns in SQL: every unit carries its segment into the per-unit step, so every row contract
can be grouped by it and the rows of all segments add up to the overall rows.

A breakdown dimension is an exposure attribute, one value per unit (:attr:`Plan.segments`). The
builders' per-unit sums get the unit's segment columns from one small CTE::

    experiment_events AS (<the scan>, [the attributed layout: each event's breakdown columns,
                          its date and whether it is an exposure event]),
    unit_segments AS (  -- one row per unit: the attributes of the exposure that decides
      SELECT <unit key>, segment_0, ... FROM (
        SELECT <unit key>, <attribute> AS segment_0, ...,
               ROW_NUMBER() OVER (PARTITION BY <unit key> ORDER BY <first>, segment_0 NULLS LAST, ...)
        FROM <exposures>) WHERE segment_rank = 1),
    unit_terms AS (...),  -- or unit_goals: the per-unit sums, as without a breakdown
    segmented_unit_terms AS (SELECT unit_terms.*, unit_segments.segment_0, ...
                             FROM unit_terms LEFT JOIN unit_segments ON <same unit key>)

and the later steps carry the segment columns (:func:`segment_columns`) to their ``GROUP BY``.

Which exposure decides (:class:`~expsql.compiler.relation.Layout`):

- **exposures layout**: the unit's first exposure (``t0``) in the exposure log; exposures at the
  same instant with different attributes: the smallest value of the first breakdown dimension,
  then of the next (NULL last), then the smallest variant. The unit key is ``unit_id``: a unit
  excluded for being exposed to several variants has one segment under every marker variant.
- **attributed layout**: the unit's earliest exposure event (by the ``date`` column when the source
  has one), ties broken the same way; the unit key is ``(variant, unit)``. Every event of the unit,
  of every goal, lands in that segment. A unit without an exposure event has no attributes: its
  events land in the NULL segment (the ``LEFT JOIN``), so the segments still add up.

The segment columns keep the attribute's type and its NULL; the stats label a NULL ``(null)``.
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.nodes import alias, column, conjunction, cte, identifier, number
from expsql.compiler.plan import Plan
from expsql.compiler.scan import event_column, goal_predicate
from expsql.dialects.base import Dialect

UNIT_SEGMENTS = "unit_segments"
RANKED = "ranked_segments"
SEGMENT_RANK = "segment_rank"
SEGMENT_DATE = "segment_date"
EXPOSURE_FLAG = "segment_exposure"
VARIANT = "variant_id"
UNIT = "unit_id"


def segmented_scan(plan: Plan, dialect: Dialect, scan: exp.Select, name: str) -> list[exp.CTE]:
    """The CTEs that define the builders' scan ``name``: ``scan`` itself, and with a breakdown the
    columns the layout reads each unit's segment from, then ``unit_segments``."""
    if not plan.segments:
        return [cte(name, scan)]
    layout = plan.layout
    scan.select(*layout.segment_candidates(plan, dialect), copy=False)
    return [cte(name, scan), cte(UNIT_SEGMENTS, layout.unit_segments(plan, dialect, name))]


def segmented_units(plan: Plan, table: str, name: str) -> list[exp.CTE]:
    """With a breakdown, the CTE ``name``: every row of the per-unit ``table`` with its unit's
    segment columns (a unit without a segment row, NULL); none without a breakdown.

    The join is at the unit step rather than on every scanned event: measured on DuckDB (1M
    events, metric rows), joining the events cost as much as the rest of the breakdown.
    """
    if not plan.segments:
        return []
    same_unit = conjunction(
        [exp.EQ(this=column(k, table), expression=column(k, UNIT_SEGMENTS)) for k in plan.layout.segment_keys]
    )
    projections = [
        exp.Column(this=exp.Star(), table=identifier(table)),
        *(column(segment.column, UNIT_SEGMENTS) for segment in plan.segments),
    ]
    query = exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(table)), copy=False)
    query.set("joins", [exp.Join(this=exp.Table(this=identifier(UNIT_SEGMENTS)), on=same_unit, side="LEFT")])
    return [cte(name, query)]


def segment_columns(plan: Plan) -> list[exp.Column]:
    """The key columns as the builders' CTEs name them (to GROUP BY)."""
    return [column(key.column) for key in plan.key_columns]


def segment_outputs(plan: Plan) -> list[exp.Expression]:
    """The key columns as the rows name them (the breakdown's dimension names)."""
    return [alias(column(key.column), key.name) for key in plan.key_columns]


def first_of(
    plan: Plan,
    keys: list[str],
    attributes: list[exp.Expression],
    order: list[exp.Expression],
    table: str,
    tie_breaks: tuple[exp.Expression, ...] = (),
) -> tuple[exp.Select, list[str]]:
    """Each row of ``table`` with the ``attributes`` as the segment columns and its rank among
    its unit's (``keys``) rows by ``order``, then the attributes (NULL last), then ``tie_breaks``."""
    ordered = [exp.Ordered(this=o) for o in order]
    ordered += [exp.Ordered(this=a.copy(), nulls_first=False) for a in attributes]
    ordered += [exp.Ordered(this=t) for t in tie_breaks]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[column(k) for k in keys],
        order=exp.Order(expressions=ordered),
    )
    names = [segment.column for segment in plan.segments]
    inner = (
        exp.Select()
        .select(
            *(column(k) for k in keys),
            *(a if a.alias_or_name == n else alias(a, n) for a, n in zip(attributes, names, strict=True)),
            alias(rank, SEGMENT_RANK),
            copy=False,
        )
        .from_(exp.Table(this=identifier(table)), copy=False)
    )
    return inner, names


def ranked_first(inner: exp.Select, keys: list[str], names: list[str]) -> exp.Select:
    """The rank-1 rows of ``inner``: its keys and segment columns."""
    source = exp.Subquery(this=inner, alias=exp.TableAlias(this=identifier(RANKED)))
    return (
        exp.Select()
        .select(*(column(k) for k in [*keys, *names]), copy=False)
        .from_(source, copy=False)
        .where(exp.EQ(this=column(SEGMENT_RANK), expression=number(1)), copy=False)
    )


# --- the attributed layout: the unit's earliest exposure event --------------------------------


def attributed_candidates(plan: Plan, dialect: Dialect) -> list[exp.Expression]:
    """What the scan adds for :func:`attributed_unit_segments`: each event's breakdown columns, its
    date and a 0/1 flag of exposure events (the experiment's exposure goal, as metrics count it)."""
    exposure = plan.experiment.exposure_goal
    is_exposure = conjunction(goal_predicate(plan, exposure.unit_type, exposure.agg_type, exposure.goal))
    flag = exp.Case(ifs=[exp.If(this=is_exposure, true=number(1))], default=number(0))
    projections: list[exp.Expression] = [
        alias(event_column(segment.name), segment.column) for segment in plan.segments
    ]
    if plan.relation.date is not None:
        projections.append(alias(event_column(plan.relation.date), SEGMENT_DATE))
    projections.append(alias(flag, EXPOSURE_FLAG))
    return projections


def attributed_unit_segments(plan: Plan, table: str) -> exp.Select:
    """Per (variant, unit): the breakdown columns of its earliest exposure event in ``table``."""
    keys = [VARIANT, UNIT]
    order: list[exp.Expression] = [column(SEGMENT_DATE)] if plan.relation.date is not None else []
    attributes: list[exp.Expression] = [column(segment.column) for segment in plan.segments]
    inner, names = first_of(plan, keys, attributes, order, table)
    inner.where(exp.EQ(this=column(EXPOSURE_FLAG), expression=number(1)), copy=False)
    return ranked_first(inner, keys, names)


# --- the exposures layout: the unit's first exposure in the exposure log -----------------------


def exposures_unit_segments(plan: Plan, exposures: str, timestamp: str) -> exp.Select:
    """Per unit: the breakdown attributes of its first exposure, from the experiment's
    ``exposures`` (one row per exposure: unit, variant, attributes and ``timestamp``)."""
    keys = [UNIT]
    attributes: list[exp.Expression] = [column(segment.name) for segment in plan.segments]
    order: list[exp.Expression] = [column(timestamp)]
    inner, names = first_of(plan, keys, attributes, order, exposures, tie_breaks=(column(VARIANT),))
    return ranked_first(inner, keys, names)
