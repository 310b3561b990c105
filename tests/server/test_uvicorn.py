"""The real server: ``expsql serve`` under uvicorn in a subprocess, on a free loopback port, over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_models import EP_STATS_BODY

STARTUP_SECONDS = 40


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(demo_database: Path, tmp_path: Path) -> Iterator[str]:
    """``expsql serve`` on the demo database (through the config's duckdb connector), always stopped."""
    config = tmp_path / "expsql.toml"
    config.write_text(
        f'[server]\ndialect = "duckdb"\nconnect = "{demo_database}"\nworkers = 2\ntimeout = 30\n\n'
        "[connectors.duckdb]\nread_only = true\n"
    )
    port = free_port()
    script = Path(sys.executable).with_name("expsql")
    command = [str(script), "serve", "--port", str(port), "--config", str(config), "--log-level", "warning"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ | {"NO_COLOR": "1"}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"expsql serve exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"expsql serve did not answer within {STARTUP_SECONDS} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


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
