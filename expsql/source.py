"""Where the events live: the two source layouts and the names of their tables and columns.

- :class:`Source`, the attributed layout (the default): the seed's one events table, every event
  already attributed to its experiment and variant (``events`` with ``exp_id, exp_variant_id,
  unit_type, agg_type, goal, unit_id, cnt, value, date``).
- :class:`ExposuresSource`, the exposures-and-events layout: an exposure log (``unit_id, exp_id,
  variant_id, timestamp``) and a raw events table (``unit_id, event, value, timestamp``); the
  query attributes the events (:mod:`expsql.compiler.layouts.exposures`).

Every name can be changed, because every company's tables differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from expsql.errors import ExperimentError
from expsql.files import read_mapping

DimensionType = Literal["string", "integer", "float", "boolean", "date"]


def _table_parts(cls: type, value: str) -> str:
    parts = value.split(".")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"table {value!r} must be 'table', 'schema.table' or 'catalog.schema.table'")
    return value


def unit_type_name(cls: type, value: str) -> str:
    """A unit type is a name of letters, digits and '_' (it is a literal in the metric language)."""
    if not value.replace("_", "a").isalnum() or value[0].isdigit():
        raise ValueError(f"unit_type {value!r} must be a name of letters, digits and '_'")
    return value


class Columns(BaseModel):
    """Column names of the events table. ``agg_type`` may be ``None`` when the table has none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exp_id: str = "exp_id"
    exp_variant_id: str = "exp_variant_id"
    unit_type: str = "unit_type"
    agg_type: str | None = "agg_type"
    goal: str = "goal"
    unit_id: str = "unit_id"
    cnt: str = "cnt"
    value: str = "value"
    date: str = "date"


class Source(BaseModel):
    """The attributed events table: its name, its columns and its dimension columns' types.

    ``table`` may be qualified (``project.dataset.events``). A dimension referenced by a metric
    but not listed in ``dimensions`` is read from the column of the same name as a string.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = "events"
    columns: Columns = Field(default_factory=Columns)
    dimensions: dict[str, DimensionType] = Field(default_factory=dict)

    _table = field_validator("table")(_table_parts)

    @property
    def table_parts(self) -> tuple[str, ...]:
        """``(catalog, db, table)`` parts present in ``table``, outermost first."""
        return tuple(self.table.split("."))

    def dimension_type(self, name: str) -> DimensionType:
        return self.dimensions.get(name, "string")

    def names(self, *, split_tables: bool = True) -> list[tuple[str, str]]:
        """Every configured name the query carries, with what it names; tables whole or by part."""
        if split_tables:
            names = [("table name part", part) for part in self.table_parts]
        else:
            names = [("table", self.table)]
        return names + [(f"column {field}", name) for field, name in self.columns if name is not None]


# --- the exposures-and-events layout --------------------------------------------------------


class ExposureColumns(BaseModel):
    """Column names of the exposure (assignment) log."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit_id: str = "unit_id"
    exp_id: str = "exp_id"
    variant: str = "variant_id"
    timestamp: str = "timestamp"


class EventColumns(BaseModel):
    """Column names of the raw events table. ``count: None`` counts each row once; ``value: None``
    means the events carry no value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit_id: str = "unit_id"
    goal: str = "event"
    value: str | None = "value"
    count: str | None = None
    timestamp: str = "timestamp"


class ExposuresTable(BaseModel):
    """The exposure log: which unit saw which variant of which experiment, and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = "exposures"
    columns: ExposureColumns = Field(default_factory=ExposureColumns)
    unit_type: str = Field(default="user", description="The unit type the log's ids are.")
    dimensions: dict[str, DimensionType] = Field(default_factory=dict)

    _table = field_validator("table")(_table_parts)

    _unit_type_is_a_name = field_validator("unit_type")(unit_type_name)

    @model_validator(mode="after")
    def _distinct_columns(self) -> ExposuresTable:
        _reject_repeated_columns(self.columns)
        return self


