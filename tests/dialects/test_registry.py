"""The registry: built-ins and entry-point plugins through one hook, and every way a plugin fails.

Plugins come from real distributions: each test writes a ``*.dist-info`` directory
(:mod:`tests.plugins.distributions`) and reads its ``importlib.metadata.EntryPoint`` objects back,
so the registry sees exactly what ``pip install`` would give it. The plugin modules are in
``tests/plugins``.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from expsql.dialects import Dialect, UnknownDialectError, available, get
from expsql.dialects.registry import (
    BUILT_IN,
    DEFAULT_PLUGINS,
    DISABLE_PLUGINS_ENV,
    DuplicateDialectError,
    build_registry,
    default_registry,
)
from expsql.errors import DialectError
from tests.plugins.distributions import PLUGINS, entry_points_of, write_distribution

BUILT_IN_NAMES = [
    "bigquery",
    "clickhouse",
    "databricks",
    "duckdb",
    "postgres",
    "redshift",
    "snowflake",
    "spark",
    "trino",
]


@pytest.fixture(autouse=True)
def _plugin_modules_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))


def test_built_ins_register_through_the_hook_as_built_in() -> None:
    registry = build_registry(entry_points_=[])
    assert registry.available() == BUILT_IN_NAMES
    assert {registry.origin(name) for name in BUILT_IN_NAMES} == {BUILT_IN}
    assert len(DEFAULT_PLUGINS) == len(BUILT_IN_NAMES)
    assert not registry.failures


def test_module_level_get_and_available_read_the_default_registry() -> None:
    assert set(BUILT_IN_NAMES) <= set(available())
    assert get("duckdb") is default_registry().get("duckdb")
    assert get("bigquery").sqlglot_dialect == "bigquery"


def test_unknown_name_is_a_key_error_suggesting_close_names() -> None:
    registry = build_registry(entry_points_=[])
    with pytest.raises(UnknownDialectError) as raised:
        registry.get("postgress")
    assert isinstance(raised.value, KeyError)
    assert isinstance(raised.value, DialectError)
    message = str(raised.value)
    assert "unknown dialect 'postgress'. Did you mean 'postgres'?" in message
    assert "Available: " + ", ".join(BUILT_IN_NAMES) in message


def test_unknown_name_without_close_match_lists_all_without_a_guess() -> None:
    with pytest.raises(KeyError, match="Available: bigquery, clickhouse") as raised:
        build_registry(entry_points_=[]).get("oracle")
    assert "Did you mean" not in str(raised.value)


def test_entry_point_plugin_registers_with_its_distribution_as_origin(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    registry = build_registry(entry_points_=entry_points_of(tmp_path))
    assert registry.get("fixturedb").sqlglot_dialect == "sqlite"
    assert registry.origin("fixturedb") == "expsql-fixture-good"
    assert registry.origin("duckdb") == BUILT_IN


def test_broken_import_is_recorded_with_its_distribution_and_the_others_load(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-broken", {"broken": "fixture_broken_import"})
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    with pytest.warns(RuntimeWarning, match="expsql-fixture-broken") as warned:
        registry = build_registry(entry_points_=entry_points_of(tmp_path))
    assert len(warned) == 1
    (failure,) = registry.failures
    assert (failure.name, failure.distribution) == ("broken", "expsql-fixture-broken")
    assert "ModuleNotFoundError" in failure.error
    assert "expsql_fixture_dependency_that_is_not_installed" in failure.error
    assert registry.available() == sorted([*BUILT_IN_NAMES, "fixturedb"])


def test_two_plugins_claiming_one_name_is_an_error_naming_both_distributions(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    write_distribution(tmp_path, "expsql-fixture-impostor", {"fixturedb": "fixture_duplicate"})
    with pytest.raises(DuplicateDialectError) as raised:
        build_registry(entry_points_=entry_points_of(tmp_path))
    message = str(raised.value)
    assert "'fixturedb' is registered twice" in message
    assert "expsql-fixture-good" in message
    assert "expsql-fixture-impostor" in message
    assert DISABLE_PLUGINS_ENV in message


def test_plugin_claiming_a_built_in_name_is_an_error_naming_built_in(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-shadow", {"duckdb": "fixture_shadows_duckdb"})
    with pytest.raises(DuplicateDialectError, match="by built-in and by expsql-fixture-shadow"):
        build_registry(entry_points_=entry_points_of(tmp_path))


def test_same_plugin_object_twice_is_a_no_op(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    write_distribution(tmp_path, "expsql-fixture-again", {"again": "fixture_dialect"})
    entry_points = entry_points_of(tmp_path)
    assert len(entry_points) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        registry = build_registry(entry_points_=entry_points)
    assert registry.available().count("fixturedb") == 1
    assert len(registry.plugin_manager.get_plugins()) == len(DEFAULT_PLUGINS) + 1


def test_same_dialect_object_from_two_plugins_is_a_no_op(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    write_distribution(tmp_path, "expsql-fixture-reexport", {"reexport": "fixture_reexport"})
    registry = build_registry(entry_points_=entry_points_of(tmp_path))
    assert registry.origin("fixturedb") == "expsql-fixture-good"
    assert not registry.failures


def test_built_in_module_listed_twice_is_a_no_op() -> None:
    registry = build_registry([*DEFAULT_PLUGINS, "expsql.dialects.duckdb"], entry_points_=[])
    assert registry.available() == BUILT_IN_NAMES


def test_misspelled_hookimpl_fails_loudly_and_names_the_hook(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-typo", {"typo": "fixture_misspelled"})
    with pytest.warns(RuntimeWarning, match="expsql_dialect"):
        registry = build_registry(entry_points_=entry_points_of(tmp_path))
    (failure,) = registry.failures
    assert failure.distribution == "expsql-fixture-typo"
    assert "unknown hook 'expsql_dialect'" in failure.error
    assert "misspelled" not in registry.available()
    assert not registry.plugin_manager.has_plugin("expsql-fixture-typo:typo")


def test_unknown_sqlglot_dialect_is_rejected_at_registration(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-nosql", {"nosql": "fixture_unknown_sqlglot"})
    with pytest.warns(RuntimeWarning):
        registry = build_registry(entry_points_=entry_points_of(tmp_path))
    (failure,) = registry.failures
    assert failure.distribution == "expsql-fixture-nosql"
    assert "unknown sqlglot dialect" in failure.error
    assert "no_such_sqlglot_dialect" in failure.error
    assert "nosuchsql" not in registry.available()


def test_hook_that_raises_is_recorded_not_propagated(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-raises", {"raises": "fixture_hook_raises"})
    with pytest.warns(RuntimeWarning, match="configuration is missing"):
        registry = build_registry(entry_points_=entry_points_of(tmp_path))
    (failure,) = registry.failures
    assert (failure.name, failure.distribution) == ("raises", "expsql-fixture-raises")
    assert failure.error == "RuntimeError: the fixture plugin's configuration is missing"
    assert registry.available() == BUILT_IN_NAMES


def test_non_dialect_answer_is_rejected() -> None:
    registry = build_registry(entry_points_=[])
    with pytest.raises(DialectError, match=r"not an expsql\.dialects\.Dialect"):
        registry.add("duckdb", "expsql-fixture")


def test_entry_points_are_discovered_on_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)
    assert build_registry().origin("fixturedb") == "expsql-fixture-good"


def test_disable_plugins_env_loads_no_third_party_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_distribution(tmp_path, "expsql-fixture-impostor", {"fixturedb": "fixture_duplicate"})
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "1")
    registry = build_registry()
    assert registry.available() == BUILT_IN_NAMES


def test_plugin_dialect_is_usable_like_a_built_in(tmp_path: Path) -> None:
    write_distribution(tmp_path, "expsql-fixture-good", {"fixturedb": "fixture_dialect"})
    dialect = build_registry(entry_points_=entry_points_of(tmp_path)).get("fixturedb")
    assert isinstance(dialect, Dialect)
    with pytest.raises(DialectError, match="has no connector"):
        dialect.connect()


def test_importing_and_listing_dialects_imports_no_warehouse_client() -> None:
    program = (
        "import sys, expsql, expsql.dialects\n"
        "assert 'duckdb' in expsql.dialects.available()\n"
        "clients = ('pyspark', 'psycopg', 'google.cloud.bigquery', 'duckdb')\n"
        "print(sorted(m for m in clients if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_importing_the_registry_registers_nothing() -> None:
    program = (
        "import sys, expsql.dialects.registry as r\n"
        "print(r.default_registry.cache_info().currsize, 'expsql.dialects.spark' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "False"]
