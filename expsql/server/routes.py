"""The endpoints. Each one reads the app's :class:`~.app.Service` from ``request.app.state``."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from expsql.config import ServerSettings
from expsql.errors import ExperimentError, ExpsqlError
from expsql.models import Experiment
from expsql.report.epstats import epstats_result, finite_or_none, segment_results
from expsql.server.catalog import CatalogNamesRoute
from expsql.server.factory import DaoFactory, source_of
from expsql.server.requests import record_of
from expsql.server.schemas import (
    CompileRequest,
    CompileResponse,
    DialectInfo,
    ErrorBody,
    EvaluateRequest,
    Health,
    Result,
    RowsContract,
    SampleSizeRequest,
    SampleSizeResponse,
)
from expsql.timeline_days import check_timeline
from expsql.version import __version__

if TYPE_CHECKING:
    from starlette.types import Receive

    from expsql.incremental import Refresh, StateOptions
    from expsql.server.metrics import Metrics
    from expsql.server.service import RunningQuery, Service

log = logging.getLogger("expsql.server")
#: /evaluate and /compile bodies may name catalog metrics, resolved before they are validated.
router = APIRouter(route_class=CatalogNamesRoute)

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "Invalid input: an expression (with its position), a dialect"},
}
EVALUATION_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {
        "model": ErrorBody,
        "description": 'Another refresh of the experiment ("incremental": true) is running; retry later',
    },
    500: {"model": ErrorBody, "description": "An unexpected failure (no stack trace is sent)"},
    503: {
        "model": ErrorBody,
        "description": "The warehouse cannot be reached or refused the query, or the server is shutting down",
    },
    504: {"model": ErrorBody, "description": "The evaluation exceeded the server's timeout"},
}


def _service(request: Request) -> Service:
    return request.app.state.service


def _request_id(request: Request) -> str:
    record = record_of(request.scope)
    return record.request_id if record is not None else "-"


@router.get("/health", response_model=Health, tags=["service"])
def health(request: Request) -> Health:
    """Whether the service is up, and which dialects it evaluates on."""
    return Health(
        message="expsql is ready", version=__version__, dialects=sorted(_service(request).factories)
    )


@router.get("/dialects", response_model=list[DialectInfo], tags=["service"])
def list_dialects(request: Request) -> list[DialectInfo]:
    """Every registered dialect: where it comes from, whether it can run queries, whether it is served."""
    from expsql.dialects.registry import default_registry

    service = _service(request)
    registry = default_registry()

    def info(name: str) -> DialectInfo:
        dialect = registry.get(name)
        return DialectInfo(
            name=name,
            description=dialect.description,
            origin=registry.origin(name),
            connector=dialect.connector is not None,
            installed=dialect.connector_installed(),
            served=name in service.factories,
            default=name == service.default_dialect,
            percentile=dialect.percentile,
            cancel=dialect.can_cancel,
            max_query_bytes=dialect.max_query_bytes,
            incremental=dialect.incremental,
        )

    return [info(name) for name in registry.available()]


def check_size(experiment: Experiment, settings: ServerSettings) -> None:
    """Refuse (422) more metrics, checks or breakdown segments than ``[server] max_metrics`` /
    ``max_checks`` / ``max_segments`` allow."""
    for kind, items, limit in (
        ("metrics", experiment.metrics, settings.max_metrics),
        ("checks", experiment.checks, settings.max_checks),
    ):
        if len(items) > limit:
            raise ExperimentError(
                f"the experiment has {len(items)} {kind}; this server evaluates at most {limit} "
                f"per request ([server] max_{kind})"
            )
    segments = len(experiment.breakdown) * (experiment.breakdown_top + 1)
    if segments > settings.max_segments:
        raise ExperimentError(
            f"the breakdown evaluates up to {segments} segments ({len(experiment.breakdown)} "
            f"dimension(s) × (breakdown_top {experiment.breakdown_top} + '(other)')); this server "
            f"evaluates at most {settings.max_segments} per request ([server] max_segments): lower "
            "breakdown_top or break down by fewer dimensions"
        )


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    """The app's Prometheus metrics in the text exposition format (for a scraper, not the API docs)."""
    registry = _service(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _evaluate(
    factory: DaoFactory,
    experiment: EvaluateRequest,
    rows: RowsContract,
    metrics: Metrics,
    query: RunningQuery,
    results_schema: str | None = None,
    state: StateOptions | None = None,
) -> dict[str, Any]:
    """The pipeline of one request, run in the worker pool: factory → Dao → SQL → rows → statistics.

    The Dao is attached to ``query`` while the query runs, so that the event loop can cancel it.
    With ``state``, the rows come from an incremental refresh of the experiment's state there.
    """
    import datetime as dt

    from expsql.runner import Run, open_dao, run

    dao = open_dao(factory.get_dao, factory.dialect)
    written: dict[str, Any] = {}
    try:
        query.attach(dao)
        started = dt.datetime.now(dt.UTC)
        outcome: Run
        if state is None:
            outcome = run(
                experiment, dao, dialect=factory.dialect, rows=rows, source=source_of(factory), close=False
            )
        else:
            from expsql.incremental import refresh

            refreshed = refresh(
                experiment,
                dao,
                dialect=factory.dialect,
                state=state,
                source=source_of(factory),
                rows=rows,
                full_refresh=experiment.full_refresh,
                close=False,
            )
            outcome = refreshed.run
            written["refresh"] = refresh_info(refreshed)
        if results_schema is not None:
            from expsql.dialects import get
            from expsql.results import write_results

            written["run_id"] = write_results(
                outcome.evaluation,
                dao,
                get(factory.dialect),
                results_schema,
                rows=rows,
                started=started,
                experiment=experiment,
            )
    finally:
        query.detach()
        dao.close()
    metrics.query_seconds.observe(outcome.query_seconds)
    metrics.stats_seconds.observe(outcome.stats_seconds)
    return (
        epstats_result(experiment, outcome.evaluation)
        | segment_results(experiment, outcome.evaluation)
        | written
    )


def refresh_info(refreshed: Refresh) -> dict[str, Any]:
    """The response's ``refresh``: what an incremental refresh did."""
    record = refreshed.record
    return {
        "incremental": refreshed.incremental,
        "reason": refreshed.reason,
        "state_version": None if record is None else record.state_version,
        "settled_until": None if record is None else record.settled_until,
        "summary": refreshed.summary(),
    }


def state_of(body: EvaluateRequest, settings: ServerSettings) -> StateOptions | None:
    """Where ``"incremental": true`` keeps the state (``None``: a full run).

    :raises IncrementalError: incremental, and the server has no state schema.
    """
    if body.full_refresh and not body.incremental:
        raise ExperimentError('full_refresh applies to an incremental refresh only: add "incremental": true')
    if not body.incremental:
        return None
    from expsql.incremental import LATE_ARRIVAL_HOURS, IncrementalError, StateOptions

    if settings.state_schema is None:
        raise IncrementalError(
            '"incremental": true needs a state schema on the server, where each experiment\'s state '
            "is kept ([state] schema in expsql.toml, or [server] state_schema)"
        )
    hours = LATE_ARRIVAL_HOURS if settings.late_arrival_hours is None else settings.late_arrival_hours
    return StateOptions(settings.state_schema, late_arrival_hours=hours)


def disconnect_of(receive: Receive) -> Callable[[], Awaitable[None]]:
    """Waits until the client disconnects (the body is read: the next message is the disconnect)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    return disconnected


@router.post(
    "/evaluate",
    response_model=Result,
    response_model_exclude_unset=True,  # no "breakdowns" or "timeline" key unless asked for: ep-stats' shape
    responses=EVALUATION_ERRORS,
    tags=["ep-stats"],
)
async def evaluate(body: EvaluateRequest, request: Request) -> Any:
    """Evaluate an experiment on the served warehouse: ep-stats' ``Experiment`` in, ``Result`` out."""
    from expsql.runner import choose_rows

    service = _service(request)
    record = record_of(request.scope)
    if record is not None:  # what the request's log line says about it (never its expressions)
        record.dialect = body.dialect or service.default_dialect
        record.metrics = len(body.metrics)
    factory = service.factory_for(body.dialect)
    rows = choose_rows(body, body.rows, service.settings.rows)
    if record is not None:
        record.rows = rows
    check_size(body, service.settings)
    check_timeline(body, rows)  # before any SQL: a timeline without a window, too long, other rows
    limit = service.settings.max_window_days
    if body.date_from and body.date_to and (body.date_to - body.date_from).days + 1 > limit:
        days = (body.date_to - body.date_from).days + 1
        raise ExperimentError(f"the date window spans {days} days; this server evaluates at most {limit}")
    results_schema = service.settings.results_schema if body.write_results else None
    if body.write_results and results_schema is None:
        raise ExperimentError("write_results needs a results schema on the server ([results] schema)")
    state = state_of(body, service.settings)
    if state is not None:
        from expsql.dialects import get
        from expsql.incremental.refresh import check_dialect

        check_dialect(get(factory.dialect))  # before the worker pool: a warehouse without a state
    try:
        return await service.submit(
            lambda query: _evaluate(factory, body, rows, service.metrics, query, results_schema, state),
            disconnected=disconnect_of(request.receive),
        )
    except ExpsqlError:
        raise
    except ValueError as error:  # the statistics refuse this experiment's parameters
        # The log names the request, not the experiment: its id and values are the SQL's literals.
        log.warning("evaluation refused (request %s): %s", _request_id(request), type(error).__name__)
        return JSONResponse(
            {"detail": f"cannot evaluate experiment {body.id!r}: {error}", "error": "value"}, status_code=422
        )
    except Exception as error:  # a bug, not bad input: log it here, send no stack trace
        log.exception("evaluation failed (request %s)", _request_id(request))
        return JSONResponse(
            {"detail": f"cannot evaluate experiment {body.id!r}: internal error ({type(error).__name__})"},
            status_code=500,
        )


@router.post("/compile", response_model=CompileResponse, responses=ERRORS, tags=["compile"])
def compile_experiment(body: CompileRequest, request: Request) -> CompileResponse:
    """The SQL the experiment compiles to, for one dialect or for every registered one."""
    from expsql import dialects
    from expsql.compiler import compile_statements
    from expsql.runner import choose_rows, script

    record = record_of(request.scope)
    if record is not None:
        record.dialect, record.metrics = body.dialect or "all", len(body.metrics)
    check_size(body, _service(request).settings)
    rows = choose_rows(body, body.rows, "goals")
    if record is not None:
        record.rows = rows
    names = [body.dialect] if body.dialect else dialects.available()
    for name in names:
        dialects.get(name)
    sql: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in names:
        try:
            sql[name] = script(compile_statements(body, dialect=name, rows=rows, source=body.source))
        except ExpsqlError:
            raise
        except Exception as error:  # sqlglot refusing a construct for one dialect
            if body.dialect:
                raise ExpsqlError(f"cannot compile for {name}: {error}") from error
            errors[name] = f"{type(error).__name__}: {error}"
    return CompileResponse(experiment_id=body.id, rows=rows, sql=sql, errors=errors)


@router.post(
    "/sample-size-calculation", response_model=SampleSizeResponse, responses=ERRORS, tags=["ep-stats"]
)
def sample_size_calculation(body: SampleSizeRequest) -> Any:
    """Units per variant to detect a relative ``minimum_effect`` with ``power`` (as ep-stats computes);
    with CUPED's ``variance_reduction`` (or ``rho``) the variances shrink by that share."""
    from expsql.stats import sample_size

    try:
        size = sample_size(
            n_variants=body.n_variants,
            minimum_effect=body.minimum_effect,
            mean=body.mean,
            std=body.std,
            confidence_level=body.confidence_level,
            power=body.power,
            variance_reduction=body.variance_reduction,
            rho=body.rho,
            sequential=body.sequential,
            sequential_tuning=body.sequential_tuning,
        )
    except ValueError as error:
        return JSONResponse({"detail": str(error), "error": "value"}, status_code=422)
    except OverflowError:  # std or mean so large that the size is beyond any float: no finite answer
        size = math.inf
    return SampleSizeResponse(sample_size_per_variant=finite_or_none(size))
