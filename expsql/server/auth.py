"""Bearer-token authentication: who may run queries on the warehouse's bill.

``[server] tokens_env = "EXPSQL_TOKENS"`` (or ``expsql serve --token-env``) names the environment
variable holding the accepted tokens, separated by commas or whitespace (several, so one can be
rotated without downtime). Then every request needs ``Authorization: Bearer <token>``, except
``/health`` (for load balancers), the API documentation (``/docs``, ``/redoc``,
``/openapi.json``: they describe the API and reach no warehouse) and, with ``[server]
public_metrics = true``, ``/metrics``. A missing, malformed or unknown token is a 401 with
``WWW-Authenticate: Bearer``; its ``error`` says which, and ``/metrics`` counts each apart.

Tokens are compared in constant time, with every accepted token, so neither the answer's timing
nor its content tells a guess how close it came. No token is ever logged or echoed.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from expsql.config import ConfigError
from expsql.server.requests import send_error

#: RFC 6750's b64token: what may follow ``Bearer``.
TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: Shorter tokens can be guessed; a generated one (``openssl rand -hex 32``) is far longer.
MIN_TOKEN_LENGTH: Final = 16
DOCUMENTATION: Final = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
SCHEME: Final = "bearer"


def load_tokens(variable: str | None, environ: Mapping[str, str] | None = None) -> tuple[bytes, ...]:
    """The tokens in ``$variable`` (none when ``variable`` is ``None``: authentication is off).

    A named variable that is unset, empty or holds a short or malformed token stops the server
    from starting: it must never serve openly because a deployment lost its secret.
    """
    if variable is None:
        return ()
    environ = os.environ if environ is None else environ
    text = environ.get(variable, "")
    tokens = tuple(token for token in re.split(r"[\s,]+", text) if token)
    if not tokens:
        raise ConfigError(f"[server] tokens_env names ${variable}, which holds no token")
    for position, token in enumerate(tokens, start=1):
        # The message says which token (by position), never the token itself.
        if not TOKEN.fullmatch(token):
            raise ConfigError(f"${variable}: token {position} has characters a bearer token cannot have")
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"${variable}: token {position} is shorter than {MIN_TOKEN_LENGTH} characters")
    return tuple(token.encode() for token in tokens)


def public_paths(public_metrics: bool) -> frozenset[str]:
    return frozenset({"/health", *DOCUMENTATION, *(("/metrics",) if public_metrics else ())})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def exposure_warning(host: str, tokens_env: str | None) -> str | None:
    """The warning for serving a non-loopback interface without tokens (``None`` when all is well)."""
    if tokens_env is not None or is_loopback(host):
        return None
    return (
        f"warning: expsql serves on {host} without authentication: anyone who can reach the port can run "
        "queries on the warehouse. Set [server] tokens_env (or --token-env) to require bearer tokens."
    )


def check_token(headers: list[tuple[bytes, bytes]], tokens: tuple[bytes, ...]) -> str | None:
    """``None`` for an accepted token, else the refusal: missing, malformed or invalid token."""
    values = [value for name, value in headers if name == b"authorization"]
    if not values:
        return "missing_token"
    scheme, _, credentials = values[0].strip().partition(b" ")
    credentials = credentials.strip()
    well_formed = TOKEN.fullmatch(credentials.decode("latin-1")) is not None
    if len(values) > 1 or scheme.lower() != SCHEME.encode() or not well_formed:
        return "malformed_token"
    # Compared with every token, without stopping at a match: the time does not say which one.
    matches = [hmac.compare_digest(credentials, token) for token in tokens]
    return None if any(matches) else "invalid_token"


REFUSALS: Final = {
    "missing_token": ("the request has no Authorization header; send 'Authorization: Bearer <token>'", ""),
    "malformed_token": (
        "the Authorization header is not 'Bearer <token>'",
        ', error="invalid_request"',
    ),
    "invalid_token": ("the bearer token is not one this server accepts", ', error="invalid_token"'),
}


class TokenAuthMiddleware:
    """Answers 401 to a request outside ``public`` without an accepted bearer token."""

    def __init__(self, app: ASGIApp, tokens: tuple[bytes, ...], public: frozenset[str]) -> None:
        self.app = app
        self.tokens = tokens
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public:
            await self.app(scope, receive, send)
            return
        refusal = check_token(list(scope.get("headers", ())), self.tokens)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        detail, parameters = REFUSALS[refusal]
        challenge = f'Bearer realm="expsql"{parameters}'.encode()
        await send_error(send, scope, 401, refusal, detail, ((b"www-authenticate", challenge),))


def declare_bearer_scheme(app: FastAPI, public: frozenset[str]) -> None:
    """Make ``app``'s OpenAPI document require the bearer scheme (except on ``public`` paths), so that
    ``/docs`` offers "Authorize" and sends the token with "Try it out"."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from the server's [server] tokens_env variable.",
        }
        schema["security"] = [{SCHEME: []}]
        unauthorized = {"description": "No token, a malformed one, or one this server does not accept"}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if path in public:
                    operation["security"] = []
                else:
                    operation.setdefault("responses", {})["401"] = unauthorized
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
