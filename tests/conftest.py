"""Engines for the whole test suite: DuckDB in-process, a PostgreSQL 15 server and Spark local mode.

The fixtures start their engines themselves, once per test session: PostgreSQL from the server
binaries of ``pg_config --bindir`` (``initdb`` and ``pg_ctl`` in a temporary directory, a free
port, stopped at the end; as an unprivileged user when the tests run as root, because PostgreSQL
refuses to run as root) and Spark through pyspark (``local[2]``, quiet). An engine that cannot
start skips its tests with a reason saying how to enable it, except when ``CI=true``: there a
missing engine fails the run, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

# ``tests.events``, ``tests.reference`` and ``tests.engines.load`` import as ``tests.*``.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

if TYPE_CHECKING:
    import duckdb
    import psycopg
    from pyspark.sql import SparkSession

POSTGRES_USER = "postgres"
#: Users that may own the throwaway cluster when the tests run as root, in order of preference.
UNPRIVILEGED_USERS = ("nobody", "expsql-pg")


def pytest_configure(config: pytest.Config) -> None:
    # pyspark 4.0 warns on each Arrow conversion that it does not fully support pandas 3; the
    # cross-engine test checks Spark's rows against pandas itself, which is the support that matters.
    config.addinivalue_line(
        "filterwarnings", "ignore:PySpark does not yet fully support pandas:FutureWarning"
    )


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def engine_unavailable(reason: str, how_to_enable: str) -> NoReturn:
    """Skip (outside CI) or fail (``CI=true``) a test whose engine or extra is missing."""
    message = f"{reason} — {how_to_enable}"
    if in_ci():
        pytest.fail(f"CI=true and an engine is missing: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def open_clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """``open_clickhouse(events, table="events")``: a chdb session (ClickHouse in-process) holding
    ``events``; every session opened is closed at the end of the test session."""
    try:
        from chdb import session
    except ImportError:
        engine_unavailable("chdb is not installed", "pip install chdb to run the ClickHouse SQL in-process")
    from expsql.testing import load

    opened: list[Any] = []

    def opener(events: Any, table: str = "events") -> Any:
        clickhouse = session.Session()
        opened.append(clickhouse)
        load.to_clickhouse(
            clickhouse, events, tmp_path_factory.mktemp("clickhouse") / "events.parquet", table
        )
        return clickhouse

    yield opener
    for clickhouse in opened:
        clickhouse.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        engine_unavailable(
            "pg_config not found", "install the PostgreSQL 15 server (apt-get install postgresql-15)"
        )
    answer = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
    bindir = Path(answer.stdout.strip())
    if not (bindir / "initdb").exists() or not (bindir / "pg_ctl").exists():
        engine_unavailable(
            f"no initdb/pg_ctl in {bindir}", "install the PostgreSQL server package, not only the client"
        )
    return bindir


def _unprivileged_user() -> str:
    """An existing unprivileged user, or one created with ``useradd`` (we are root here)."""
    for name in UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    name = UNPRIVILEGED_USERS[-1]
    subprocess.run(["useradd", "--system", "--no-create-home", name], capture_output=True, check=True)
    return name


class PostgresServer:
    """A throwaway PostgreSQL cluster: ``initdb`` into a temp dir, ``pg_ctl start`` on a free port."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="expsql-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.run_as: str | None = None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={POSTGRES_USER} dbname=postgres"

    def _run(self, *arguments: str | Path) -> None:
        result = subprocess.run(
            [str(argument) for argument in arguments],
            capture_output=True,
            text=True,
            user=self.run_as,
            cwd=self.root,
            check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(arguments[:2])} failed:\n{result.stdout}{result.stderr}{log}")

    def start(self) -> None:
        # PostgreSQL refuses to run as root: as root, hand the cluster to an unprivileged user.
        if os.geteuid() == 0:
            self.run_as = _unprivileged_user()
            record = pwd.getpwnam(self.run_as)
            os.chown(self.root, record.pw_uid, record.pw_gid)
        self.root.chmod(0o700)
        self._run(
            self.bindir / "initdb",
            "-D", self.data, "-U", POSTGRES_USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        # C locale: strings compare by code point, as DuckDB, Spark and the pandas oracle do.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -F"
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server started for this test session (stopped at its end)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        engine_unavailable("psycopg is not installed", "pip install -e '.[postgres]'")
    server = PostgresServer(_postgres_bindir())
    try:
        server.start()
    except (RuntimeError, KeyError, OSError, subprocess.CalledProcessError) as error:
        server.stop()
        engine_unavailable(f"PostgreSQL did not start: {error}", "check the PostgreSQL 15 server install")
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
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        engine_unavailable("pyspark is not installed", "pip install -e '.[spark]' (and a Java 17 runtime)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        engine_unavailable("no Java runtime for Spark", "install a JDK 17 (apt-get install openjdk-17-jre)")
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("expsql-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "2g")
    )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # a JVM that does not start raises pyspark's or py4j's own errors
        engine_unavailable(f"Spark did not start: {error}", "check JAVA_HOME and the pyspark install")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def duckdb_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory DuckDB database."""
    import duckdb

    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()
