"""expsql.toml: tables, defaults, secrets read from environment variables by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from expsql.config import Config, ConfigError, load_config, reject_inline_password, resolve_secrets

CONFIG = """
[run]
dialect = "postgres"
connect = "host=warehouse dbname=analytics user=expsql"
source = "events.yaml"

[connectors.postgres]
password_env = "EXPSQL_TEST_PASSWORD"
connect_timeout = 5

[connectors.spark.config]
"spark.sql.shuffle.partitions" = "8"

[server]
port = 9090
workers = 2
timeout = 12.5
"""


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "expsql.toml"
    path.write_text(text)
    return path


def test_load_config_reads_every_table(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ={})
    assert config.run.dialect == "postgres"
    assert config.run.rows == "metrics"
    assert config.server.port == 9090 and config.server.workers == 2 and config.server.timeout == 12.5
    assert config.server.host == "127.0.0.1"
    assert config.connectors["spark"] == {"config": {"spark.sql.shuffle.partitions": "8"}}


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ={})
    assert config.relative(config.run.source) == tmp_path / "events.yaml"
    assert config.relative(Path("/abs/events.yaml")) == Path("/abs/events.yaml")


def test_secret_comes_from_the_named_environment_variable(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ={})
    options = config.connector_options("postgres", {"EXPSQL_TEST_PASSWORD": "s3cret"})
    assert options == {"password": "s3cret", "connect_timeout": 5}
    assert config.connector_options("bigquery", {}) == {}


def test_unset_secret_variable_is_an_error_naming_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ={})
    message = r"\[connectors\.postgres\]: password_env names \$EXPSQL_TEST_PASSWORD"
    with pytest.raises(ConfigError, match=message):
        config.connector_options("postgres", {})


def test_nested_secrets_are_resolved() -> None:
    options = {"config": {"token_env": "TOKEN", "plain": "x"}}
    assert resolve_secrets(options, {"TOKEN": "t"}) == {"config": {"token": "t", "plain": "x"}}
    with pytest.raises(ConfigError, match="must name an environment variable"):
        resolve_secrets({"password_env": 3}, {})


def test_unknown_keys_and_bad_values_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.prot"):
        load_config(write(tmp_path, "[server]\nprot = 1\n"), environ={})
    with pytest.raises(ConfigError, match=r"server\.workers"):
        load_config(write(tmp_path, "[server]\nworkers = 0\n"), environ={})
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(write(tmp_path, "[server\n"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", environ={})


def test_without_a_file_the_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={}) == Config()


def test_config_found_in_the_working_directory_or_by_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path)
    assert load_config(environ={}).server.port == 9090
    other = tmp_path / "other.toml"
    other.write_text("[server]\nport = 7070\n")
    assert load_config(environ={"EXPSQL_CONFIG": str(other)}).server.port == 7070


@pytest.mark.parametrize(
    "target",
    [
        "postgresql://expsql:hunter2@warehouse/analytics",
        "host=warehouse password=hunter2 dbname=analytics",
        "host=warehouse PASSWORD = hunter2",
        "postgresql://warehouse/analytics?password=hunter2",
    ],
)
def test_a_password_on_the_command_line_is_refused(target: str) -> None:
    with pytest.raises(ConfigError, match="shell history"):
        reject_inline_password(target)


@pytest.mark.parametrize(
    "target", [None, "", "host=warehouse dbname=analytics", "postgresql://expsql@warehouse/db", "demo.duckdb"]
)
def test_targets_without_a_password_are_accepted(target: str | None) -> None:
    reject_inline_password(target)


def test_the_state_table_sets_the_schema_and_the_late_arrival_margin(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[state]\nschema = "warehouse.expsql_state"\nlate_arrival_hours = 6\n')
    )
    assert config.state.schema_ == "warehouse.expsql_state"
    assert config.state.late_arrival_hours == 6


def test_without_a_state_table_there_is_no_schema_and_the_margin_is_the_librarys() -> None:
    from expsql.incremental import LATE_ARRIVAL_HOURS

    assert Config().state.schema_ is None
    assert Config().state.late_arrival_hours == LATE_ARRIVAL_HOURS == 48


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ('schema = "a.b.c"', r"state\.schema"),
        ('schema = ""', r"state\.schema"),
        ("late_arrival_hours = -1", r"state\.late_arrival_hours"),
        ('shema = "expsql_state"', r"state\.shema"),
    ],
)
def test_a_bad_state_table_is_a_config_error(tmp_path: Path, table: str, where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        load_config(write(tmp_path, f"[state]\n{table}\n"), environ={})
