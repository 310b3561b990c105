"""A deliberately wrong dialect, ``wrongpostgres``: PostgreSQL whose "starts with" is an unescaped
``LIKE 'prefix%'``, so ``product=^p_1`` also matches ``pa1...`` and ``p%1...``. It runs on the real
PostgreSQL connector; the conformance kit must report its rows as wrong, with the differing row."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres

from expsql.dialects import Dialect, hookimpl
from expsql.dialects.postgres import DIALECT as POSTGRES


class WrongPostgres(Postgres):
    class Generator(Postgres.Generator):
        def startswith_sql(self, expression: exp.StartsWith) -> str:
            pattern = exp.DPipe(this=expression.expression, expression=exp.Literal.string("%"))
            return self.sql(exp.Like(this=expression.this, expression=pattern))


DIALECT = Dialect(
    "wrongpostgres",
    WrongPostgres,
    description="PostgreSQL with an unescaped prefix match (a test fixture)",
    connector=POSTGRES.connector,
    client=POSTGRES.client,
    native_prefix_match=True,
    can_load_tables=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
