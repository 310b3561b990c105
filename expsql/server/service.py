"""What the app's routes share, and how an evaluation is stopped in the warehouse.

An evaluation runs off the event loop, in a worker pool created once per app. Its request is
answered without waiting for it when it passes ``[server] timeout`` (504), when its client
disconnects, or when the server shuts down and ``[server] shutdown_timeout`` has passed (503).
Its query is then cancelled **in the warehouse** through the Dao's ``cancel()``, so the warehouse
stops working and billing and the worker is free for the next request. The cancel is repeated
until the worker is free: one sent while the Dao connects or the warehouse plans the query can
be lost. A Dao without ``cancel()`` keeps the old behaviour: its query runs to its end.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar

from expsql.catalog import Catalog
from expsql.config import ServerSettings
from expsql.dialects.base import canceller
from expsql.errors import DialectError, ExpsqlError
from expsql.server.factory import DaoFactory
from expsql.server.metrics import Metrics

log = logging.getLogger("expsql.server")
T = TypeVar("T")
StopReason = Literal["timeout", "disconnect", "shutdown"]
#: Seconds between two cancels of one query, and how many are sent before giving up on it.
CANCEL_RETRY_SECONDS: Final = 0.5
CANCEL_ATTEMPTS: Final = 40


class NotServedError(DialectError):
    """A registered dialect this server has no warehouse for."""

    def __init__(self, name: str, served: Sequence[str]) -> None:
        self.served = tuple(served)
        super().__init__(f"this server evaluates on {', '.join(served)}, not on {name!r}")


class EvaluationTimeout(ExpsqlError):
    """An evaluation that did not finish within the server's per-request timeout."""


class ShuttingDown(ExpsqlError):
    """An evaluation still running when the server's shutdown grace period ended."""


class ClientGone(ExpsqlError):
    """An evaluation whose client disconnected before its answer."""


class EvaluationStopped(ExpsqlError):
    """Raised in the worker when its evaluation was stopped before its query started."""


