"""DaoFactory: the demo database, connector factories, integrators' factories named in the config."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from expsql.config import Config, ConfigError, ServerSettings
from expsql.dialects import UnknownDialectError
from expsql.server.factory import (
    ConnectorDaoFactory,
    DemoDaoFactory,
    check_factory,
    factory_from_config,
    load_factory,
    source_of,
)
from tests.server.integrator import WAREHOUSE_ENV, CompanyDaoFactory


def test_demo_factory_writes_the_database_once_for_concurrent_requests() -> None:
    factory = DemoDaoFactory(units=500)
    counts: list[int] = []

    def request() -> None:
        dao = factory.get_dao()
        try:
            counts.append(int(dao.execute("SELECT COUNT(DISTINCT unit_id) AS n FROM events")["n"][0]))
        finally:
            dao.close()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counts) == 4 and len(set(counts)) == 1 and counts[0] > 500
    path = factory.path
    assert path.exists() and path.parent.name.startswith("expsql-demo-")
    factory.close()
    assert not path.exists()


def test_demo_factory_reuses_a_given_database(demo_database: Path) -> None:
    factory = DemoDaoFactory(demo_database)
    assert factory.path == demo_database
    factory.close()
    assert demo_database.exists()  # not ours to delete


def test_connector_factory_opens_the_dialects_connector(demo_database: Path) -> None:
    factory = ConnectorDaoFactory("duckdb", str(demo_database), {"read_only": True})
    dao = factory.get_dao()
    try:
        assert list(dao.execute("SELECT 1 AS one")["one"]) == [1]
    finally:
        dao.close()
    assert "read_only" not in repr(factory)


def test_connector_factory_rejects_an_unknown_dialect_at_once() -> None:
    with pytest.raises(UnknownDialectError, match="Did you mean 'postgres'"):
        ConnectorDaoFactory("postgress", None)


def test_load_factory_calls_a_callable_and_checks_the_result(
    demo_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WAREHOUSE_ENV, str(demo_database))
    factory = load_factory("tests.server.integrator:make_factory")
    assert isinstance(factory, CompanyDaoFactory) and factory.path == str(demo_database)
    assert source_of(factory).table == "events"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_colon", "must look like"),
        ("tests.server.nowhere:make", "cannot import"),
        ("tests.server.integrator:missing", "has no missing"),
        ("tests.server.integrator:NOT_A_FACTORY", "has no get_dao"),
    ],
)
def test_load_factory_explains_what_is_wrong(reference: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_factory(reference)


def test_check_factory_needs_a_registered_dialect() -> None:
    class Anonymous:
        def get_dao(self) -> None: ...

    class Exotic(Anonymous):
        dialect = "mysqlish"

    with pytest.raises(ConfigError, match="which dialect"):
        check_factory(Anonymous())
    with pytest.raises(UnknownDialectError):
        check_factory(Exotic())


def test_factory_from_config_picks_integrator_then_connector_then_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPSQL_TEST_PGPASSWORD", "s3cret")
    monkeypatch.setenv(WAREHOUSE_ENV, str(tmp_path / "w.duckdb"))
    integrator = Config(server=ServerSettings(dao_factory="tests.server.integrator:make_factory"))
    assert isinstance(factory_from_config(integrator), CompanyDaoFactory)
    connector = Config(
        server=ServerSettings(dialect="postgres", connect="host=db"),
        connectors={"postgres": {"password_env": "EXPSQL_TEST_PGPASSWORD", "connect_timeout": 3}},
    )
    built = factory_from_config(connector)
    assert isinstance(built, ConnectorDaoFactory)
    assert (built.dialect, built.target, built.options) == (
        "postgres",
        "host=db",
        {"password": "s3cret", "connect_timeout": 3},
    )
    assert isinstance(factory_from_config(Config()), DemoDaoFactory)
    with pytest.raises(ConfigError, match="needs a dialect"):
        factory_from_config(Config(server=ServerSettings(connect="host=db")))
