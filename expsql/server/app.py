"""The REST service: ep-stats' ``/evaluate`` and ``/sample-size-calculation``, plus compile and dialects.

:func:`create_app` builds a FastAPI app around one or more :class:`~.factory.DaoFactory`
objects. An evaluation runs off the event loop in a thread pool created once per app (its
lifespan), bounded by ``workers`` and by a per-request ``timeout`` (504; the query is cancelled in
the warehouse, see :mod:`.service`). Bad input is a 422 with a body that says what is wrong (an
expression error carries its position and caret); a body over ``max_body_bytes`` is a 413 before
it is parsed; an unreachable warehouse is a 503; nothing a client sends yields a stack trace.

Middleware, outermost first: the metrics count every answer; the request context ids and logs
each request and refuses bad ids and oversized headers; with ``tokens_env`` the token check runs
before any body is read; then the body limit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from expsql.catalog import Catalog, load_catalog
from expsql.config import Config, ConfigError, ServerSettings
from expsql.errors import ConnectorError, ExpressionError, ExpsqlError
from expsql.references import UnknownNameError
from expsql.report.epstats import json_safe
from expsql.server import catalog as catalog_routes
from expsql.server import routes
from expsql.server.auth import TokenAuthMiddleware, declare_bearer_scheme, load_tokens, public_paths
from expsql.server.factory import DaoFactory, DemoDaoFactory, check_factory, factory_from_config
from expsql.server.limits import BodyLimitMiddleware
from expsql.server.metrics import Metrics, MetricsMiddleware
from expsql.server.requests import RequestContextMiddleware, record_of
from expsql.server.service import ClientGone, EvaluationTimeout, NotServedError, Service, ShuttingDown
from expsql.version import __version__

log = logging.getLogger("expsql.server")


def _as_factories(dao_factory: DaoFactory | Sequence[DaoFactory] | None, config: Config) -> list[DaoFactory]:
    if dao_factory is None:
        return [factory_from_config(config)]
    candidates = [dao_factory] if hasattr(dao_factory, "get_dao") else list(dao_factory)
    if not candidates:
        raise ConfigError("no DaoFactory given")
    factories = [check_factory(candidate) for candidate in candidates]
    names = [factory.dialect for factory in factories]
    if len(set(names)) != len(names):
        raise ConfigError(f"two DaoFactory objects serve one dialect: {', '.join(names)}")
    return factories


def _catalog(catalog: Catalog | None, config: Config, factories: list[DaoFactory]) -> Catalog | None:
    """The catalog given, else the one ``[catalog] metrics`` names, else the demo's on the demo database."""
    if catalog is not None:
        return catalog
    path = config.relative(config.catalog.metrics)
    if path is not None:
        return load_catalog(path)
    if any(isinstance(factory, DemoDaoFactory) for factory in factories):
        from expsql.demo import demo_catalog

        return demo_catalog()
    return None


