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

Which exposure decides (the source layout's :meth:`~expsql.compiler.layouts.base.Layout.unit_segments`):

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

from expsql.compiler.layouts import layout_of
from expsql.compiler.nodes import alias, column, conjunction, cte, identifier
from expsql.compiler.plan import Plan
from expsql.dialects.base import Dialect

UNIT_SEGMENTS = "unit_segments"


def segmented_scan(plan: Plan, dialect: Dialect, scan: exp.Select, name: str) -> list[exp.CTE]:
    """The CTEs that define the builders' scan ``name``: ``scan`` itself, and with a breakdown the
    columns the layout reads each unit's segment from, then ``unit_segments``."""
    if not plan.segments:
        return [cte(name, scan)]
    layout = layout_of(plan)
    scan.select(*layout.segment_candidates(dialect), copy=False)
    return [cte(name, scan), cte(UNIT_SEGMENTS, layout.unit_segments(dialect, name))]


def segmented_units(plan: Plan, table: str, name: str) -> list[exp.CTE]:
    """With a breakdown, the CTE ``name``: every row of the per-unit ``table`` with its unit's
    segment columns (a unit without a segment row, NULL); none without a breakdown.

    The join is at the unit step rather than on every scanned event: measured on DuckDB (1M
    events, metric rows), joining the events cost as much as the rest of the breakdown.
    """
    if not plan.segments:
        return []
    same_unit = conjunction(
        [
            exp.EQ(this=column(k, table), expression=column(k, UNIT_SEGMENTS))
            for k in layout_of(plan).segment_keys
        ]
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
