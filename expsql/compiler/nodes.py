"""sqlglot nodes built from names and values, never from text.

Every identifier is quoted (``quoted=True``), so a configured name is taken literally and a
reserved word (``unique`` in PostgreSQL, ``order``, ``user``) is never a problem; every value is a
literal node. Nothing here parses text: user names and values only ever reach
:class:`sqlglot.exp.Identifier` and :class:`sqlglot.exp.Literal`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import overload

from sqlglot import exp

from expsql.compiler.terms import TypedValue
from expsql.dialects.base import Dialect


def node(tree: exp.Expr) -> exp.Expression:
    """``tree`` as the node it is: sqlglot types some builders by abstract bases that are not
    ``exp.Expression`` (``exp.and_`` returns a ``Condition``, ``Literal.number`` a ``Literal | Neg``),
    while every node they build is one."""
    if not isinstance(tree, exp.Expression):
        raise TypeError(f"expected a sqlglot expression node, not {type(tree).__name__}")
    return tree


def identifier(name: str) -> exp.Identifier:
    """A quoted identifier; the generator escapes any quote inside ``name`` for each dialect."""
    if not isinstance(name, str):
        raise TypeError(f"a name is text, not {type(name).__name__}")
    return exp.Identifier(this=name, quoted=True)


def number(value: int) -> exp.Expression:
    return node(exp.Literal.number(value))


def column(name: str, table: str | None = None) -> exp.Column:
    # Built directly: ``exp.column`` copies its identifiers, which adds up over 1,000 metrics.
    return exp.Column(this=identifier(name), table=identifier(table) if table else None)


def double_or_zero(target: exp.Expression) -> exp.Expression:
    """``CAST(COALESCE(target, 0) AS DOUBLE)``: a per-unit sum that can neither be NULL nor
    overflow or divide as an integer."""
    return exp.Cast(this=exp.Coalesce(this=target, expressions=[number(0)]), to=exp.DataType.build("DOUBLE"))


def alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=expression, alias=identifier(name))


def cte(name: str, query: exp.Select) -> exp.CTE:
    return exp.CTE(this=query, alias=exp.TableAlias(this=identifier(name)))


@overload
def with_ctes(query: exp.Select, ctes: list[exp.CTE]) -> exp.Select: ...
@overload
def with_ctes(query: exp.Select | exp.Union, ctes: list[exp.CTE]) -> exp.Select | exp.Union: ...
def with_ctes(query: exp.Select | exp.Union, ctes: list[exp.CTE]) -> exp.Select | exp.Union:
    """``query`` with the CTEs (a SELECT, or a UNION ALL: a breakdown's quantile rows)."""
    query.set("with_", exp.With(expressions=ctes))
    return query


def table(parts: tuple[str, ...], alias_name: str) -> exp.Table:
    """``catalog.db.table AS alias_name``, the parts split by the caller, never parsed from text."""
    *qualifiers, name = parts
    db = qualifiers[-1] if qualifiers else None
    catalog = qualifiers[0] if len(qualifiers) == 2 else None
    return exp.Table(
        this=identifier(name),
        db=identifier(db) if db else None,
        catalog=identifier(catalog) if catalog else None,
        alias=exp.TableAlias(this=identifier(alias_name)),
    )


def day_of(target: exp.Expression) -> exp.Expression:
    """``CAST(target AS DATE)``: the day of a timestamp (a date stays itself)."""
    return exp.Cast(this=target, to=exp.DataType.build("DATE"))


def ascending(target: exp.Expression, dialect: Dialect) -> exp.Ordered:
    """``target`` in ascending order, NULLs where the dialect puts them by default: the column is
    never NULL, and a dialect that cannot say ``NULLS LAST`` in a window (BigQuery) is not asked to."""
    nulls_first = dialect.sqlglot.NULL_ORDERING == "nulls_are_small"
    return exp.Ordered(this=target, nulls_first=nulls_first)


def literal(value: TypedValue) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, Decimal):
        return exp.Literal.number(format(value, "f"))
    if isinstance(value, dt.date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    return exp.Literal.string(value)


def conjunction(conditions: Sequence[exp.Expression]) -> exp.Expression:
    if not conditions:
        return exp.Boolean(this=True)
    return node(exp.and_(*conditions, copy=False)) if len(conditions) > 1 else conditions[0]


def disjunction(conditions: Sequence[exp.Expression]) -> exp.Expression:
    if not conditions:
        return exp.Boolean(this=False)
    return node(exp.or_(*conditions, copy=False)) if len(conditions) > 1 else conditions[0]
