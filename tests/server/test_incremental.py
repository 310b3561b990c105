"""``"incremental": true`` over REST: the server's state schema, the response's ``refresh``, the
same results as a full evaluation; clear refusals without a state schema or while another
refresh of the experiment runs."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from expsql.config import Config
from expsql.server import ConnectorDaoFactory, create_app
from expsql.server.schemas import DEMO_BODY


@pytest.fixture
def warehouse(demo_database: Path, tmp_path: Path) -> Path:
    """A copy of the demo database the server may keep state in."""
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_database, database)
    return database


@pytest.fixture
def client(warehouse: Path) -> Iterator[TestClient]:
    config = Config.model_validate({"state": {"schema": "expsql_state", "late_arrival_hours": 12}})
    with TestClient(create_app(ConnectorDaoFactory("duckdb", str(warehouse)), config=config)) as test_client:
        yield test_client


def means(answer: dict[str, Any]) -> dict[tuple[Any, str], tuple[float, float]]:
    return {
        (metric["id"], stat["exp_variant_id"]): (stat["mean"], stat["sum_value"])
        for metric in answer["metrics"]
        for stat in metric["stats"]
    }


def test_incremental_refreshes_from_the_servers_state_and_equals_a_full_evaluation(
    client: TestClient,
) -> None:
    first = client.post("/evaluate", json=DEMO_BODY | {"incremental": True})
    assert first.status_code == 200, first.text
    refresh = first.json()["refresh"]
    assert refresh["incremental"] is False and refresh["reason"] == "no state yet"
    assert refresh["state_version"] == 1 and refresh["summary"].startswith("full refresh (no state yet)")

    second = client.post("/evaluate", json=DEMO_BODY | {"incremental": True})
    assert second.status_code == 200, second.text
    refresh = second.json()["refresh"]
    assert refresh == refresh | {"incremental": True, "reason": "", "state_version": 2}
    assert refresh["summary"].startswith("incremental refresh: state version 2")

    plain = client.post("/evaluate", json=DEMO_BODY)
    assert plain.status_code == 200, plain.text
    assert "refresh" not in plain.json()  # ep-stats' shape unless asked
    refreshed, full = means(second.json()), means(plain.json())
    assert refreshed.keys() == full.keys()
    np.testing.assert_allclose(list(refreshed.values()), list(full.values()), rtol=1e-12)
    assert second.json()["exposure"] == plain.json()["exposure"]
    assert second.json()["checks"] == plain.json()["checks"]


def test_full_refresh_rebuilds_the_state(client: TestClient) -> None:
    assert client.post("/evaluate", json=DEMO_BODY | {"incremental": True}).status_code == 200
    rebuilt = client.post("/evaluate", json=DEMO_BODY | {"incremental": True, "full_refresh": True})
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json()["refresh"] | {"summary": ""} == {
        "incremental": False,
        "reason": "--full-refresh",
        "state_version": 2,
        "settled_until": rebuilt.json()["refresh"]["settled_until"],
        "summary": "",
    }


def test_full_refresh_without_incremental_is_a_422(client: TestClient) -> None:
    answer = client.post("/evaluate", json=DEMO_BODY | {"full_refresh": True})
    assert answer.status_code == 422
    assert "full_refresh applies to an incremental refresh only" in answer.json()["detail"]


def test_incremental_without_a_state_schema_is_a_422(warehouse: Path) -> None:
    with TestClient(create_app(ConnectorDaoFactory("duckdb", str(warehouse)))) as client:
        answer = client.post("/evaluate", json=DEMO_BODY | {"incremental": True})
    assert answer.status_code == 422
    assert answer.json()["error"] == "IncrementalError"
    assert '"incremental": true needs a state schema on the server' in answer.json()["detail"]
    assert "[state] schema" in answer.json()["detail"]


def test_the_state_settings_come_from_the_config_unless_the_server_names_its_own() -> None:
    config = Config.model_validate(
        {"state": {"schema": "kept", "late_arrival_hours": 6}, "server": {"state_schema": "own"}}
    )
    settings = create_app(ConnectorDaoFactory("duckdb", None), config=config).state.service.settings
    assert settings.state_schema == "own" and settings.late_arrival_hours == 6
    settings = create_app(ConnectorDaoFactory("duckdb", None)).state.service.settings
    assert settings.state_schema is None and settings.late_arrival_hours == 48


def test_a_second_refresh_at_once_is_a_409(client: TestClient, warehouse: Path) -> None:
    from expsql import runner
    from expsql.incremental import StateOptions, refresh
    from expsql.models import Experiment

    holding, release = threading.Event(), threading.Event()

    def pause(step: str) -> None:
        if step == "record":
            holding.set()
            release.wait(timeout=60)

    worker = threading.Thread(
        target=refresh,
        args=(Experiment.model_validate(DEMO_BODY), runner.connect("duckdb", str(warehouse))),
        kwargs={"dialect": "duckdb", "state": StateOptions("expsql_state"), "on_step": pause},
    )
    worker.start()
    try:
        assert holding.wait(timeout=60)
        busy = client.post("/evaluate", json=DEMO_BODY | {"incremental": True})
    finally:
        release.set()
        worker.join(timeout=60)
    assert busy.status_code == 409
    assert busy.json()["error"] == "refresh_busy"
    assert "another refresh of experiment 'checkout-redesign' is running" in busy.json()["detail"]
    assert client.post("/evaluate", json=DEMO_BODY | {"incremental": True}).status_code == 200


def test_a_dialect_that_cannot_keep_a_state_is_a_422() -> None:
    class TrinoFactory:
        dialect = "trino"

        def get_dao(self) -> Any:
            raise AssertionError("no connection: refused before")

    config = Config.model_validate({"state": {"schema": "expsql_state"}})
    with TestClient(create_app(TrinoFactory(), config=config)) as client:
        answer = client.post("/evaluate", json=DEMO_BODY | {"incremental": True})
    assert answer.status_code == 422
    assert "trino cannot keep an incremental state" in answer.json()["detail"]
