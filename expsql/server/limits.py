"""The request body limits: a body over ``[server] max_body_bytes`` is a 413 before anything parses
it, and a body still incomplete after ``[server] body_timeout`` seconds is a 408.

A declared ``Content-Length`` over the limit is refused before a byte of the body is read. A body
without one (chunked transfer) is counted as it streams in; the first chunk that crosses the limit
stops the reading, and whatever the app would have answered to the cut body is replaced by the 413.
The time limit covers the whole body, so a client trickling it in byte by byte (holding a worker
and a connection) is cut off as surely as one that stops sending.
"""

from __future__ import annotations

import asyncio
import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyRefused(Exception):
    """Raised into the app by ``receive`` when the streamed body crosses a limit."""


def body_too_large_message(limit: int) -> str:
    return f"the request body is larger than this server's limit of {limit} bytes ([server] max_body_bytes)"


def body_too_slow_message(seconds: float) -> str:
    return f"the request body did not arrive within {seconds:g} s ([server] body_timeout)"


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as a number (``None`` if absent or not a number)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Answers 413 (JSON ``detail`` and ``error: "too_large"``) to a body over ``max_bytes`` and 408
    (``error: "body_timeout"``) to one not complete within ``timeout`` seconds."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def _refuse(self, send: Send, status: int) -> None:
        if status == 413:
            answer = {"detail": body_too_large_message(self.max_bytes), "error": "too_large"}
        else:
            answer = {"detail": body_too_slow_message(self.timeout), "error": "body_timeout"}
        body = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The unread rest of the body is still on the wire: this connection is done.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, 413)
            return
        received = 0
        refusal: int | None = None  # the status replacing the app's answer to a cut body
        answered = False
        complete = False
        deadline = time.monotonic() + self.timeout

        async def limited_receive() -> Message:
            nonlocal received, refusal, complete
            if complete:  # after the body: waiting for a disconnect is not bounded here
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(deadline - time.monotonic(), 0))
            except TimeoutError:
                refusal = 408
                raise BodyRefused from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    refusal = 413
                    raise BodyRefused
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if refusal is not None and not answered:
                return  # the app's answer to a cut body (a 400 or a 500): the refusal replaces it
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyRefused:
            pass
        except Exception:
            if refusal is None:
                raise
        if refusal is not None and not answered:
            await self._refuse(send, refusal)