class EventsTable(BaseModel):
    """The raw events: what each unit did, and when, with no experiment on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = "events"
    columns: EventColumns = Field(default_factory=EventColumns)
    dimensions: dict[str, DimensionType] = Field(default_factory=dict)
    partition_date: str | None = Field(
        default=None,
        description="A DATE column the table is partitioned by, holding the date of the event's "
        "timestamp; the query bounds it so the warehouse reads only the partitions it needs.",
    )

    _table = field_validator("table")(_table_parts)

    @model_validator(mode="after")
    def _distinct_columns(self) -> EventsTable:
        _reject_repeated_columns(self.columns, partition_date=self.partition_date)
        return self


class ExposuresSource(BaseModel):
    """The exposures-and-events layout: units, variants and first exposures come from the exposure
    log, and each event is attributed to its unit's variant in the query (README, "Source layouts").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    exposures: ExposuresTable
    events: EventsTable

    @model_validator(mode="after")
    def _dimension_types_agree(self) -> ExposuresSource:
        for name, kind in self.exposures.dimensions.items():
            other = self.events.dimensions.get(name)
            if other is not None and other != kind:
                raise ValueError(
                    f"dimension {name!r} is {kind} in exposures.dimensions but {other} in "
                    "events.dimensions; a dimension has one type"
                )
        return self

    def dimension_type(self, name: str) -> DimensionType:
        return self.events.dimensions.get(name) or self.exposures.dimensions.get(name, "string")

    def names(self, *, split_tables: bool = True) -> list[tuple[str, str]]:
        """Every configured name the query carries, with the key that configured it; tables whole
        or by part."""
        names: list[tuple[str, str]] = []
        for key, table in (("exposures.table", self.exposures.table), ("events.table", self.events.table)):
            if split_tables:
                names += [(f"{key} part", part) for part in table.split(".")]
            else:
                names.append((key, table))
        names += [(f"exposures.columns.{key}", name) for key, name in self.exposures.columns]
        names += [(f"events.columns.{key}", name) for key, name in self.events.columns if name is not None]
        if self.events.partition_date is not None:
            names.append(("events.partition_date", self.events.partition_date))
        return names


#: What a source file describes: the attributed events table, or exposures and events.
AnySource = Source | ExposuresSource


def _reject_repeated_columns(columns: BaseModel, *, partition_date: str | None = None) -> None:
    named: dict[str, str] = {}
    pairs = [(key, name) for key, name in columns if name is not None]
    if partition_date is not None:
        pairs.append(("partition_date", partition_date))
    for key, name in pairs:
        if name in named:
            raise ValueError(f"column {name!r} is named by both {named[name]} and {key}")
        named[name] = key


def load_source(path: str | Path) -> AnySource:
    """Read a source file (YAML, TOML or JSON): the attributed events table, or ``exposures`` and
    ``events`` for the exposures-and-events layout.

    :raises ExperimentError: an unknown key, a missing section, a column named twice, a bad value;
        the message names the key.
    """
    return validate_source(read_mapping(path), origin=str(path))


def validate_source(data: dict[str, Any], *, origin: str = "source") -> AnySource:
    """A source from its mapping, the layout chosen by its keys (``exposures`` or ``events`` mean
    the exposures-and-events layout), pydantic's errors turned into an :class:`ExperimentError`."""
    model: type[Source] | type[ExposuresSource] = (
        ExposuresSource if {"exposures", "events"} & set(data) else Source
    )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            where = ".".join(str(part) for part in detail["loc"]) or "(top level)"
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"] == "missing" and model is ExposuresSource and len(detail["loc"]) == 1:
                message = "missing: the exposures-and-events layout needs both exposures and events"
            problems.append(f"{where}: {message}")
        raise ExperimentError(f"{origin}: {'; '.join(problems)}") from None
