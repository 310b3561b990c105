"""The example third-party plugin, for real: pip-installed, listed, compiled for and run.

``examples/expsql-dialect-sqlite`` is copied to a temporary directory (so the build leaves no
files in the repository) and installed into the running environment with pip; expsql itself is
not touched. Then ``expsql dialects`` lists ``sqlite`` as coming from that distribution, and the
experiments of the cross-engine test run on SQLite with the rows DuckDB returns. The package is
uninstalled at the end.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.dialects import Dao, get
from expsql.dialects.registry import DISABLE_PLUGINS_ENV, build_registry
from expsql.errors import DialectError
from expsql.stats import evaluate
from expsql.testing import load
from expsql.testing.cases import CASES
from expsql.testing.events import generate_events
from expsql.testing.pytest_plugin import engine_unavailable
from expsql.testing.reference import assert_rows_equal
from tests.engines.test_cross_engine import EXPERIMENTS, HOSTILE_PRODUCTS, SOURCE

pytestmark = pytest.mark.engine("example-plugin")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "expsql-dialect-sqlite"
DISTRIBUTION = "expsql-dialect-sqlite"


def _pip(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *arguments], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Install the example package into this environment; uninstall it afterwards."""
    source = tmp_path_factory.mktemp("plugin") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    result = _pip("install", "--no-deps", "--no-build-isolation", "--quiet", str(source))
    if result.returncode != 0:
        engine_unavailable(
            f"pip could not install {EXAMPLE}: {result.stderr.strip()[-500:]}",
            "pip install 'setuptools>=70.1' (it builds wheels without the wheel package)",
        )
    importlib.invalidate_caches()
    yield DISTRIBUTION
    _pip("uninstall", "--yes", "--quiet", DISTRIBUTION)
    sys.modules.pop("expsql_dialect_sqlite", None)


def _expsql_dialects(**environment: str) -> str:
    script = Path(sys.executable).with_name("expsql")
    command = (
        [str(script)] if script.exists() else [sys.executable, "-c", "from expsql.cli import main; main()"]
    )
    result = subprocess.run(
        [*command, "dialects"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "160", **environment},
    )
    return result.stdout


def test_expsql_dialects_lists_the_plugin_with_its_distribution(installed_plugin: str) -> None:
    rows = [line for line in _expsql_dialects().splitlines() if " sqlite " in line]
    assert len(rows) == 1, _expsql_dialects()
    cells = [cell.strip() for cell in rows[0].strip("│ ").split("│")]
    assert cells[:4] == ["sqlite", installed_plugin, "expsqlsqlite", "installed"]


def test_disabling_plugins_hides_the_installed_plugin(installed_plugin: str) -> None:
    listing = _expsql_dialects(**{DISABLE_PLUGINS_ENV: "1"})
    assert " duckdb " in listing
    assert " sqlite " not in listing


def _events() -> pd.DataFrame:
    events = generate_events(7, experiments=3, units=400)
    rows = events["product"].notna() & (events.index % 4 == 0)
    events.loc[rows, "product"] = [
        HOSTILE_PRODUCTS[i % len(HOSTILE_PRODUCTS)] for i in range(int(rows.sum()))
    ]
    return events


@pytest.fixture(scope="module")
def engines(installed_plugin: str) -> Iterator[dict[str, Dao]]:
    """The same events in SQLite (through the plugin's Dao) and in DuckDB."""
    registry = build_registry()  # a fresh registry sees the newly installed entry point
    assert registry.origin("sqlite") == installed_plugin
    events = _events()
    connection = sqlite3.connect(":memory:")
    load.to_sqlite(connection, events)
    daos = {
        "sqlite": registry.get("sqlite").connect(connection=connection),
        "duckdb": get("duckdb").connect(),
    }
    load.to_duckdb(daos["duckdb"].connection, events)  # type: ignore[attr-defined]
    yield daos
    for dao in daos.values():
        dao.close()
    connection.close()


@pytest.mark.parametrize("contract", ["goals", "metrics", "units"])
@pytest.mark.parametrize("experiment_id", sorted(EXPERIMENTS))
def test_plugin_runs_experiments_with_the_rows_duckdb_returns(
    engines: dict[str, Dao], experiment_id: str, contract: str
) -> None:
    sqlite_dialect = build_registry().get("sqlite")
    experiment = EXPERIMENTS[experiment_id]
    sqlite_sql = compile_sql(experiment, dialect=sqlite_dialect, rows=contract, source=SOURCE)
    duckdb_sql = compile_sql(experiment, dialect="duckdb", rows=contract, source=SOURCE)
    duckdb_rows = engines["duckdb"].execute(duckdb_sql)
    assert len(duckdb_rows) > 0
    assert_rows_equal(engines["sqlite"].execute(sqlite_sql), duckdb_rows)


def test_winsorized_metrics_on_a_warehouse_without_percentiles_go_through_unit_rows(
    engines: dict[str, Dao],
) -> None:
    """SQLite has no percentile function (the plugin says ``percentile="none"``): metric rows of a
    capped metric are refused before any SQL, and its unit rows give DuckDB's capped scorecard."""
    sqlite_dialect = build_registry().get("sqlite")
    base = EXPERIMENTS["exp-1"]
    capped = base.model_validate(
        base.model_dump()
        | {"metrics": [m.model_dump() | {"outlier_upper_percentile": 5} for m in base.metrics]}
    )
    with pytest.raises(DialectError, match=r"sqlite has no percentile function.*--rows units"):
        compile_sql(capped, dialect=sqlite_dialect, rows="metrics", source=SOURCE)
    units = engines["sqlite"].execute(
        compile_sql(capped, dialect=sqlite_dialect, rows="units", source=SOURCE)
    )
    metrics = engines["duckdb"].execute(compile_sql(capped, dialect="duckdb", rows="metrics", source=SOURCE))
    expected, actual = evaluate(capped, metrics).metrics, evaluate(capped, units).metrics
    for name in ("count", "mean", "std", "p_value"):
        assert actual[name].to_numpy(float) == pytest.approx(
            expected[name].to_numpy(float), rel=1e-9, nan_ok=True
        )


def test_the_plugin_passes_the_conformance_kit_with_its_own_tests(
    installed_plugin: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The example's ``tests/`` (one ``DialectConformance`` subclass), run as its author would:
    pytest in the package's folder, against the installed plugin. Every reference experiment in
    each contract is one test; SQLite's winsorized metric rows must fail to compile (no percentile)."""
    folder = tmp_path_factory.mktemp("author") / EXAMPLE.name
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    expected = sum(len(case.contracts) for case in CASES.values())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{expected} passed" in result.stdout.splitlines()[-1], result.stdout[-500:]
