"""The real server: ``expsql serve`` under uvicorn in a subprocess, on a free loopback port, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.load import running_server, write_config
from tests.models.test_experiment import EP_STATS_BODY


@pytest.fixture
def server(demo_database: Path, tmp_path: Path) -> Iterator[str]:
    """``expsql serve`` on the demo database (through the config's duckdb connector), always stopped."""
    with running_server(write_config(tmp_path, demo_database, workers=2)) as (url, _):
        yield url


def test_served_evaluation_over_http_has_the_ep_stats_shape(server: str) -> None:
    body = {key: value for key, value in EP_STATS_BODY.items() if key not in ("date_from", "date_to")}
    body = body | {"id": "checkout-redesign", "unit_type": "user"}
    body["metrics"] = [
        {
            **metric,
            "nominator": metric["nominator"].replace("test_unit_type", "user"),
            "denominator": "count(user.global.exposure)",
        }
        for metric in body["metrics"]
    ]
    body["checks"] = [{"id": 1, "name": "SRM", "denominator": "count(user.global.exposure)"}]
    answer = httpx.post(f"{server}/evaluate", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert set(result) == {"id", "metrics", "checks", "exposure"}
    assert [metric["id"] for metric in result["metrics"]] == [1, 2]
    assert [stat["exp_variant_id"] for stat in result["metrics"][0]["stats"]] == ["a", "b", "c"]
    assert result["exposure"]["unit_type"] == "user"
    assert sum(stat["count"] for stat in result["exposure"]["stats"]) > 0
    health = httpx.get(f"{server}/health", timeout=5).json()
    assert health["dialects"] == ["duckdb"]
