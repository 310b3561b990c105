"""Each unit's first row: the rows of a table ranked within their unit, the first kept.

A breakdown reads a unit's attributes from the exposure that decides its segment; which rows are
candidates, and what orders them, is the source layout's (:mod:`.layouts`); the ranking is here.
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.nodes import alias, column, identifier, number
from expsql.compiler.plan import Plan

RANKED = "ranked_segments"
SEGMENT_RANK = "segment_rank"


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
