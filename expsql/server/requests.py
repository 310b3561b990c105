"""Every request's id, its header checks and its one log line.

:class:`RequestContextMiddleware` gives each request a :class:`RequestRecord` (in its ASGI scope)
that inner middleware and routes fill in — the error type of a refusal, the dialect, row contract
and metric count of an evaluation — and writes one structured line per request from it. The line
holds only those fields, the id, endpoint, status and duration: never a body, a header value, an
expression or the SQL, so no SQL literal, token or password reaches the log.

The request id is the client's ``X-Request-ID`` when it is well-formed (up to 128 letters, digits
and ``._:-``), else a generated one; it comes back on every answer. An id with control
characters is a 400 (it is how a client would forge log lines), headers larger in total than
``[server] max_header_bytes`` a 431.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from expsql.server.metrics import METHODS, endpoint_of, error_type

REQUEST_LOG: Final = "expsql.server.requests"
log = logging.getLogger(REQUEST_LOG)
RECORD_KEY: Final = "expsql.request"
REQUEST_ID_HEADER: Final = b"x-request-id"
WELL_FORMED_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
CONTROL_CHARACTERS: Final = re.compile(rb"[\x00-\x1f\x7f]")


@dataclass
class RequestRecord:
    """What one request's log line and metrics say about it, filled in as it is served."""

    request_id: str
    #: The error type of a refusal whose status alone does not tell it (``missing_token``).
    error: str | None = None
    dialect: str | None = None
    rows: str | None = None
    metrics: int | None = None


def record_of(scope: Scope) -> RequestRecord | None:
    """The request's record (``None`` outside :class:`RequestContextMiddleware`)."""
    record = scope.get(RECORD_KEY)
    return record if isinstance(record, RequestRecord) else None


async def send_error(
    send: Send,
    scope: Scope,
    status: int,
    error: str,
    detail: str,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Answer ``{"detail": ..., "error": ...}`` with ``status`` and note ``error`` in the record."""
    record = record_of(scope)
    if record is not None:
        record.error = error
    body = json.dumps({"detail": detail, "error": error}).encode()
    start_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


def request_id_of(scope: Scope) -> tuple[str, bool]:
    """The id to answer with, and whether the client's header was refused (control characters)."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            if CONTROL_CHARACTERS.search(value):
                return uuid.uuid4().hex, True
            text = value.decode("latin-1").strip()
            if WELL_FORMED_ID.fullmatch(text):
                return text, False
            break
    return uuid.uuid4().hex, False


def header_bytes(scope: Scope) -> int:
    return sum(len(name) + len(value) for name, value in scope.get("headers", ()))


def log_line(fields: dict[str, Any], log_format: Literal["text", "json"]) -> str:
    """One line: a JSON object, or ``key=value`` pairs (values are ids, numbers and fixed words)."""
    present = {key: value for key, value in fields.items() if value is not None}
    if log_format == "json":
        return json.dumps(present, separators=(",", ":"))
    return " ".join(f"{key}={value}" for key, value in present.items())


class RequestContextMiddleware:
    """Ids every request, refuses malformed ids and oversized headers, and logs one line per request."""

    def __init__(
        self,
        app: ASGIApp,
        paths: frozenset[str],
        max_header_bytes: int,
        log_format: Literal["text", "json"] = "text",
    ) -> None:
        self.app = app
        self.paths = paths
        self.max_header_bytes = max_header_bytes
        self.log_format = log_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, refused_id = request_id_of(scope)
        record = RequestRecord(request_id)
        scope[RECORD_KEY] = record
        status: int | None = None
        id_header = (REQUEST_ID_HEADER, request_id.encode())

        async def identified_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != REQUEST_ID_HEADER]
                message = {**message, "headers": [*headers, id_header]}
            await send(message)

        started = time.perf_counter()
        try:
            if refused_id:
                detail = "the X-Request-ID header holds control characters"
                await send_error(identified_send, scope, 400, "bad_request_id", detail)
            elif (size := header_bytes(scope)) > self.max_header_bytes:
                detail = (
                    f"the request headers take {size} bytes; this server reads at most "
                    f"{self.max_header_bytes} ([server] max_header_bytes)"
                )
                await send_error(identified_send, scope, 431, "headers_too_large", detail)
            else:
                await self.app(scope, receive, identified_send)
        except Exception:
            if status is not None:
                raise
            # A bug: the log gets the traceback, the client a JSON body without one (and its id).
            log.exception("request %s failed", request_id)
            await send_error(identified_send, scope, 500, "internal", "internal error")
        finally:
            fields = {
                "request_id": request_id,
                "method": scope["method"] if scope["method"] in METHODS else "other",
                "endpoint": endpoint_of(scope, self.paths),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "dialect": record.dialect,
                "rows": record.rows,
                "metrics": record.metrics,
                "error": record.error or error_type(status or 500),
            }
            log.info(log_line(fields, self.log_format))
