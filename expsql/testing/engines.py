"""Engines started for a test run: a throwaway PostgreSQL server, Spark sessions, a Spark Connect
server. The test suite, the benchmarks and a dialect author's own tests start them the same way.

Each one raises :class:`EngineUnavailable` (with the reason and how to enable it) when the machine
lacks it; the pytest plugin (:mod:`expsql.testing.pytest_plugin`) turns that into a skip, or into a
failure under ``CI=true``, where a missing engine must never pass by skipping.

- :class:`PostgresServer`: ``initdb`` and ``pg_ctl`` of ``pg_config --bindir`` in a temporary
  directory, on a free port, as an unprivileged user when run as root (PostgreSQL refuses root).
- :func:`spark_session`: pyspark in ``local[2]``, quiet, UTC.
- :class:`SparkConnectServer`: pyspark's own ``sbin/start-connect-server.sh`` with ``SPARK_HOME``
  the installed pyspark package, on a free port; clients reach it as ``sc://127.0.0.1:PORT``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

POSTGRES_USER = "postgres"
#: Users that may own the throwaway cluster when the tests run as root, in order of preference.
UNPRIVILEGED_USERS = ("nobody", "expsql-pg")


class EngineUnavailable(RuntimeError):
    """An engine this machine cannot start: ``reason`` and ``how_to_enable`` it."""

    def __init__(self, reason: str, how_to_enable: str) -> None:
        super().__init__(f"{reason} — {how_to_enable}")
        self.reason = reason
        self.how_to_enable = how_to_enable


def in_ci() -> bool:
    """``CI=true``: a missing engine is a failure, never a skip."""
    return os.environ.get("CI", "").strip().lower() == "true"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl`` (``pg_config --bindir``)."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise EngineUnavailable(
            "pg_config not found", "install the PostgreSQL 15 server (apt-get install postgresql-15)"
        )
    answer = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
    bindir = Path(answer.stdout.strip())
    if not (bindir / "initdb").exists() or not (bindir / "pg_ctl").exists():
        raise EngineUnavailable(
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

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="expsql-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
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
            command = " ".join(str(argument) for argument in arguments[:2])
            raise RuntimeError(f"{command} failed:\n{result.stdout}{result.stderr}{log}")

    def start(self) -> PostgresServer:
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
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _java() -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineUnavailable(
            "no Java runtime for Spark", "install a JDK 17 (apt-get install openjdk-17-jre)"
        )


def spark_session(app_name: str = "expsql-tests") -> SparkSession:
    """A Spark session in ``local[2]`` mode: two shuffle partitions, no UI, UTC, 2 GB driver."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            "pyspark is not installed", "pip install -e '.[spark]' (and a Java 17 runtime)"
        ) from None
    _java()
    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="expsql-spark-warehouse-"))
    )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # a JVM that does not start raises pyspark's or py4j's own errors
        raise EngineUnavailable(
            f"Spark did not start: {error}", "check JAVA_HOME and the pyspark install"
        ) from error
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkConnectServer:
    """pyspark's Spark Connect server (``sbin/start-connect-server.sh``) on a free port.

    ``SPARK_HOME`` is the installed pyspark package (its jars include the Connect server); the
    server runs ``local[2]`` in UTC and logs to a temporary directory, removed by :meth:`stop`.
    """

    def __init__(self, start_timeout: float = 120.0) -> None:
        try:
            import pyspark
        except ImportError:
            raise EngineUnavailable("pyspark is not installed", "pip install -e '.[spark]'") from None
        _java()
        self.home = Path(pyspark.__file__).resolve().parent
        self.script = self.home / "sbin" / "start-connect-server.sh"
        if not self.script.exists():
            raise EngineUnavailable(f"no {self.script}", "pyspark 3.4+ ships the Spark Connect server")
        self.root = Path(tempfile.mkdtemp(prefix="expsql-spark-connect-"))
        self.port = free_port()
        self.start_timeout = start_timeout
        self.environment = {
            **os.environ,
            "SPARK_HOME": str(self.home),
            "SPARK_LOG_DIR": str(self.root / "logs"),
            "SPARK_PID_DIR": str(self.root),
            "SPARK_IDENT_STRING": f"expsql-{self.port}",
        }

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def _logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:] for path in sorted((self.root / "logs").glob("*.out"))
        )

    def start(self) -> SparkConnectServer:
        arguments = [
            "bash", str(self.script),
            "--master", "local[2]",
            "--conf", f"spark.connect.grpc.binding.port={self.port}",
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf", "spark.sql.session.timeZone=UTC",
            "--conf", "spark.sql.shuffle.partitions=2",
            "--conf", "spark.ui.enabled=false",
            "--conf", f"spark.sql.warehouse.dir={self.root / 'warehouse'}",
            "--driver-memory", "1g",
        ]  # fmt: skip
        result = subprocess.run(arguments, env=self.environment, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"start-connect-server.sh failed: {result.stdout}{result.stderr}")
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.5)
        logs = self._logs()
        self.stop()
        raise RuntimeError(
            f"Spark Connect did not listen on {self.port} in {self.start_timeout:.0f} s:\n{logs}"
        )

    def stop(self) -> None:
        try:
            stop = self.home / "sbin" / "stop-connect-server.sh"
            subprocess.run(["bash", str(stop)], env=self.environment, capture_output=True, check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


#: The Python of the virtual environment holding fakesnow (``.ci/run`` creates it in the clone).
FAKESNOW_PYTHON_ENV = "EXPSQL_FAKESNOW_PYTHON"


class FakesnowServer:
    """fakesnow's Snowflake API server (``python -m fakesnow -s -p PORT``), from a virtual environment
    of its own: fakesnow pins sqlglot and duckdb versions expsql's environment cannot share.

    The Python is ``$EXPSQL_FAKESNOW_PYTHON``, else ``.venv-fakesnow/bin/python`` in the working
    directory or the clone; a client reaches it with ``host=127.0.0.1, port=PORT, protocol="http"``.
    """

    def __init__(self, python: Path | None = None, start_timeout: float = 60.0) -> None:
        self.python = python or self._python()
        self.port = free_port()
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix="expsql-fakesnow-", suffix=".log")[1])

    @staticmethod
    def _python() -> Path:
        configured = os.environ.get(FAKESNOW_PYTHON_ENV)
        candidates = [Path(configured)] if configured else []
        candidates += [
            root / ".venv-fakesnow" / "bin" / "python"
            for root in (Path.cwd(), Path(__file__).resolve().parents[2])
        ]
        for candidate in candidates:
            if candidate.exists():
                return candidate
        raise EngineUnavailable(
            "no fakesnow environment",
            "python3 -m venv .venv-fakesnow && .venv-fakesnow/bin/pip install 'fakesnow[server]' "
            f"'snowflake-connector-python<5' (or set {FAKESNOW_PYTHON_ENV}); .ci/run does this",
        )

    def start(self) -> FakesnowServer:
        command = [str(self.python), "-m", "fakesnow", "-s", "--host", "127.0.0.1", "-p", str(self.port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.2)
        output = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"fakesnow did not listen on {self.port}:\n{output}")

    @property
    def options(self) -> dict[str, object]:
        """The ``snowflake.connector.connect`` options that reach this server."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "protocol": "http",
            "user": "fake",
            "password": "snow",
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)
