"""Running the app under uvicorn: its logs, and a graceful shutdown on SIGTERM.

On SIGTERM (or Ctrl-C), after half a second in which the connections already queued are
accepted and read, uvicorn stops accepting connections and closes the idle ones; the
evaluations in flight get ``[server] shutdown_timeout`` seconds to finish and answer. Those
still running then are cancelled in the warehouse and answered 503 (``error: "shutting_down"``,
``Retry-After``), so no accepted request goes without an answer, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import sys
from types import FrameType
from typing import TYPE_CHECKING, Final, Literal

import uvicorn

from expsql.server.requests import REQUEST_LOG

if TYPE_CHECKING:
    from expsql.server.service import Service

#: Seconds uvicorn waits beyond ``shutdown_timeout``: for the cancels and the 503s to go out.
ANSWER_GRACE: Final = 10.0
#: Seconds the server still accepts after SIGTERM: a connection the kernel queued before the
#: signal, or one accepted whose request is not read yet, would otherwise be reset unanswered
#: when uvicorn closes its socket and its idle connections (seen under load in the SIGTERM test).
ACCEPT_DRAIN: Final = 0.5


class GracefulServer(uvicorn.Server):
    """uvicorn's server, telling the app's :class:`~expsql.server.service.Service` when shutdown begins."""

    def __init__(self, config: uvicorn.Config, service: Service) -> None:
        super().__init__(config)
        self.service = service

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.service.begin_shutdown(self.service.settings.shutdown_timeout)
        await asyncio.sleep(ACCEPT_DRAIN)
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn raises SIGTERM again once it has shut down, which makes the exit status 143: a
        # shutdown that answered every request is a success, so it exits 0 instead.
        if sig == signal.SIGTERM and sig in self._captured_signals:
            self._captured_signals.remove(sig)


class JsonLines(logging.Formatter):
    """Every record as one JSON object; a request line (already one) as it is."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == REQUEST_LOG:
            return record.getMessage()
        entry = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(log_level: str, log_format: Literal["text", "json"]) -> None:
    """Request lines and messages of ``expsql.server`` to stderr, one line each (JSON lines for json)."""
    logger = logging.getLogger("expsql.server")
    if not any(getattr(handler, "_expsql", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._expsql = True  # type: ignore[attr-defined]
        text = logging.Formatter("%(levelname)s:     %(message)s")  # aligned with uvicorn's own lines
        handler.setFormatter(JsonLines() if log_format == "json" else text)
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(log_level.upper())


def run_server(service: Service, config: uvicorn.Config) -> None:
    """Serve until SIGTERM or Ctrl-C, then shut down gracefully (as ``uvicorn.run`` does, but so)."""
    # uvicorn's setting is typed int, but it only waits on it: a float is kept as given.
    config.timeout_graceful_shutdown = service.settings.shutdown_timeout + ANSWER_GRACE  # type: ignore[assignment]
    server = GracefulServer(config, service)
    server.run()
    if not server.started:  # the port was taken, the app failed to start: uvicorn logged why
        sys.exit(3)
