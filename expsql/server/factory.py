"""DaoFactory: how the REST service reaches a warehouse, one Dao per request.

This is the seam ep-stats' integration guide describes: an integrator implements a factory whose
``get_dao()`` opens a connection to their warehouse, and the service asks it for a fresh Dao for
every request. An expsql factory also says which dialect its warehouse speaks (the service
compiles for it) and, optionally, where the events live (a :class:`~expsql.source.Source`).

Plug one in with ``expsql.serve(dao_factory=...)`` or ``dao_factory = "module:callable"`` in
``expsql.toml``. Without one, :class:`DemoDaoFactory` serves the embedded DuckDB demo database.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from expsql.config import Config, ConfigError
from expsql.dialects import Dao
from expsql.source import AnySource, DimensionType, ExposuresSource, Source, load_source


@runtime_checkable
class DaoFactory(Protocol):
    """Creates a :class:`~expsql.dialects.Dao` for every request.

    :attr dialect: registry name of the dialect the Daos' warehouse speaks (``postgres``).
    """

    dialect: str

    def get_dao(self) -> Dao:
        """A new connection; the service closes it when the request is done."""
        ...


def source_of(factory: DaoFactory) -> AnySource:
    """The tables a factory's warehouse holds (the default layout unless it says otherwise)."""
    source = getattr(factory, "source", None)
    return source if isinstance(source, (Source, ExposuresSource)) else Source()


class ConnectorDaoFactory:
    """Opens the dialect's own connector on ``target`` with ``options`` for every request."""

    def __init__(
        self,
        dialect: str,
        target: str | None,
        options: dict[str, Any] | None = None,
        source: AnySource | None = None,
    ) -> None:
        from expsql import dialects

        dialects.get(dialect)  # an unknown name fails now, at startup, not on the first request
        self.dialect = dialect
        self.target = target
        self.options = dict(options or {})
        self.source: AnySource = source or Source()

    def get_dao(self) -> Dao:
        from expsql import dialects

        return dialects.get(self.dialect).connect(self.target, **self.options)

    def __repr__(self) -> str:
        # Options may hold secrets: name the target only.
        return f"ConnectorDaoFactory({self.dialect!r}, {self.target!r})"


#: Users in the demo database: enough that variant b's planted +12 % conversion lift stands out from
#: the noise (with the sample generator's default of 40,000 it often does not).
DEMO_UNITS = 100_000


#: The declared dimension columns of the demo's events table (the attributed layout).
DEMO_DIMENSIONS: dict[str, DimensionType] = {"product": "string", "element": "string", "platform": "string"}


class DemoDaoFactory:
    """The embedded DuckDB demo database, generated on first use into a temporary directory."""

    dialect = "duckdb"

    def __init__(self, path: str | Path | None = None, *, units: int = DEMO_UNITS) -> None:
        self._given_path = Path(path) if path is not None else None
        self._units = units
        self._path: Path | None = None
        self._temporary: Path | None = None
        self._lock = threading.Lock()
        #: The demo's events, with ``platform`` on the exposure events (what a breakdown reads).
        self.source = Source(dimensions=DEMO_DIMENSIONS)

    @property
    def path(self) -> Path:
        """The database file, written by the first caller (others wait for it)."""
        with self._lock:
            if self._path is None:
                from expsql.demo import write_demo_database

                if self._given_path is not None and self._given_path.exists():
                    self._path = self._given_path
                else:
                    if self._given_path is None:
                        self._temporary = Path(tempfile.mkdtemp(prefix="expsql-demo-"))
                    target = self._given_path or self._temporary / "demo.duckdb"  # type: ignore[operator]
                    self._path = write_demo_database(target, units=self._units)
            return self._path

    def get_dao(self) -> Dao:
        from expsql import dialects

        # Read-only connections to one file share one database instance inside the process.
        return dialects.get("duckdb").connect(str(self.path), read_only=True)

    def close(self) -> None:
        """Remove the generated database if it lives in a temporary directory of ours."""
        with self._lock:
            if self._temporary is not None:
                shutil.rmtree(self._temporary, ignore_errors=True)
                self._temporary = None
                self._path = None


def load_factory(reference: str) -> DaoFactory:
    """The factory named ``module:attribute``: a factory object, or a callable returning one."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"dao_factory {reference!r} must look like 'package.module:callable'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"dao_factory {reference!r}: cannot import {module_name}: {error}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(f"dao_factory {reference!r}: {module_name} has no {attribute}") from None
    if not hasattr(target, "get_dao") and callable(target):
        target = target()
    return check_factory(target, origin=reference)


def check_factory(factory: object, *, origin: str = "dao_factory") -> DaoFactory:
    """``factory`` if it has ``get_dao()`` and a registered ``dialect``; a clear error otherwise."""
    from expsql import dialects

    if not callable(getattr(factory, "get_dao", None)):
        raise ConfigError(f"{origin}: {factory!r} has no get_dao() method")
    dialect = getattr(factory, "dialect", None)
    if not isinstance(dialect, str):
        raise ConfigError(f"{origin}: {factory!r} must say which dialect it speaks (a `dialect` attribute)")
    dialects.get(dialect)
    return factory  # type: ignore[return-value]


def factory_from_config(config: Config) -> DaoFactory:
    """The factory ``[server]`` describes: an integrator's, a connector's, or the demo database."""
    server = config.server
    if server.dao_factory:
        return load_factory(server.dao_factory)
    source_path = config.relative(server.source)
    source = load_source(source_path) if source_path else None
    if server.dialect:
        options = config.connector_options(server.dialect)
        return ConnectorDaoFactory(server.dialect, server.connect, options, source)
    if server.connect:
        raise ConfigError('[server] connect needs a dialect (e.g. dialect = "postgres")')
    return DemoDaoFactory()
