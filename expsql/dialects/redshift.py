"""Redshift: compile and review only (no connector here).

Redshift has no prefix function, so sqlglot renders ``exp.StartsWith`` as ``LIKE 'x' || '%'``
without escaping ``%`` and ``_``: the compiler must build its own prefix test.
"""

from __future__ import annotations

from expsql.dialects.base import Dialect
from expsql.dialects.hookspecs import hookimpl

DIALECT = Dialect(
    "redshift",
    "redshift",
    description="Amazon Redshift",
    native_prefix_match=False,
    max_identifier_bytes=127,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
