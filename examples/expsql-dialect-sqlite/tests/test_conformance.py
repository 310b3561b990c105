"""The conformance kit on this plugin: every reference experiment of ``expsql.testing`` compiled for
``sqlite``, run through ``SQLiteDao`` and compared with the kit's expected rows, one test each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from expsql.dialects import Dao, get
from expsql.testing.pytest_plugin import DialectConformance


class TestSQLiteConformance(DialectConformance):
    DIALECT = "sqlite"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls) -> Iterator[Dao]:
        dao = get("sqlite").connect(":memory:")
        yield dao
        dao.close()
