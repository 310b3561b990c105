"""expsql as a service: an ep-stats compatible REST API (FastAPI + uvicorn).

- :mod:`.factory` — :class:`DaoFactory`: one Dao per request; the demo database by default
- :mod:`.app`     — :func:`create_app`: the app, its middleware and its error answers
- :mod:`.service` — the worker pool, timeouts, and queries cancelled in the warehouse
- :mod:`.auth`    — bearer tokens (401) and their OpenAPI scheme
- :mod:`.requests` — request ids, header limits (400, 431), one log line per request
- :mod:`.lifecycle` — uvicorn with a graceful shutdown on SIGTERM
- :mod:`.metrics` — Prometheus metrics of one app, served at ``/metrics``
- :mod:`.limits`  — the request body limit (413)
- :mod:`.routes`  — ``/evaluate``, ``/compile``, ``/sample-size-calculation``, ``/health``, ``/dialects``,
  ``/metrics``
- :mod:`.catalog` — catalog names in ``/evaluate`` and ``/compile`` bodies, ``/catalog/metrics``
- :mod:`.schemas` — request and response bodies in ep-stats' field names

:func:`serve` runs it::

    import expsql
    expsql.serve(dao_factory=MyDaoFactory(), host="0.0.0.0", port=8080)
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from expsql.server.factory import ConnectorDaoFactory, DaoFactory, DemoDaoFactory, load_factory

if TYPE_CHECKING:
    from fastapi import FastAPI

    from expsql.catalog import Catalog
    from expsql.config import Config


def create_app(
    dao_factory: DaoFactory | Sequence[DaoFactory] | None = None,
    *,
    config: Config | None = None,
    catalog: Catalog | None = None,
) -> FastAPI:
    """The REST app (see :func:`expsql.server.app.create_app`)."""
    from expsql.server.app import create_app as build

    return build(dao_factory, config=config, catalog=catalog)


def serve(
    dao_factory: DaoFactory | Sequence[DaoFactory] | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    config: Config | str | Path | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    tokens_env: str | None = None,
    log_level: str = "info",
    catalog: Catalog | None = None,
) -> None:
    """Serve the REST API until interrupted.

    :param dao_factory: the integrator's factory (or one per dialect); ``None`` takes the one the
        config's ``[server]`` table names, else the embedded demo database.
    :param host: interface to listen on (config ``[server] host``, default ``127.0.0.1``).
    :param port: TCP port (config ``[server] port``, default 8080).
    :param config: a :class:`~expsql.config.Config` or the path of an ``expsql.toml``.
    :param workers: evaluations running at once (the worker pool's size).
    :param timeout: seconds an evaluation may take before the answer is a 504.
    :param tokens_env: environment variable holding the bearer tokens (config ``[server] tokens_env``).
    :param catalog: the metric catalog bodies may name metrics from (config ``[catalog] metrics``).
    """
    import uvicorn

    from expsql.config import Config, load_config
    from expsql.server.app import create_app as build
    from expsql.server.auth import exposure_warning
    from expsql.server.lifecycle import configure_logging, run_server

    settings = config if isinstance(config, Config) else load_config(config)
    changes = {"host": host, "port": port, "workers": workers, "timeout": timeout, "tokens_env": tokens_env}
    server = settings.server.model_copy(update={k: v for k, v in changes.items() if v is not None})
    settings = settings.model_copy(update={"server": server})
    app = build(dao_factory, config=settings, catalog=catalog)
    warning = exposure_warning(server.host, server.tokens_env)
    if warning is not None:
        print(warning, file=sys.stderr)
    # This process is ours: degenerate-input warnings reach clients in the results, not the log.
    from expsql.stats import DegenerateInputWarning

    warnings.filterwarnings("ignore", category=DegenerateInputWarning)
    configure_logging(log_level, server.log_format)
    # One process: the worker pool lives in it; scale out with more processes behind a proxy. The
    # request log line replaces uvicorn's access log (it has the request id and no query string).
    uvicorn_config = uvicorn.Config(
        app, host=server.host, port=server.port, log_level=log_level, timeout_keep_alive=5, access_log=False
    )
    run_server(app.state.service, uvicorn_config)


__all__ = ["ConnectorDaoFactory", "DaoFactory", "DemoDaoFactory", "create_app", "load_factory", "serve"]
