"""The compiler: the AST (:mod:`expsql.grammar`) → plan (:mod:`.plan`) → one sqlglot tree.

One direction, top to bottom (``docs/development.md`` draws the map, import-linter keeps it):

- :mod:`.statements`  — :func:`compile_statements`: several where a query-length limit forces it
- :mod:`.build`       — :func:`compile_tree` and :func:`compile_sql`
- :mod:`.timeline`    — ``timeline: daily``: the metric rows as of each day, in the one query
- :mod:`.metric_rows` — the metric-rows query (per-unit nominators and denominators)
- :mod:`.unit_rows`   — one row per unit and goal term
- :mod:`.goal_rows`   — the goal-rows query (ep-stats compatible)
- :mod:`.unit_columns`, :mod:`.unpivot`, :mod:`.term_codes`, :mod:`.winsorize` — the steps metric
  rows and the timeline share: per-unit columns, per-variant sums → rows, coded scans, caps
- :mod:`.segments`    — breakdown dimensions as key columns of every row
- :mod:`.scan`        — the one scan of the events table: names, WHERE, term ``CASE``, its query
- :mod:`.layouts`     — where the events come from: one module per source layout, one interface
- :mod:`.predicates`  — goal, dimension, window and filter predicates; :mod:`.first_rows`, a
  unit's first row
- :mod:`.plan`        — the goal terms, filters, metric rows and breakdown one query computes
- :mod:`.relation`    — the relation the scan reads; :mod:`.nodes`, sqlglot nodes built from
  names and values, never from text; :mod:`.terms`, term keys, typed values, layers
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
