"""Prometheus metrics of one app: what it answered, how long evaluations took, how busy its pool is.

Every app owns its :class:`~prometheus_client.CollectorRegistry` (not the process-wide default), so
several apps in one process — the tests build many — count apart. ``GET /metrics`` serves it in
the text exposition format. Labels stay few and bounded: the route's path template (never the raw
URL), a known HTTP method, the status code, and an error type from a fixed list.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from expsql.version import __version__

#: Seconds: from a cached DuckDB answer (milliseconds) to the default 60 s timeout and beyond.
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The endpoint label of a path no route serves (a scanner's guesses must not add label values).
UNMATCHED: Final = "unmatched"
EVALUATE: Final = "/evaluate"


def error_type(status: int) -> str | None:
    """The kind of error a status code answers (``None`` for a success)."""
    if status < 400:
        return None
    known = {
        400: "bad_request",
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        408: "body_timeout",
        409: "refresh_busy",
        413: "too_large",
        422: "validation",
        431: "headers_too_large",
        499: "client_closed",
        500: "internal",
        503: "warehouse",
        504: "timeout",
    }
    return known.get(status, "client" if status < 500 else "server")


@dataclass(frozen=True)
class Metrics:
    """The app's instruments, all registered in :attr:`registry`."""

    registry: CollectorRegistry
    requests: Counter
    request_seconds: Histogram
    errors: Counter
    evaluations: Counter
    evaluation_seconds: Histogram
    query_seconds: Histogram
    stats_seconds: Histogram
    in_progress: Gauge
    pool_workers: Gauge
    pool_busy: Gauge
    pool_queued: Gauge
    cancelled_queries: Counter
    cancel_seconds: Histogram

    @classmethod
    def create(cls, workers: int) -> Metrics:
        registry = CollectorRegistry(auto_describe=True)
        Info("expsql_build", "The expsql version serving.", registry=registry).info({"version": __version__})
        pool_workers = Gauge("expsql_pool_workers", "Size of the evaluation worker pool.", registry=registry)
        pool_workers.set(workers)
        return cls(
            registry=registry,
            requests=Counter(
                "expsql_http_requests",
                "HTTP requests answered, by route, method and status code.",
                ("endpoint", "method", "status"),
                registry=registry,
            ),
            request_seconds=Histogram(
                "expsql_http_request_duration_seconds",
                "Time from a request's arrival to the end of its answer, by route.",
                ("endpoint",),
                buckets=BUCKETS,
                registry=registry,
            ),
            errors=Counter(
                "expsql_http_errors",
                "Error answers by route and type (validation, too_large, timeout, warehouse, internal...).",
                ("endpoint", "type"),
                registry=registry,
            ),
            evaluations=Counter(
                "expsql_evaluations",
                "Answers of /evaluate: success or the error type.",
                ("outcome",),
                registry=registry,
            ),
            evaluation_seconds=Histogram(
                "expsql_evaluation_duration_seconds",
                "Time an evaluation worked in the pool: connect, compile, query, statistics, result.",
                buckets=BUCKETS,
                registry=registry,
            ),
            query_seconds=Histogram(
                "expsql_query_duration_seconds",
                "Time the warehouse took to answer an evaluation's query.",
                buckets=BUCKETS,
                registry=registry,
            ),
            stats_seconds=Histogram(
                "expsql_stats_duration_seconds",
                "Time the statistics took on the query's rows.",
                buckets=BUCKETS,
                registry=registry,
            ),
            in_progress=Gauge(
                "expsql_evaluations_in_progress",
                "/evaluate requests waiting for their evaluation (queued or running).",
                registry=registry,
            ),
            pool_workers=pool_workers,
            pool_busy=Gauge(
                "expsql_pool_busy_workers",
                "Pool threads running an evaluation (one whose request timed out still counts).",
                registry=registry,
            ),
            pool_queued=Gauge(
                "expsql_pool_queued_evaluations",
                "Evaluations submitted to the pool and not started: all workers are busy.",
                registry=registry,
            ),
            cancelled_queries=Counter(
                "expsql_cancelled_queries",
                "Queries cancelled in the warehouse, by reason (timeout, disconnect, shutdown), once the "
                "worker running them was free again.",
                ("reason",),
                registry=registry,
            ),
            cancel_seconds=Histogram(
                "expsql_cancel_duration_seconds",
                "Time from a query's first cancel to its worker being free again.",
                buckets=BUCKETS,
                registry=registry,
            ),
        )

    def observe_request(
        self, endpoint: str, method: str, status: int, seconds: float, error: str | None = None
    ) -> None:
        """Count one answer; ``error`` names a refusal its status alone does not tell (``missing_token``)."""
        self.requests.labels(endpoint, method if method in METHODS else "other", str(status)).inc()
        self.request_seconds.labels(endpoint).observe(seconds)
        kind = error or error_type(status)
        if kind is not None:
            self.errors.labels(endpoint, kind).inc()
        if endpoint == EVALUATE and method == "POST":
            self.evaluations.labels(kind or "success").inc()


def endpoint_of(scope: Scope, paths: frozenset[str]) -> str:
    """The path template of the route that served ``scope`` (``/evaluate``), else :data:`UNMATCHED`.

    The router leaves the route in the scope; an answer sent before routing (a 413) falls back to
    the raw path when it is one of the app's ``paths`` (every route is a fixed path).
    """
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        return route
    path = scope.get("path", "")
    return path if path in paths else UNMATCHED


class MetricsMiddleware:
    """Counts every HTTP answer, including those middleware inside it send (a 413) and crashes (500)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, paths: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: int | None = None

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, recording_send)
        finally:
            # An exception with no answer sent becomes the 500 of the app's outermost handler.
            record = scope.get("expsql.request")  # the RequestRecord inner middleware fill in
            self.metrics.observe_request(
                endpoint_of(scope, self.paths),
                scope["method"],
                status if status is not None else 500,
                time.perf_counter() - started,
                getattr(record, "error", None),
            )
