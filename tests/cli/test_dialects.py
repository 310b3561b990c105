"""``expsql dialects``: the nine built-ins, their origin, sqlglot dialect and connector state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from expsql.dialects.registry import DEFAULT_PLUGINS, DISABLE_PLUGINS_ENV, default_registry
from tests.cli.conftest import Invoke
from tests.plugins.distributions import PLUGINS, write_distribution

BUILT_IN_NAMES = [module.rsplit(".", 1)[1] for module in DEFAULT_PLUGINS]


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "1")
    default_registry.cache_clear()
    yield
    default_registry.cache_clear()


def _rows(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.strip("│").split("│")]
            if cells[0]:  # not the continuation of a wrapped description
                rows[cells[0]] = cells[1:]
    return rows


def test_lists_every_built_in_with_origin_and_connector(invoke: Invoke) -> None:
    outcome = invoke("dialects")
    assert outcome.code == 0, outcome.err
    rows = _rows(outcome.out)
    assert sorted(rows) == sorted(BUILT_IN_NAMES)
    assert {cells[0] for cells in rows.values()} == {"built-in"}
    assert rows["duckdb"][:3] == ["built-in", "duckdb", "installed"]
    assert rows["postgres"][2] == "installed"
    assert rows["snowflake"][2] in {"installed", "missing: expsql[snowflake]"}
    assert rows["duckdb"][3] == "exact" and rows["trino"][3] == "approximate"  # outlier caps' percentile
    cancel = [rows[name][4] for name in ("duckdb", "postgres", "spark", "snowflake", "bigquery", "redshift")]
    assert cancel == ["yes", "yes", "yes", "yes", "no", "no"]  # whether a query is stopped in the warehouse
    limits = [rows[name][5] for name in ("bigquery", "snowflake", "duckdb")]
    assert limits == ["1 MiB", "1 MB", "none"]  # beyond it, several statements
    loads = {name: cells[6] for name, cells in rows.items()}
    assert loads["duckdb"] == loads["postgres"] == loads["spark"] == loads["clickhouse"] == "yes"
    assert loads["bigquery"] == "no"  # expsql check and the kit need load_table
    assert rows["bigquery"][1] == "bigquery"
    assert rows["bigquery"][2] in {"installed", "missing: expsql[bigquery]"}


def test_plugin_origin_and_load_failures_are_shown(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    write_distribution(tmp_path, "expsql-fixture-broken", {"broken": "fixture_broken_import"})
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(DISABLE_PLUGINS_ENV)
    with pytest.warns(RuntimeWarning, match="expsql-fixture-broken"):
        outcome = invoke("dialects")
    assert outcome.code == 0
    rows = _rows(outcome.out)
    assert rows["fixturedb"][:3] == ["expsql-fixture-good", "sqlite", "compile only"]
    assert "not loaded: plugin 'broken' from expsql-fixture-broken: ModuleNotFoundError" in outcome.err
