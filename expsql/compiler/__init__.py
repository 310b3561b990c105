"""The compiler: the AST (:mod:`expsql.grammar`) → plan (:mod:`.plan`) → one sqlglot tree.

- :mod:`.plan`        — the goal terms, filters, metric rows and breakdown one query computes
- :mod:`.terms`       — term keys, typed filter values, layers of disjoint terms
- :mod:`.relation`    — the source layout behind one interface (:mod:`.attribution`: exposures)
- :mod:`.segments`    — breakdown dimensions as key columns of every row
- :mod:`.nodes`       — sqlglot nodes built from names and values, never from text
- :mod:`.scan`        — the one scan of the events table: names, predicates, WHERE, its query
- :mod:`.goal_rows`   — the goal-rows query (ep-stats compatible)
- :mod:`.metric_rows` — the metric-rows query (per-unit nominators and denominators)
- :mod:`.unit_columns` — the per-unit step metric rows and the timeline share
- :mod:`.unpivot`     — their last step: per-variant sums → one row per metric
- :mod:`.timeline`    — ``timeline: daily``: the metric rows as of each day, in the one query
- :mod:`.build`       — :func:`compile_tree` and :func:`compile_sql`
- :mod:`.statements`  — :func:`compile_statements`: several where a query-length limit forces it
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expsql.compiler.build import ROWS, compile_sql, compile_tree
    from expsql.compiler.statements import compile_statements

__all__ = ["ROWS", "compile_sql", "compile_statements", "compile_tree"]


def __getattr__(name: str) -> Any:
    # sqlglot loads on first use, so importing the package for its names stays light.
    if name == "compile_statements":
        from expsql.compiler import statements

        return statements.compile_statements
    if name in __all__:
        from expsql.compiler import build

        return getattr(build, name)
    raise AttributeError(f"module 'expsql.compiler' has no attribute {name!r}")
