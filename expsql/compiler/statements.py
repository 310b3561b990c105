"""Several statements where a warehouse's query-length limit forces it: the metrics split evenly.

The metric-rows query grows by about 450 bytes a metric (1,000 metrics: ~453 KB of BigQuery SQL),
and some warehouses refuse or mishandle long query text (:attr:`Dialect.max_query_bytes`:
BigQuery's limit is 1,024 KB, Snowflake's 1 MB). An experiment whose query is longer is compiled
to the fewest statements that each fit: the same query for an even, ordered share of the metrics.
Each reads the events table once, and their rows together are the one query's rows: the checks'
and the exposure's rows (``@`` ids) come from the first statement only, so the rows of all the
statements, concatenated (as run, or as exported from the warehouse), evaluate as one.

BigQuery also limits a query's columns to 10,000: the widest step, the per-variant sums, has about
three columns a metric, so the text limit binds first (~2,000 metrics against ~3,300).

Goal and unit rows are not split: they do not grow per metric the way metric rows do (a goal term
each), and one beyond the limit is refused, naming the metric rows that can be split.
"""

from __future__ import annotations

from math import ceil

from expsql.compiler.build import compile_sql, resolve_dialect
from expsql.dialects import Dialect
from expsql.errors import DialectError
from expsql.models import Experiment, Metric
from expsql.source import AnySource

#: Statements are first tried this much smaller than the limit, in proportion: the split is even
#: by metrics, not by bytes, and a statement carries the query's fixed part too.
MARGIN = 1.1


def compile_statements(
    experiment: Experiment,
    dialect: str | Dialect = "duckdb",
    rows: str = "metrics",
    source: AnySource | None = None,
) -> list[str]:
    """The experiment's query for ``dialect``, or, where its query-length limit forces it, the
    fewest metric-rows statements that each fit (the first carries the ``@`` rows).

    :raises DialectError: goal or unit rows beyond the limit, or one metric's query alone is.
    """
    resolved = resolve_dialect(dialect)
    sql = compile_sql(experiment, resolved, rows, source)
    limit = resolved.max_query_bytes
    size = len(sql.encode())
    if limit is None or size <= limit:
        return [sql]
    where = f"{resolved.name} takes queries of at most {limit:,} bytes"
    if rows != "metrics":
        raise DialectError(
            f"the {rows} query of {experiment.id!r} is {size:,} bytes and {where}; metric rows "
            "(--rows metrics) can be split into several statements, each for a share of the metrics"
        )
    metrics = list(experiment.metrics)
    for count in range(ceil(size * MARGIN / limit), len(metrics) + 1):
        statements = [
            compile_sql(
                experiment.model_copy(update={"metrics": share}), resolved, rows, source, shared_rows=first
            )
            for first, share in _shares(metrics, count)
        ]
        if all(len(statement.encode()) <= limit for statement in statements):
            return statements
    raise DialectError(f"the query of one metric of {experiment.id!r} alone is longer than {where}")


def _shares(metrics: list[Metric], count: int) -> list[tuple[bool, list[Metric]]]:
    """``metrics`` in ``count`` ordered shares of sizes differing by at most one; is it the first."""
    size, extra = divmod(len(metrics), count)
    shares, start = [], 0
    for index in range(count):
        end = start + size + (index < extra)
        shares.append((index == 0, metrics[start:end]))
        start = end
    return shares
