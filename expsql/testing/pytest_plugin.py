"""The kit in pytest: engine fixtures, and :class:`DialectConformance` for a dialect author to subclass.

Enable it in a ``conftest.py``::

    pytest_plugins = ["expsql.testing.pytest_plugin"]

Then a test module proves a dialect with one class (the example plugin's own tests do this)::

    from expsql.testing.pytest_plugin import DialectConformance

    class TestSqliteConformance(DialectConformance):
        DIALECT = "sqlite"

        @pytest.fixture(scope="class")
        @classmethod
        def dao(cls):
            dao = get("sqlite").connect(":memory:")
            yield dao
            dao.close()

Every reference experiment in each of its row contracts becomes one test, named after its feature
and case; a failure shows the first differing row. The Dao writes the reference tables through its
``load_table(frame, table)``; override :meth:`DialectConformance.load_table` (and ``drop_table``)
when yours has none. Features in ``UNSUPPORTED`` must fail to compile with expsql's error. A dialect
that declares a ``publish`` step is also checked to write ``--write-results`` tables that read back
equal (in ``RESULTS_SCHEMA``, :mod:`expsql.testing.results_check`).

Engines: an engine the machine lacks skips its tests with the reason and how to enable it, except
under ``CI=true``, where it fails them, so CI can never pass by skipping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import pandas as pd
import pytest

from expsql.dialects import Dao, Dialect
from expsql.testing import engines, load
from expsql.testing.cases import CASES, Case
from expsql.testing.engines import (
    EngineUnavailable,
    FakesnowServer,
    PostgresServer,
    SparkConnectServer,
    in_ci,
)
from expsql.testing.kit import Target, reference_tables_loaded, run_case

if TYPE_CHECKING:
    import duckdb
    import psycopg
    from pyspark.sql import SparkSession


def pytest_configure(config: pytest.Config) -> None:
    # pyspark 4 warns on each Arrow conversion that it does not fully support pandas 3; the kit
    # checks Spark's rows against pandas itself, which is the support that matters.
    config.addinivalue_line(
        "filterwarnings", "ignore:PySpark does not yet fully support pandas:FutureWarning"
    )


def engine_unavailable(reason: str, how_to_enable: str) -> NoReturn:
    """Skip (outside CI) or fail (``CI=true``) a test whose engine or extra is missing."""
    message = f"{reason} — {how_to_enable}"
    if in_ci():
        pytest.fail(f"CI=true and an engine is missing: {message}", pytrace=False)
    pytest.skip(message)


def started(start: Callable[[], Any]) -> Any:
    """``start()``, with an unavailable engine turned into a skip or (``CI=true``) a failure."""
    try:
        return start()
    except EngineUnavailable as missing:
        engine_unavailable(missing.reason, missing.how_to_enable)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started for this test session (stopped at its end)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        engine_unavailable("psycopg is not installed", "pip install 'expsql[postgres]'")
    server: PostgresServer = started(PostgresServer)
    try:
        server.start()
    except (RuntimeError, KeyError, OSError) as error:
        server.stop()
        engine_unavailable(f"PostgreSQL did not start: {error}", "check the PostgreSQL server install")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_connection(postgres_server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit psycopg connection to :func:`postgres_server`, shared by the session."""
    import psycopg

    with psycopg.connect(postgres_server.dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def spark_session() -> Iterator[SparkSession]:
    """One Spark session in local mode for the whole test session."""
    session: SparkSession = started(engines.spark_session)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_connect_server() -> Iterator[SparkConnectServer]:
    """A Spark Connect server (pyspark's ``sbin/start-connect-server.sh``) for this test session."""
    for module in ("grpc", "zstandard", "google.rpc"):
        try:
            __import__(module)
        except ImportError:
            engine_unavailable(
                f"{module} is not installed", "pip install 'expsql[spark]' (pyspark[connect]'s clients)"
            )
    server: SparkConnectServer = started(SparkConnectServer)
    try:
        server.start()
    except RuntimeError as error:
        engine_unavailable(f"Spark Connect did not start: {error}", "check JAVA_HOME and the pyspark install")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fakesnow_server() -> Iterator[FakesnowServer]:
    """fakesnow's Snowflake API server, from its own virtual environment (``.venv-fakesnow``)."""
    try:
        import snowflake.connector  # noqa: F401
    except ImportError:
        engine_unavailable("snowflake-connector-python is not installed", "pip install 'expsql[snowflake]'")
    server: FakesnowServer = started(FakesnowServer)
    try:
        server.start()
    except (RuntimeError, OSError) as error:
        engine_unavailable(f"fakesnow did not start: {error}", "check the .venv-fakesnow install")
    yield server
    server.stop()


@pytest.fixture
def duckdb_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory DuckDB database."""
    import duckdb

    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def open_clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """``open_clickhouse(events, table="events")``: a chdb session (ClickHouse in-process) holding
    ``events``; every session opened is closed at the end of the test session."""
    try:
        from chdb import session
    except ImportError:
        engine_unavailable(
            "chdb is not installed", "pip install 'expsql[clickhouse]' to run ClickHouse in-process"
        )
    opened: list[Any] = []

    def opener(events: pd.DataFrame, table: str = "events") -> Any:
        clickhouse = session.Session()
        opened.append(clickhouse)
        load.to_clickhouse(
            clickhouse, events, tmp_path_factory.mktemp("clickhouse") / "events.parquet", table
        )
        return clickhouse

    yield opener
    for clickhouse in opened:
        clickhouse.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A :class:`DialectConformance` subclass's reference experiments: one test per case and
    contract, of the features in its ``FEATURES`` (every feature when ``None``)."""
    cls = metafunc.cls
    if cls is None or not issubclass(cls, DialectConformance) or "case" not in metafunc.fixturenames:
        return
    chosen = cls.FEATURES
    params = [
        pytest.param(case, contract, id=f"{case.feature} | {case.name} [{contract}]")
        for case in CASES.values()
        if chosen is None or case.feature in chosen
        for contract in case.contracts
    ]
    metafunc.parametrize(("case", "contract"), params)


class DialectConformance:
    """Subclass it, set :attr:`DIALECT` and provide a ``dao`` fixture (class scope): each reference
    experiment of the kit then runs as one test of the subclass."""

    #: The dialect under test (its registry name or the object).
    DIALECT: ClassVar[str | Dialect]
    #: Features (:data:`expsql.testing.cases.FEATURES`) it declares unsupported.
    UNSUPPORTED: ClassVar[frozenset[str]] = frozenset()
    #: Where the reference tables are written (``None``: the connection's default schema).
    SCHEMA: ClassVar[str | None] = None
    #: Only the reference experiments of these features (``None``: every feature).
    FEATURES: ClassVar[frozenset[str] | None] = None
    #: Where the results check writes (and then drops) its tables, created when missing.
    RESULTS_SCHEMA: ClassVar[str] = "expsql_kit_results"

    @pytest.fixture(scope="class")
    @classmethod
    def dao(cls) -> Iterator[Dao]:
        raise NotImplementedError("a DialectConformance subclass provides a class-scoped `dao` fixture")

    @classmethod
    def load_table(cls, dao: Dao, frame: pd.DataFrame, table: str) -> None:
        """Write ``frame`` as ``table``, replacing it (by default the Dao's ``load_table``)."""
        load = getattr(dao, "load_table", None)
        if load is None:
            raise NotImplementedError(f"{type(dao).__name__} has no load_table: override load_table")
        load(frame, table)

    @classmethod
    def drop_table(cls, dao: Dao, table: str) -> None:
        """Drop ``table`` (by default the Dao's ``drop_table``; nothing when it has none)."""
        drop = getattr(dao, "drop_table", None)
        if drop is not None:
            drop(table)

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls, dao: Dao) -> Iterator[Target]:
        """The reference tables written through :meth:`load_table`, dropped after the class."""
        target = Target(
            cls.DIALECT,
            dao,
            load=lambda frame, table: cls.load_table(dao, frame, table),
            drop=lambda table: cls.drop_table(dao, table),
            schema=cls.SCHEMA,
            unsupported=frozenset(cls.UNSUPPORTED),
        )
        with reference_tables_loaded(target):
            yield target

    def test_results_written_and_read_back(self, dao: Dao) -> None:
        """``--write-results`` through the Dao's table loader: every results table reads back equal
        to its Evaluation frame (:mod:`expsql.testing.results_check`); skipped for a dialect that
        declares ``publish="none"`` once the kit saw it refuse to write."""
        from expsql.testing.results_check import check_results

        result = check_results(Target(self.DIALECT, dao), self.RESULTS_SCHEMA)
        if result.status == "fail":
            pytest.fail(f"results: {result.detail}", pytrace=False)
        if result.status == "unsupported":
            pytest.skip(f"{result.detail} (declares publish='none')")

    def test_reference_experiment(self, conformance_target: Target, case: Case, contract: str) -> None:
        result = run_case(conformance_target, case, contract)
        if result.status == "fail":
            pytest.fail(f"{case.feature}: {case.name} [{contract}]: {result.detail}", pytrace=False)
        assert result.status in ("pass", "unsupported")
