"""``expsql check`` against live engines: the throwaway PostgreSQL server and a Spark Connect server.

It writes the kit's reference tables in the scratch schema, runs every case, prints pass/fail per
feature, drops the tables (also when interrupted) and exits 1 on a failure: a deliberately wrong
dialect (``tests/plugins/fixture_wrong_postgres.py``, an unescaped prefix ``LIKE``) is reported
with its first differing row. A user who may not create tables in the schema is told which
privilege is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from expsql.dialects import get
from expsql.dialects.registry import DISABLE_PLUGINS_ENV, default_registry
from expsql.testing.cases import FEATURES
from expsql.testing.data import TABLES
from expsql.testing.engines import PostgresServer, SparkConnectServer
from tests.cli.conftest import Invoke
from tests.plugins.distributions import PLUGINS, write_distribution

pytestmark = pytest.mark.engine("check")


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "1")
    default_registry.cache_clear()
    yield
    default_registry.cache_clear()


def _tables_in(connection: Any, schema: str) -> list[str]:
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    ).fetchall()
    return sorted(row[0] for row in rows)


@pytest.fixture
def scratch(postgres_connection: Any) -> Iterator[str]:
    postgres_connection.execute("CREATE SCHEMA check_scratch")
    yield "check_scratch"
    postgres_connection.execute("DROP SCHEMA check_scratch CASCADE")


def test_check_passes_on_postgres_and_drops_its_tables(
    invoke: Invoke, postgres_server: PostgresServer, postgres_connection: Any, scratch: str
) -> None:
    outcome = invoke("check", "--dialect", "postgres", "--connect", postgres_server.dsn, "--schema", scratch)
    assert outcome.code == 0, outcome.out + outcome.err
    assert outcome.out.startswith("conformance of postgres: PASS")
    for feature in FEATURES:
        assert any(
            line.split() and line.strip().startswith(feature) and " pass " in line
            for line in outcome.out.splitlines()
        ), feature
    assert _tables_in(postgres_connection, scratch) == []


def test_a_wrong_dialect_fails_with_the_differing_row(
    invoke: Invoke,
    postgres_server: PostgresServer,
    postgres_connection: Any,
    scratch: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_distribution(tmp_path, "expsql-fixture-wrong", {"wrongpostgres": "fixture_wrong_postgres"})
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(DISABLE_PLUGINS_ENV)
    arguments = ("--connect", postgres_server.dsn, "--schema", scratch, "--feature", "dimension filters")
    outcome = invoke(
        "check", "--dialect", "wrongpostgres", *arguments, "--feature", "goal, metric and unit rows"
    )
    assert outcome.code == 1, outcome.out + outcome.err
    lines = outcome.out.splitlines()
    assert lines[0] == "conformance of wrongpostgres: FAIL"
    assert any(line.strip().startswith("goal, metric and unit rows") and " FAIL " in line for line in lines)
    failure = next(line for line in lines if line.startswith("FAIL attributed: rows [goals]"))
    # The prefix p_1 matched more events than it should: the count of a goal term differs.
    assert "expected" in failure and "returned {" in failure and "'goal': 'conversion'" in failure, failure
    assert _tables_in(postgres_connection, scratch) == []


def test_interrupted_check_drops_what_it_wrote(
    invoke: Invoke,
    postgres_server: PostgresServer,
    postgres_connection: Any,
    scratch: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C during the third query: the tables written so far are dropped, the exit status is 130."""
    from expsql.dialects.postgres import PostgresDao

    queries = []
    execute = PostgresDao.execute

    def interrupted(self: PostgresDao, sql: str) -> Any:
        queries.append(sql)
        if len(queries) == 3:
            assert _tables_in(postgres_connection, scratch) == sorted(TABLES.values())
            raise KeyboardInterrupt
        return execute(self, sql)

    monkeypatch.setattr(PostgresDao, "execute", interrupted)
    outcome = invoke("check", "--dialect", "postgres", "--connect", postgres_server.dsn, "--schema", scratch)
    assert outcome.code == 130
    assert "interrupted: the reference tables were dropped" in outcome.err
    assert _tables_in(postgres_connection, scratch) == []


def test_without_create_privilege_it_says_which(
    invoke: Invoke, postgres_server: PostgresServer, postgres_connection: Any, scratch: str
) -> None:
    postgres_connection.execute("CREATE ROLE kit_reader LOGIN")
    try:
        dsn = postgres_server.dsn.replace("user=postgres", "user=kit_reader")
        outcome = invoke("check", "--dialect", "postgres", "--connect", dsn, "--schema", scratch)
    finally:
        postgres_connection.execute("DROP ROLE kit_reader")
    assert outcome.code == 2
    assert "cannot write the reference table check_scratch.expsql_kit_attributed" in outcome.err
    assert "permission denied for schema check_scratch" in outcome.err
    assert (
        "expsql check needs CREATE on schema check_scratch (GRANT CREATE ON SCHEMA check_scratch"
        in outcome.err
    )


def test_check_passes_on_a_spark_connect_server(
    invoke: Invoke, spark_connect_server: SparkConnectServer
) -> None:
    dao = get("spark").connect(spark_connect_server.url)
    dao.execute("CREATE SCHEMA IF NOT EXISTS check_scratch")
    try:
        # The whole kit runs on this server in tests/testing/test_conformance.py; here, four features.
        features = ("dimension filters", "exposures layout", "CUPED", "timeline")
        chosen = [argument for feature in features for argument in ("--feature", feature)]
        url = spark_connect_server.url
        outcome = invoke(
            "check", "--dialect", "spark", "--connect", url, "--schema", "check_scratch", *chosen
        )
        assert outcome.code == 0, outcome.out + outcome.err
        lines = outcome.out.splitlines()
        assert lines[0] == "conformance of spark: PASS"
        assert [line.strip().split("  ")[0] for line in lines[1:]] == list(features)
        assert dao.execute("SHOW TABLES IN check_scratch").empty
    finally:
        dao.execute("DROP SCHEMA IF EXISTS check_scratch")
        dao.close()