def create_app(
    dao_factory: DaoFactory | Sequence[DaoFactory] | None = None,
    *,
    config: Config | None = None,
    settings: ServerSettings | None = None,
    catalog: Catalog | None = None,
) -> FastAPI:
    """The REST app over ``dao_factory`` (several: one per dialect, the first is the default).

    Without a factory, the one ``config``'s ``[server]`` table describes, else the demo database.
    Bodies may name the metrics of ``catalog``, else of the one ``config``'s ``[catalog] metrics``
    names, else (on the demo database) of the demo's catalog.
    """
    config = config or Config()
    settings = settings or config.server
    if settings.results_schema is None and config.results.schema_ is not None:
        settings = settings.model_copy(update={"results_schema": config.results.schema_})
    if settings.state_schema is None and config.state.schema_ is not None:
        settings = settings.model_copy(update={"state_schema": config.state.schema_})
    if settings.late_arrival_hours is None:
        settings = settings.model_copy(update={"late_arrival_hours": config.state.late_arrival_hours})
    tokens = load_tokens(settings.tokens_env)  # before anything else: a server never starts open by mistake
    factories = _as_factories(dao_factory, config)
    service = Service(
        factories={factory.dialect: factory for factory in factories},
        default_dialect=factories[0].dialect,
        settings=settings,
        metrics=Metrics.create(settings.workers),
        catalog=_catalog(catalog, config, factories),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            await service.finish()

    app = FastAPI(
        title="expsql",
        version=__version__,
        description=(
            "Evaluate A/B tests where the data lives. `/evaluate` accepts ep-stats' `Experiment` body "
            "and answers with ep-stats' `Result` (NaN and infinities as null)."
        ),
        lifespan=lifespan,
    )
    app.state.service = service
    _install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(catalog_routes.router)
    # The last added runs first: the metrics count every refusal of the middleware inside them; the
    # request context ids and logs them all; no body is read before the token is checked.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    if tokens:
        public = public_paths(settings.public_metrics)
        app.add_middleware(TokenAuthMiddleware, tokens=tokens, public=public)
        declare_bearer_scheme(app, public)
    paths = {getattr(route, "path", None) for route in (*app.router.routes, *routes.router.routes)}
    known = frozenset(path for path in paths if isinstance(path, str))
    app.add_middleware(
        RequestContextMiddleware,
        paths=known,
        max_header_bytes=settings.max_header_bytes,
        log_format=settings.log_format,
    )
    app.add_middleware(MetricsMiddleware, metrics=service.metrics, paths=known)
    return app


def _error(status: int, detail: Any, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(json_safe({"detail": detail, **extra}), status_code=status, headers=headers)


def expression_response(error: ExpressionError) -> JSONResponse:
    return _error(422, str(error), error="expression", expression=error.to_dict())


def _install_error_handlers(app: FastAPI) -> None:
    from expsql.dialects import UnknownDialectError
    from expsql.incremental import RefreshBusy

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        for problem in problems:
            cause = (problem.get("ctx") or {}).get("error")
            if isinstance(cause, ExpressionError):
                return expression_response(cause)
        return _error(422, [_plain_problem(problem) for problem in problems], error="validation")

    @app.exception_handler(ExpressionError)
    async def invalid_expression(request: Request, error: ExpressionError) -> JSONResponse:
        return expression_response(error)

    @app.exception_handler(UnknownDialectError)
    async def unknown_dialect(request: Request, error: UnknownDialectError) -> JSONResponse:
        return _error(422, str(error), error="unknown_dialect", available=list(error.available))

    @app.exception_handler(NotServedError)
    async def not_served(request: Request, error: NotServedError) -> JSONResponse:
        return _error(422, str(error), error="dialect_not_served", available=list(error.served))

    @app.exception_handler(UnknownNameError)
    async def unknown_name(request: Request, error: UnknownNameError) -> JSONResponse:
        return _error(422, str(error), error="unknown_catalog_name", name=error.name, closest=error.closest)

    @app.exception_handler(catalog_routes.NoCatalog)
    async def no_catalog(request: Request, error: catalog_routes.NoCatalog) -> JSONResponse:
        return _error(404, str(error), error="no_catalog")

    @app.exception_handler(RefreshBusy)
    async def refresh_busy(request: Request, error: RefreshBusy) -> JSONResponse:
        # Another refresh of the experiment holds its lock: the same request succeeds once it is done.
        _note_error(request, "refresh_busy")
        return _error(409, str(error), error="refresh_busy")

    @app.exception_handler(ConnectorError)
    async def unreachable(request: Request, error: ConnectorError) -> JSONResponse:
        return _error(503, str(error), error="warehouse")

    @app.exception_handler(EvaluationTimeout)
    async def timeout(request: Request, error: EvaluationTimeout) -> JSONResponse:
        return _error(504, str(error), error="timeout")

    @app.exception_handler(ShuttingDown)
    async def shutting_down(request: Request, error: ShuttingDown) -> JSONResponse:
        _note_error(request, "shutting_down")
        return _error(503, str(error), {"Retry-After": "1", "Connection": "close"}, error="shutting_down")

    @app.exception_handler(ClientGone)
    async def client_gone(request: Request, error: ClientGone) -> JSONResponse:
        # Nobody reads it: the status is for the log and the metrics (nginx's "client closed request").
        _note_error(request, "client_closed")
        return _error(499, str(error), error="client_closed")

    @app.exception_handler(ExpsqlError)
    async def invalid(request: Request, error: ExpsqlError) -> JSONResponse:
        # Experiments, rows and dialects the request named: the client can fix them.
        return _error(422, str(error), error=type(error).__name__)

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception) -> JSONResponse:
        # A bug: the log gets the traceback, the client a JSON body without one.
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return _error(500, f"internal error ({type(error).__name__})", error="internal")


def _note_error(request: Request, error: str) -> None:
    record = record_of(request.scope)
    if record is not None:
        record.error = error


def _plain_problem(problem: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error as plain JSON (its ``ctx`` may hold exception objects)."""
    plain: dict[str, Any] = {key: problem[key] for key in ("type", "loc", "msg") if key in problem}
    if problem.get("ctx"):
        plain["ctx"] = {key: str(value) for key, value in problem["ctx"].items()}
    return plain