class RunningQuery:
    """The Dao one evaluation runs its query on, shared with the event loop so that it can cancel it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dao: object | None = None
        self.stopped = False

    def attach(self, dao: object) -> None:
        """Called by the worker before the query runs; raises if the evaluation was stopped already."""
        with self._lock:
            if self.stopped:
                raise EvaluationStopped("the evaluation was stopped before its query started")
            self._dao = dao

    def detach(self) -> None:
        """Called by the worker after the query, before closing the Dao: no cancel meets a closed Dao."""
        with self._lock:
            self._dao = None

    def cancel(self) -> Literal["sent", "unsupported", "no_query"]:
        """Stop the query in the warehouse: ``sent``, ``unsupported`` (a Dao without ``cancel()``) or
        ``no_query`` (none runs now; one about to start will not)."""
        with self._lock:
            self.stopped = True
            if self._dao is None:
                return "no_query"
            cancel = canceller(self._dao)
            if cancel is None:
                return "unsupported"
            try:
                cancel()
            except Exception as error:  # a warehouse that cannot be reached to cancel: try again
                log.warning("cancelling a query failed: %s", type(error).__name__)
            return "sent"


@dataclass
class Service:
    """What the app's routes share: the factories by dialect, the settings, the metrics, the worker pool."""

    factories: dict[str, DaoFactory]
    default_dialect: str
    settings: ServerSettings
    metrics: Metrics
    #: The metric catalog bodies may name metrics from (:mod:`expsql.server.catalog`); ``None``: none.
    catalog: Catalog | None = None
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Set when the shutdown grace period ends: every evaluation still waiting is stopped. One per
    #: event loop: a test client without its lifespan runs each request in a loop of its own.
    _shutdown: asyncio.Event | None = field(default=None, repr=False)
    _shutdown_loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _cancelling: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    def factory_for(self, dialect: str | None) -> DaoFactory:
        """The factory serving ``dialect`` (the default one for ``None``)."""
        from expsql import dialects

        if dialect is None:
            return self.factories[self.default_dialect]
        dialects.get(dialect)  # unknown names: 422 listing every registered dialect
        if dialect not in self.factories:
            raise NotServedError(dialect, sorted(self.factories))
        return self.factories[dialect]

    def _shutdown_event(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._shutdown is None or self._shutdown_loop is not loop:
            self._shutdown, self._shutdown_loop = asyncio.Event(), loop
        return self._shutdown

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker pool, created once (by the lifespan, or by the first request if it did not run)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.workers, thread_name_prefix="expsql-evaluation"
                )
            return self._pool

    async def submit(
        self,
        job: Callable[[RunningQuery], T],
        disconnected: Callable[[], Awaitable[None]] | None = None,
    ) -> T:
        """Run ``job`` in the pool and return its result, unless first the timeout passes
        (:class:`EvaluationTimeout`), ``disconnected`` returns (:class:`ClientGone`) or the shutdown
        grace period ends (:class:`ShuttingDown`); the job's query is then cancelled in the warehouse."""
        metrics = self.metrics
        query = RunningQuery()

        def timed() -> T:
            metrics.pool_queued.dec()
            started = time.perf_counter()
            try:
                with metrics.pool_busy.track_inprogress():
                    return job(query)
            finally:
                metrics.evaluation_seconds.observe(time.perf_counter() - started)

        # In progress before queued: /metrics may be scraped from another thread at any moment,
        # and a scraper that sees an evaluation queued must also see it in progress.
        metrics.in_progress.inc()
        metrics.pool_queued.inc()
        future = self.pool.submit(timed)
        finished = asyncio.wrap_future(future)
        # A result or error nobody waits for any more (the request was answered) is not an error.
        finished.add_done_callback(lambda done: done.cancelled() or done.exception())
        stops: dict[asyncio.Future[object], StopReason] = {
            asyncio.ensure_future(asyncio.sleep(self.settings.timeout)): "timeout",
            asyncio.ensure_future(self._shutdown_event().wait()): "shutdown",
        }
        if disconnected is not None:
            stops[asyncio.ensure_future(disconnected())] = "disconnect"
        try:
            waiting: set[asyncio.Future[Any]] = {finished, *stops}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the server gave up on the request: stop its query too
            self._stop(query, future, finished, "shutdown")
            raise
        finally:
            metrics.in_progress.dec()
            for stop in stops:
                stop.cancel()
        if finished.done():
            return finished.result()
        reason = next(reason for stop, reason in stops.items() if stop.done() and not stop.cancelled())
        self._stop(query, future, finished, reason)
        if reason == "timeout":
            raise EvaluationTimeout(
                f"the evaluation took longer than the server's timeout of {self.settings.timeout:g} s"
            )
        if reason == "shutdown":
            raise ShuttingDown("the server is shutting down; send the request again")
        raise ClientGone("the client disconnected")

    def _stop(
        self, query: RunningQuery, future: Future[T], finished: asyncio.Future[T], reason: StopReason
    ) -> None:
        if future.cancel():  # not started: nothing runs in the warehouse
            self.metrics.pool_queued.dec()
            return
        task = asyncio.ensure_future(self._cancel_until_free(query, finished, reason))
        self._cancelling.add(task)
        task.add_done_callback(self._cancelling.discard)

    async def _cancel_until_free(
        self, query: RunningQuery, finished: asyncio.Future[T], reason: StopReason
    ) -> None:
        started = time.perf_counter()
        for _ in range(CANCEL_ATTEMPTS):
            # Off the event loop: PostgreSQL's cancel is a network round trip.
            outcome = await asyncio.to_thread(query.cancel)
            if outcome == "unsupported":
                log.info("the query of an evaluation stopped by %s runs on: its Dao cannot cancel", reason)
                return
            done, _ = await asyncio.wait({finished}, timeout=CANCEL_RETRY_SECONDS)
            if done:
                seconds = time.perf_counter() - started
                self.metrics.cancelled_queries.labels(reason).inc()
                self.metrics.cancel_seconds.observe(seconds)
                log.info("query cancelled in the warehouse (%s): worker free %.2f s later", reason, seconds)
                return
        log.warning("a query cancelled (%s) still runs %.0f s later", reason, time.perf_counter() - started)

    def start(self) -> None:
        """Ready for requests: the worker pool is created, a past shutdown forgotten (a test app restarts)."""
        self.pool  # noqa: B018 -- created here, once, before the first request
        self._shutdown, self._shutdown_loop = asyncio.Event(), asyncio.get_running_loop()

    def begin_shutdown(self, grace: float) -> None:
        """The server stopped accepting: evaluations still running in ``grace`` seconds are stopped."""
        asyncio.get_running_loop().call_later(grace, self._shutdown_event().set)

    async def finish(self) -> None:
        """Stop what still runs, wait (bounded) for the warehouse to drop it, release everything."""
        self._shutdown_event().set()
        await asyncio.sleep(0)  # let stopped requests schedule their cancels
        if self._cancelling:
            await asyncio.wait(set(self._cancelling), timeout=CANCEL_ATTEMPTS * CANCEL_RETRY_SECONDS)
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        for factory in self.factories.values():
            close = getattr(factory, "close", None)
            if callable(close):
                close()
