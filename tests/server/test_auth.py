"""Bearer tokens: every endpoint but ``/health`` (and the docs) needs one once ``tokens_env`` is set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from expsql.config import ConfigError, ServerSettings
from expsql.server import DemoDaoFactory
from expsql.server.app import create_app
from expsql.server.auth import exposure_warning, load_tokens
from tests.server.test_metrics import change, scrape
from tests.server.test_routes import body

TOKENS_ENV = "EXPSQL_TEST_TOKENS"
CURRENT = "current-token-0123456789abcdef"
ROTATED = "rotated-token-fedcba9876543210"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> ServerSettings:
    monkeypatch.setenv(TOKENS_ENV, f"{CURRENT}, {ROTATED}")
    return ServerSettings(tokens_env=TOKENS_ENV)


@pytest.fixture
def guarded(demo_factory: DemoDaoFactory, settings: ServerSettings) -> Iterator[TestClient]:
    with TestClient(create_app(demo_factory, settings=settings)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_endpoint_but_health_needs_a_token(guarded: TestClient) -> None:
    assert guarded.get("/health").status_code == 200
    refused = [
        guarded.get("/dialects"),
        guarded.get("/metrics"),
        guarded.post("/evaluate", json=body()),
        guarded.post("/compile", json=body()),
        guarded.post("/sample-size-calculation", json={"n_variants": 2, "minimum_effect": 0.1, "mean": 0.2}),
        guarded.get("/no-such-page"),  # a scanner learns nothing about which paths exist
    ]
    for answer in refused:
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["error"] == "missing_token"


def test_either_token_is_accepted(guarded: TestClient) -> None:
    for token in (CURRENT, ROTATED):
        assert guarded.post("/evaluate", json=body(), headers=bearer(token)).status_code == 200
        assert guarded.get("/metrics", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (f"Basic {CURRENT}", "malformed_token"),
        ("Bearer", "malformed_token"),
        (f"Bearer {CURRENT} extra", "malformed_token"),
        ("Bearer tok\u00e9n-0123456789abcdef", "malformed_token"),
        (f"Bearer {CURRENT[:-1]}", "invalid_token"),
        (f"Bearer {CURRENT}x", "invalid_token"),
    ],
)
def test_a_malformed_or_unknown_token_is_a_401_that_never_echoes_it(
    guarded: TestClient, authorization: str, error: str
) -> None:
    raw = authorization.encode("latin-1")  # as sent on the wire (a non-ASCII byte included)
    answer = guarded.post("/evaluate", json=body(), headers={"Authorization": raw})  # type: ignore[dict-item]
    assert answer.status_code == 401
    assert answer.json()["error"] == error
    assert answer.headers["www-authenticate"].startswith('Bearer realm="expsql"')
    sent = authorization.partition(" ")[2] or "<nothing>"
    assert sent not in answer.text and sent not in str(answer.headers)


def test_refusals_are_counted_by_type(guarded: TestClient) -> None:
    before = scrape_with(guarded)
    guarded.get("/dialects")
    guarded.get("/dialects", headers={"Authorization": "Token abc"})
    guarded.get("/dialects", headers=bearer("not-a-token-of-this-server"))
    guarded.get("/dialects", headers=bearer("not-a-token-of-this-server"))
    after = scrape_with(guarded)
    for kind, count in (("missing_token", 1), ("malformed_token", 1), ("invalid_token", 2)):
        assert change(before, after, "expsql_http_errors_total", endpoint="/dialects", type=kind) == count


def scrape_with(client: TestClient) -> dict:
    client.headers["Authorization"] = f"Bearer {CURRENT}"
    try:
        return scrape(client)
    finally:
        del client.headers["Authorization"]


def test_public_metrics_need_no_token(demo_factory: DemoDaoFactory, settings: ServerSettings) -> None:
    public = settings.model_copy(update={"public_metrics": True})
    with TestClient(create_app(demo_factory, settings=public)) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/dialects").status_code == 401


def test_no_body_is_read_before_the_token_is_checked(guarded: TestClient) -> None:
    answer = guarded.post("/evaluate", content=b" " * 2_000_000, headers={"content-type": "application/json"})
    assert answer.status_code == 401  # not the 413 the body limit would answer


def test_openapi_declares_the_bearer_scheme_so_docs_can_send_it(guarded: TestClient) -> None:
    assert guarded.get("/docs").status_code == 200
    schema = guarded.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from the server's [server] tokens_env variable.",
    }
    assert schema["security"] == [{"bearer": []}]
    assert schema["paths"]["/health"]["get"]["security"] == []
    assert "401" in schema["paths"]["/evaluate"]["post"]["responses"]


def test_without_tokens_env_nothing_is_required_and_nothing_declared(client: TestClient) -> None:
    assert client.get("/dialects").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "holds no token"),
        ("  ,  ", "holds no token"),
        ("short-token", "token 1 is shorter than 16"),
        (f"{CURRENT} has;semicolons-and-more", "token 2 has characters"),
    ],
)
def test_a_tokens_variable_without_good_tokens_stops_the_server_from_starting(
    value: str | None, problem: str, demo_factory: DemoDaoFactory
) -> None:
    environ = {} if value is None else {TOKENS_ENV: value}
    with pytest.raises(ConfigError, match=problem) as raised:
        load_tokens(TOKENS_ENV, environ)
    assert CURRENT not in str(raised.value) and "semicolons" not in str(raised.value)


def test_tokens_are_read_split_on_commas_and_whitespace() -> None:
    assert load_tokens(TOKENS_ENV, {TOKENS_ENV: f" {CURRENT},\n{ROTATED} "}) == (
        CURRENT.encode(),
        ROTATED.encode(),
    )
    assert load_tokens(None, {}) == ()


@pytest.mark.parametrize(
    ("host", "tokens_env", "warned"),
    [
        ("0.0.0.0", None, True),
        ("10.1.2.3", None, True),
        ("warehouse-gateway.internal", None, True),
        ("0.0.0.0", TOKENS_ENV, False),
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
    ],
)
def test_serving_beyond_loopback_without_tokens_is_warned_about(
    host: str, tokens_env: str | None, warned: bool
) -> None:
    warning = exposure_warning(host, tokens_env)
    assert (warning is not None) == warned
    if warning is not None:
        assert host in warning and "tokens_env" in warning
