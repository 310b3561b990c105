"""An integrator's module, as ``dao_factory = "tests.server.integrator:make_factory"`` names it.

The factory opens the DuckDB file named by ``EXPSQL_TEST_WAREHOUSE`` with DuckDB's own client and
wraps the connection in expsql's DuckDB Dao, the way a company wraps its warehouse client.
"""

from __future__ import annotations

import os

import duckdb

from expsql.dialects.duckdb import DuckDBDao
from expsql.source import Source

WAREHOUSE_ENV = "EXPSQL_TEST_WAREHOUSE"


class CompanyDaoFactory:
    dialect = "duckdb"
    source = Source(table="events")

    def __init__(self, path: str) -> None:
        self.path = path
        self.opened = 0

    def get_dao(self) -> DuckDBDao:
        self.opened += 1
        return DuckDBDao(duckdb.connect(self.path, read_only=True))


def make_factory() -> CompanyDaoFactory:
    return CompanyDaoFactory(os.environ[WAREHOUSE_ENV])


#: A ready factory object (no call needed), for ``module:attribute`` references to instances.
NOT_A_FACTORY = object()
