"""The connectors whose warehouse cannot run here, tested as far as an engine here allows.

- Redshift: its SQL for the attributed layout runs on the throwaway PostgreSQL server with
  ``standard_conforming_strings=off`` (Redshift reads backslashes in literals as escapes) and
  passes the kit; the exposures layout's SQL casts to ``VARCHAR(MAX)``, which PostgreSQL refuses.
  ``redshift-connector`` itself cannot talk to PostgreSQL (its startup packet sets
  ``client_protocol_version``, which PostgreSQL refuses), so its Dao is not run here.
- Trino: no server here; the real client against a closed port is a ``ConnectorError``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from expsql.dialects import Dao, get
from expsql.errors import ConnectorError
from expsql.testing import CASES, Target, run_kit
from expsql.testing.engines import PostgresServer, free_port
from expsql.testing.pytest_plugin import engine_unavailable

pytestmark = pytest.mark.engine("postgres")


@pytest.fixture
def redshift_like_postgres(postgres_server: PostgresServer) -> Iterator[Dao]:
    dao = get("postgres").connect(f"{postgres_server.dsn} options='-c standard_conforming_strings=off'")
    yield dao
    dao.close()


def test_redshift_sql_of_the_attributed_layout_passes_the_kit_on_postgres(
    redshift_like_postgres: Dao,
) -> None:
    dao = redshift_like_postgres
    cases = [case for case in CASES.values() if case.layout == "attributed"]
    load, drop = dao.load_table, dao.drop_table  # type: ignore[attr-defined]
    report = run_kit(Target(get("redshift"), dao, load=load, drop=drop), cases)
    assert report.passed, report.to_text()
    assert len(report.results) >= 20


def test_redshift_sql_of_the_exposures_layout_needs_redshift(redshift_like_postgres: Dao) -> None:
    dao = redshift_like_postgres
    load, drop = dao.load_table, dao.drop_table  # type: ignore[attr-defined]
    report = run_kit(Target(get("redshift"), dao, load=load, drop=drop), [CASES["exposures: rows"]])
    assert {result.status for result in report.results} == {"fail"}
    assert all("VARCHAR(MAX)" in result.detail for result in report.results)


def test_trino_connector_reports_an_unreachable_coordinator() -> None:
    try:
        import trino  # noqa: F401
    except ImportError:
        engine_unavailable("the trino client is not installed", "pip install 'expsql[trino]'")
    dao = get("trino").connect(f"http://127.0.0.1:{free_port()}", user="kit")
    with pytest.raises(ConnectorError, match="trino refused the query"):
        dao.execute("SELECT 1")
