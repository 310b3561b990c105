"""``expsql.toml``: where to connect, the connectors' options and the REST server's settings.

Secrets never sit on the command line (where shell history keeps them) and need not sit in the
file either: an option whose key ends in ``_env`` names the environment variable that holds its
value (``password_env = "PGPASSWORD"`` becomes the option ``password``)::

    [run]                              # defaults for `expsql run`
    dialect = "postgres"
    connect = "host=warehouse.internal dbname=analytics user=expsql"
    rows = "metrics"
    source = "events.yaml"             # the events table mapping, relative to this file

    [catalog]                          # `expsql compile`, `run`, `evaluate`, `metrics` and `serve`
    metrics = "metrics.yaml"           # the metric catalog experiments name metrics from (relative)

    [results]                          # `expsql run` writes each evaluation back (expsql.results)
    schema = "experiments"             # ... into tables of this schema (--write-results overrides)

    [state]                            # incremental refresh (expsql.incremental, docs/incremental.md)
    schema = "expsql_state"            # where each experiment's state is kept (--state-schema overrides)
    late_arrival_hours = 48            # events this late after their timestamp still count exactly

    [connectors.postgres]              # keyword options of the postgres connector
    password_env = "PGPASSWORD"
    connect_timeout = 5

    [server]                           # `expsql serve`
    host = "127.0.0.1"
    port = 8080
    workers = 4                        # evaluations running at once
    timeout = 60                       # seconds per evaluation, then 504
    max_body_bytes = 1048576           # larger request bodies are a 413
    body_timeout = 30                  # seconds a request body may take to arrive; slower is a 408
    max_metrics = 200                  # metrics per request (more: 422); max_checks likewise
    max_header_bytes = 8192            # larger request headers (in total) are a 431
    tokens_env = "EXPSQL_TOKENS"       # require `Authorization: Bearer <token>`, tokens in this variable
    public_metrics = false             # true: /metrics needs no token
    shutdown_timeout = 30              # seconds evaluations in flight may finish after SIGTERM
    log_format = "text"                # one line per request: "text" (key=value) or "json"
    state_schema = "expsql_state"      # where "incremental": true keeps state (default: [state] schema)
    dialect = "postgres"               # serve this warehouse (options from [connectors.postgres]) ...
    connect = "host=warehouse.internal dbname=analytics user=expsql"
    # dao_factory = "mycompany.experiments:dao_factory"   # ... or an integrator's own factory

Without a ``[server]`` warehouse the server evaluates on the embedded DuckDB demo database.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from expsql.errors import ExpsqlError

CONFIG_FILE: Final = "expsql.toml"
#: Names a config file when ``--config`` is not given (before ``./expsql.toml``).
CONFIG_ENV: Final = "EXPSQL_CONFIG"
SECRET_SUFFIX: Final = "_env"

RowsContract = Literal["goals", "metrics", "units"]


class ConfigError(ExpsqlError):
    """A config file that cannot be read, or a secret whose environment variable is not set."""


class RunSettings(BaseModel):
    """Defaults for ``expsql run``; each one is overridden by its command-line option."""

    model_config = ConfigDict(extra="forbid")

    dialect: str | None = None
    connect: str | None = None
    rows: RowsContract = "metrics"
    source: Path | None = None


class CatalogSettings(BaseModel):
    """Where the metric catalog is (:mod:`expsql.catalog`); ``--metrics`` overrides it."""

    model_config = ConfigDict(extra="forbid")

    metrics: Path | None = None


class ResultsSettings(BaseModel):
    """Where ``expsql run`` (and ``"write_results": true`` over REST) writes each evaluation back."""

    model_config = ConfigDict(extra="forbid")

    schema_: str | None = Field(default=None, alias="schema", pattern=r"^[^.]+(\.[^.]+)?$")


#: Events arriving up to this many hours after their own timestamp are counted exactly by an
#: incremental refresh (the default of :data:`expsql.incremental.LATE_ARRIVAL_HOURS`).
LATE_ARRIVAL_HOURS: Final = 48.0


class StateSettings(BaseModel):
    """Where an incremental refresh keeps each experiment's state (:mod:`expsql.incremental`);
    ``--state-schema`` and ``--late-arrival-hours`` override it."""

    model_config = ConfigDict(extra="forbid")

    schema_: str | None = Field(default=None, alias="schema", pattern=r"^[^.]+(\.[^.]+)?$")
    late_arrival_hours: float = Field(default=LATE_ARRIVAL_HOURS, ge=0, allow_inf_nan=False)


class ServerSettings(BaseModel):
    """Settings of ``expsql serve``."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=4, ge=1, le=256)
    timeout: float = Field(default=60.0, gt=0)
    #: Longest date window accepted: sequential boundaries cost grows with the number of daily looks.
    max_window_days: int = Field(default=400, ge=1)
    #: Largest request body read; a bigger one is a 413 before parsing (1 MiB: thousands of metrics).
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: Seconds a request body may take to arrive in full; a slower one is a 408.
    body_timeout: float = Field(default=30.0, gt=0)
    #: Metrics and checks one request may hold: each adds columns to the one query and statistics to run.
    max_metrics: int = Field(default=200, ge=1)
    max_checks: int = Field(default=50, ge=1)
    #: Segments one request's breakdown may evaluate, counted before the query runs as each
    #: dimension's ``breakdown_top`` plus its ``(other)``: each is one more evaluation to run.
    max_segments: int = Field(default=100, ge=1)
    #: Largest total of a request's header names and values; more is a 431 (below uvicorn's own limit,
    #: which answers a bare 400 that the metrics never see).
    max_header_bytes: int = Field(default=8192, ge=1024)
    #: The environment variable holding the bearer tokens; ``None``: no authentication.
    tokens_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    public_metrics: bool = False
    #: Seconds evaluations in flight may take to finish after SIGTERM; then they are cancelled (503).
    shutdown_timeout: float = Field(default=30.0, ge=0)
    log_format: Literal["text", "json"] = "text"
    rows: RowsContract = "metrics"
    dialect: str | None = None
    connect: str | None = None
    source: Path | None = None
    dao_factory: str | None = Field(default=None, pattern=r"^[\w.]+:[\w.]+$")
    #: Where ``"write_results": true`` writes an evaluation back (:mod:`expsql.results`); ``None``:
    #: the ``[results]`` table's schema, and without one such a request is refused.
    results_schema: str | None = None
    #: Where ``"incremental": true`` keeps the state (:mod:`expsql.incremental`); ``None``: the
    #: ``[state]`` table's schema, and without one such a request is refused.
    state_schema: str | None = Field(default=None, pattern=r"^[^.]+(\.[^.]+)?$")
    #: The late-arrival margin of ``"incremental": true``; ``None``: the ``[state]`` table's.
    late_arrival_hours: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class Config(BaseModel):
    """The whole ``expsql.toml``; every table is optional."""

    model_config = ConfigDict(extra="forbid")

    run: RunSettings = Field(default_factory=RunSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    results: ResultsSettings = Field(default_factory=ResultsSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    connectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)

    def connector_options(self, dialect: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The keyword options for ``dialect``'s connector, secrets read from the environment."""
        return resolve_secrets(self.connectors.get(dialect, {}), environ, where=f"[connectors.{dialect}]")

    def relative(self, path: Path | None) -> Path | None:
        """``path`` as written in the file: relative to the file's directory."""
        if path is None or path.is_absolute() or self.path is None:
            return path
        return self.path.parent / path


def resolve_secrets(
    options: Mapping[str, Any], environ: Mapping[str, str] | None = None, *, where: str = "options"
) -> dict[str, Any]:
    """``options`` with every ``<key>_env = "VARIABLE"`` replaced by ``<key> = $VARIABLE``."""
    environ = os.environ if environ is None else environ
    resolved: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, Mapping):
            resolved[key] = resolve_secrets(value, environ, where=f"{where}.{key}")
        elif key.endswith(SECRET_SUFFIX) and len(key) > len(SECRET_SUFFIX):
            if not isinstance(value, str):
                raise ConfigError(f"{where}: {key} must name an environment variable")
            if value not in environ:
                raise ConfigError(f"{where}: {key} names ${value}, which is not set")
            resolved[key.removesuffix(SECRET_SUFFIX)] = environ[value]
        else:
            resolved[key] = value
    return resolved


def load_config(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """The config at ``path``, else at ``$EXPSQL_CONFIG``, else ``./expsql.toml``, else the defaults."""
    environ = os.environ if environ is None else environ
    if path is None:
        named = environ.get(CONFIG_ENV)
        path = Path(named) if named else Path(CONFIG_FILE)
        if not named and not path.exists():
            return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    try:
        return Config.model_validate({**data, "path": path})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}" for detail in error.errors()
        )
        raise ConfigError(f"config file {path}: {problems}") from None


_PASSWORD_OPTION = re.compile(r"(?:^|\s)password\s*=", re.IGNORECASE)


def reject_inline_password(target: str | None) -> None:
    """Refuse a connection target that carries a password: it would end up in shell history."""
    if not target:
        return
    has_password = False
    if "://" in target:
        try:
            has_password = urlsplit(target).password is not None
        except ValueError:
            has_password = False
        has_password = has_password or "password=" in target.lower()
    else:
        has_password = _PASSWORD_OPTION.search(target) is not None
    if has_password:
        raise ConfigError(
            "the connection target holds a password, which the shell history would keep: "
            "remove it and set the connector's environment variable (e.g. PGPASSWORD), "
            f'or name one in {CONFIG_FILE} ([connectors.<dialect>] password_env = "VARIABLE")'
        )
