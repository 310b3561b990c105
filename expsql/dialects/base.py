"""What a dialect is: a name, a sqlglot dialect, capability flags and an optional connector.

A dialect declares; it does not compute. The compiler asks it for its capabilities and renders
the one sqlglot tree through it; the connector (a :class:`Dao`) is imported only when used.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from expsql.dialects.percentiles import PercentileBuilder, percentile_cont
from expsql.dialects.rendering import fast_generator
from expsql.errors import DialectError


@runtime_checkable
class Dao(Protocol):
    """A connection to a warehouse: runs SQL and returns the rows as a pandas DataFrame.

    A Dao may also have ``cancel()``, which stops the query :meth:`execute` is running, in the
    warehouse, so that it stops working (and billing). The REST service calls it from another
    thread when an evaluation passes the server's timeout, its client disconnects or the server
    shuts down; it may come before the query starts or after it ends, and is then a no-op, and it
    may come more than once. :meth:`execute` then raises. Without it, such a query runs to its end
    in the warehouse (the service still answers on time). Declare ``can_cancel=True`` on the
    :class:`Dialect` so ``expsql dialects`` says so.
    """

    def execute(self, sql: str) -> pd.DataFrame:
        """Run one query; columns keep the query's aliases, numbers come back as numbers."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


ConnectorFactory = Callable[..., Dao]


def canceller(dao: object) -> Callable[[], None] | None:
    """The Dao's ``cancel()`` method, ``None`` for a Dao without one (its queries run to their end)."""
    cancel = getattr(dao, "cancel", None)
    return cancel if callable(cancel) else None


