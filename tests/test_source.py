"""Source files: the attributed layout and the exposures-and-events layout, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expsql import ExperimentError, load_source
from expsql.source import ExposuresSource, Source, validate_source

EXPOSURES_YAML = """\
exposures:
  table: warehouse.assignments
  columns: {unit_id: account_id, exp_id: experiment, variant: arm, timestamp: assigned_at}
  unit_type: account
  dimensions: {country: string, platform: string}
events:
  table: warehouse.tracking.events
  columns: {unit_id: account_id, goal: event_name, value: null, count: quantity, timestamp: occurred_at}
  dimensions: {product: string, price: integer}
  partition_date: event_date
"""


def test_a_source_with_exposures_and_events_is_the_exposures_layout(tmp_path: Path) -> None:
    path = tmp_path / "source.yaml"
    path.write_text(EXPOSURES_YAML, encoding="utf-8")
    source = load_source(path)
    assert isinstance(source, ExposuresSource)
    assert source.exposures.columns.variant == "arm" and source.exposures.unit_type == "account"
    assert source.events[0].columns.value is None and source.events[0].columns.count == "quantity"
    assert source.events[0].partition_date == "event_date"
    assert source.dimension_type("price") == "integer"
    assert source.dimension_type("country") == "string"
    assert source.dimension_type("undeclared") == "string"


def test_the_same_source_reads_from_toml_and_json(tmp_path: Path) -> None:
    data = {"exposures": {"table": "exposures"}, "events": {"columns": {"goal": "name"}}}
    (tmp_path / "source.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "source.toml").write_text(
        '[exposures]\ntable = "exposures"\n[events.columns]\ngoal = "name"\n', encoding="utf-8"
    )
    assert load_source(tmp_path / "source.json") == load_source(tmp_path / "source.toml")


def test_the_defaults_are_the_documented_names() -> None:
    source = validate_source({"exposures": {}, "events": {}})
    assert isinstance(source, ExposuresSource)
    assert (source.exposures.table, source.events[0].table) == ("exposures", "events")
    assert tuple(source.exposures.columns.model_dump().values()) == (
        "unit_id",
        "exp_id",
        "variant_id",
        "timestamp",
    )
    assert source.events[0].columns.model_dump() == {
        "unit_id": "unit_id",
        "goal": "event",
        "value": "value",
        "count": None,
        "timestamp": "timestamp",
    }


def test_a_seed_source_file_still_loads_as_the_attributed_layout() -> None:
    assert validate_source({"table": "events", "columns": {"agg_type": None}}) == Source(
        columns={"agg_type": None}  # type: ignore[arg-type]
    )
    assert validate_source({}) == Source()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"exposures": {}}, "events: missing: the exposures-and-events layout needs both"),
        ({"events": {}}, "exposures: missing"),
        ({"exposures": {"tabel": "x"}, "events": {}}, "exposures.tabel: Extra inputs are not permitted"),
        ({"exposures": {}, "events": {"columns": {"goal_name": "x"}}}, "events.columns.goal_name: Extra"),
        (
            {"exposures": {"columns": {"unit_id": "id", "timestamp": "id"}}, "events": {}},
            "exposures: column 'id' is named by both unit_id and timestamp",
        ),
        (
            {"exposures": {}, "events": {"columns": {"timestamp": "day"}, "partition_date": "day"}},
            "column 'day' is named by both timestamp and partition_date",
        ),
        ({"exposures": {"table": "a..b"}, "events": {}}, "exposures.table: .*must be 'table'"),
        ({"exposures": {"unit_type": "user type"}, "events": {}}, "exposures.unit_type: .*letters, digits"),
        (
            {"exposures": {"dimensions": {"x": "integer"}}, "events": {"dimensions": {"x": "string"}}},
            "dimension 'x' is integer in exposures.dimensions but string in events.dimensions",
        ),
        ({"table": "events", "exposures": {}}, "table: Extra inputs are not permitted"),
    ],
)
def test_a_bad_source_names_the_key(data: dict, message: str) -> None:
    with pytest.raises(ExperimentError, match=message):
        validate_source(data, origin="source.yaml")


def test_a_bad_source_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("exposures: {table: exposures}\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"bad\.yaml: events: missing"):
        load_source(path)


def test_every_configured_name_is_listed_for_the_checks_on_names() -> None:
    source = validate_source({"exposures": {"table": "db.x"}, "events": {"partition_date": "day"}})
    names = dict(source.names())
    assert names["exposures.table part"] == "x" and names["events.partition_date"] == "day"
    assert dict(source.names(split_tables=False))["exposures.table"] == "db.x"
    assert names["events.columns.goal"] == "event" and "events.columns.count" not in names
