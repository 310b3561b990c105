"""The request body limit: a body over ``[server] max_body_bytes`` is a 413 before anything parses it.

A declared ``Content-Length`` over the limit is refused before a byte of the body is read. A body
without one (chunked transfer) is counted as it streams in; the first chunk that crosses the limit
stops the reading, and whatever the app would have answered to the cut body is replaced by the 413.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised into the app by ``receive`` when the streamed body crosses the limit."""


def body_too_large_message(limit: int) -> str:
    return f"the request body is larger than this server's limit of {limit} bytes ([server] max_body_bytes)"


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
    """Answers 413 (JSON ``detail`` and ``error: "too_large"``) to a body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": body_too_large_message(self.max_bytes), "error": "too_large"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
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
            await self._refuse(send)
            return
        received = 0
        exceeded = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if exceeded and not answered:
                return  # the app's answer to a cut body (a 400 or a 500): the 413 replaces it
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not answered:
            await self._refuse(send)