@dataclass(frozen=True)
class Dialect:
    """A warehouse expsql can compile for and, with a connector, run against.

    :param name: registry key, sqlglot's lowercase key where there is one (``duckdb``).
    :param sqlglot_dialect: the sqlglot dialect that renders the SQL (key or class).
    :param description: one line for ``expsql dialects``.
    :param connector: a callable ``(target, **options) -> Dao`` or its ``"module:attribute"``
        path, imported lazily so that ``import expsql`` never imports a warehouse client.
    :param extra: the ``pip install expsql[extra]`` that brings the connector's client.
    :param native_prefix_match: renders ``exp.StartsWith`` as a real prefix function, so
        ``=^`` needs no ``LIKE`` escaping.
    :param percentile: whether ``percentile_function`` is ``exact`` (pandas' linear
        interpolation) or ``approximate``: outlier caps then differ from ep-stats' by the
        function's approximation (the README's table says which and how much); ``none`` when
        the warehouse has no percentile at all, so a winsorized metric's metric rows are refused
        at compile time (unit rows still serve it: the stats module caps them).
    :param percentile_function: builds the percentile node of outlier winsorization
        (:mod:`expsql.dialects.percentiles`); ``None`` for the SQL standard
        ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)``.
    :param percentile_window: the node is an analytic function (``... OVER ()``), not an
        aggregate, so the compiler takes its value from one row instead of aggregating.
    :param max_identifier_bytes: the longest name the warehouse keeps whole, in UTF-8 bytes
        (PostgreSQL silently cuts longer ones to 63), so the compiler refuses longer names.
    :param timestamp_type: the sqlglot type of the timestamp literals the exposures layout
        compares its timestamp columns with (BigQuery's ``TIMESTAMP`` is sqlglot's
        ``TIMESTAMPTZ``; its ``DATETIME`` does not compare with a ``TIMESTAMP`` column).
    :param max_query_bytes: the longest query text the warehouse takes, in UTF-8 bytes (BigQuery:
        1,024 KB); the metric rows of a larger experiment are compiled to several statements, each
        for a share of the metrics (:func:`expsql.compiler.compile_statements`).
    :param can_cancel: its Dao has ``cancel()`` (see :class:`Dao`): the service stops a query in
        the warehouse when its evaluation times out, its client leaves or the server shuts down.
    :param can_load_tables: its Dao has ``load_table(frame, table)`` and ``drop_table(table)``, so
        the conformance kit (:mod:`expsql.testing`) and ``expsql check`` can write their reference
        tables through it.
    :param publish: how ``--write-results`` makes a run's rows visible at once, after loading them
        into staging tables (:mod:`expsql.results`): ``transaction`` — its Dao has
        ``publish(statements)``, running every ``INSERT … SELECT`` from staging in one transaction
        (DuckDB, PostgreSQL); ``marker`` — no multi-table transaction (Spark), so each table's
        ``INSERT … SELECT`` runs alone and the run's row in the runs table, written last, is the
        commit marker: the latest-run views and ``expsql results`` read only runs that have it;
        ``none`` — results cannot be written.
    :param incremental: its warehouse can keep an incremental refresh's state
        (:mod:`expsql.incremental`): it creates a table from a query, drops one, and commits a
        one-row ``INSERT`` whole, the refresh's one atomic step (the state record's new row).
    :param refresh_lock: how one refresh of an experiment at a time is enforced
        (:mod:`expsql.incremental.locks`): ``session`` — an advisory lock the connection holds and
        the server releases when it ends (PostgreSQL); ``table`` — a lock table the refresh creates
        and drops, taken over from a killed holder of the same host.
    :param analyze_new_tables: its planner plans from statistics that a table created from a query
        lacks until ``ANALYZE`` (PostgreSQL, Redshift): an incremental refresh analyzes each state
        table it writes before its query reads it (without, PostgreSQL planned the state's join
        as a nested loop of ~1 estimated row: minutes on 100k units).
    :param options: default keyword options passed to the connector.
    :param client: import name of the connector's warehouse client (``psycopg``), so
        ``expsql dialects`` can tell whether it is installed without importing it.
    """

    name: str
    sqlglot_dialect: str | type[sqlglot.Dialect]
    description: str = ""
    connector: ConnectorFactory | str | None = None
    extra: str | None = None
    native_prefix_match: bool = False
    percentile: Literal["exact", "approximate", "none"] = "exact"
    percentile_function: PercentileBuilder | None = None
    percentile_window: bool = False
    max_identifier_bytes: int | None = None
    timestamp_type: str = "TIMESTAMP"
    max_query_bytes: int | None = None
    can_cancel: bool = False
    can_load_tables: bool = False
    publish: Literal["transaction", "marker", "none"] = "none"
    incremental: bool = False
    refresh_lock: Literal["session", "table"] = "table"
    analyze_new_tables: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    client: str | None = None

    def percentile_of(self, target: exp.Expression, quantile: Decimal) -> exp.Expression:
        """The node computing the ``quantile`` (0 to 1) of ``target`` over all rows."""
        if self.percentile == "none":
            raise DialectError(
                f"{self.name} has no percentile function, so it cannot cap outliers in SQL; "
                'evaluate unit rows instead (--rows units, or "rows": "units"): expsql caps them itself'
            )
        return (self.percentile_function or percentile_cont)(target, quantile)

    @property
    def sqlglot(self) -> sqlglot.Dialect:
        return sqlglot.Dialect.get_or_raise(self.sqlglot_dialect)

    def render(self, tree: exp.Expression, *, pretty: bool = True, copy: bool = True) -> str:
        """SQL text for this warehouse; an unsupported construct raises instead of logging.

        ``copy=False`` lets the generator rewrite ``tree`` in place: for a tree built just for
        this call it saves a deep copy of thousands of nodes.
        """
        dialect = self.sqlglot
        fast = fast_generator(dialect, tree)
        if fast is None:
            return dialect.generate(tree, copy=copy, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
        generator = fast(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
        return generator.generate(tree, copy=copy)

    def connector_factory(self) -> ConnectorFactory:
        if self.connector is None:
            raise DialectError(f"dialect {self.name!r} has no connector: use it to compile only")
        if callable(self.connector):
            return self.connector
        module_name, _, attribute = self.connector.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise self.missing_client_error(error.name or module_name) from None
        return getattr(module, attribute)

    def connector_installed(self) -> bool:
        """Whether the connector's client can be imported (without importing it)."""
        if self.connector is None:
            return False
        if self.client is None:
            return True
        try:
            return importlib.util.find_spec(self.client) is not None
        except ImportError:  # a missing parent package (``google`` of ``google.cloud.bigquery``)
            return False

    def missing_client_error(self, missing: str) -> DialectError:
        """The error for a connector whose client is not installed, naming the extra to install."""
        hint = f"pip install 'expsql[{self.extra}]'" if self.extra else "install its client"
        return DialectError(f"the {self.name} connector needs {missing}: {hint}")

    def connect(self, target: str | None = None, **options: Any) -> Dao:
        """Open a :class:`Dao` to ``target`` (a file path, a DSN, a Spark master, a project)."""
        factory = self.connector_factory()
        if self.client is not None and not self.connector_installed():
            raise self.missing_client_error(self.client)
        return factory(target, **{**self.options, **options})
