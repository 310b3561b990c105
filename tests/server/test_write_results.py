"""``"write_results": true``: the server appends the evaluation to its results schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from expsql.config import Config
from expsql.dialects import get
from expsql.results import list_runs
from expsql.server import ConnectorDaoFactory, create_app
from expsql.server.schemas import DEMO_BODY


def test_write_results_over_rest(demo_database: Path, tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_database, database)
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA experiments")
    config = Config.model_validate({"results": {"schema": "experiments"}})
    with TestClient(create_app(ConnectorDaoFactory("duckdb", str(database)), config=config)) as client:
        answer = client.post("/evaluate", json=DEMO_BODY | {"write_results": True})
        assert answer.status_code == 200, answer.text
        run_id = answer.json()["run_id"]
        plain = client.post("/evaluate", json=DEMO_BODY)
        assert "run_id" not in plain.json()
    dao = get("duckdb").connect(str(database))
    assert list_runs(dao, get("duckdb"), "experiments")["run_id"].tolist() == [run_id]
    dao.close()


def test_write_results_without_a_results_schema_is_refused(demo_database: Path) -> None:
    factory = ConnectorDaoFactory("duckdb", str(demo_database), {"read_only": True})
    with TestClient(create_app(factory)) as client:
        answer = client.post("/evaluate", json=DEMO_BODY | {"write_results": True})
    assert answer.status_code == 422 and "results schema" in answer.text
