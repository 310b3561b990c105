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
from expsql.grammar.names import grammar_name

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
    """The raw events: what each unit did, and when, with no experiment on it.

    One of several tables (``events`` as a list) says which goals it holds: ``goal``, the one
    goal of its every row (its goal column is not read: ``orders`` → ``purchase``), or
    ``goals``, the goals its goal column holds.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = "events"
    columns: EventColumns = Field(default_factory=EventColumns)
    dimensions: dict[str, DimensionType] = Field(default_factory=dict)
    partition_date: str | None = Field(
        default=None,
        description="A DATE column the table is partitioned by, holding the date of the event's "
        "timestamp; the query bounds it so the warehouse reads only the partitions it needs.",
    )
    goal: str | None = Field(default=None, description="The goal of every row (no goal column).")
    goals: tuple[str, ...] | None = Field(default=None, description="The goals the goal column holds.")
    unit_id_type: Literal["string", "integer"] | None = Field(
        default=None,
        description="The exposure log's unit id type, when this table's differs: its unit ids are "
        "cast to it before they are matched with the log's.",
    )

    _table = field_validator("table")(_table_parts)

    @model_validator(mode="after")
    def _distinct_columns(self) -> EventsTable:
        if self.goal is not None and self.goals is not None:
            raise ValueError(
                "goal and goals both set: a table holds one goal (goal) or reads its goal column (goals)"
            )
        for name in [*([self.goal] if self.goal else []), *(self.goals or ())]:
            grammar_name(name, "GOAL", "goal")
        columns = self.columns if self.goal is None else self.columns.model_copy(update={"goal": None})
        _reject_repeated_columns(columns, partition_date=self.partition_date)
        return self

    @property
    def goal_column(self) -> str | None:
        """The column holding each row's goal (``None``: every row is :attr:`goal`)."""
        return None if self.goal is not None else self.columns.goal

    def holds(self, goal: str) -> bool | None:
        """Whether the table holds ``goal`` (``None``: it does not say; it holds any goal)."""
        if self.goal is not None:
            return goal == self.goal
        return None if self.goals is None else goal in self.goals

    def declared_goals(self) -> tuple[str, ...]:
        return (self.goal,) if self.goal is not None else self.goals or ()


class ExposuresSource(BaseModel):
    """The exposures-and-events layout: units, variants and first exposures come from the exposure
    log, and each event is attributed to its unit's variant in the query (README, "Source layouts").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    exposures: ExposuresTable
    #: The raw events tables; a file may give one table (a mapping) or several (a list), each of
    #: several saying which goals it holds.
    events: tuple[EventsTable, ...]

    @field_validator("events", mode="before")
    @classmethod
    def _one_or_several(cls, value: Any) -> Any:
        return (value,) if isinstance(value, dict | EventsTable) else value

    @model_validator(mode="after")
    def _dimension_types_agree(self) -> ExposuresSource:
        tables = self.events
        if not tables:
            raise ValueError("events: an empty list; name at least one events table")
        if len(tables) > 1:
            silent = [table.table for table in tables if table.goal is None and table.goals is None]
            if silent:
                raise ValueError(
                    f"events: with several tables each says which goals it holds (goal, or goals): "
                    f"{', '.join(map(repr, silent))} does not"
                )
        where: dict[str, tuple[DimensionType, str]] = {
            name: (kind, "exposures.dimensions") for name, kind in self.exposures.dimensions.items()
        }
        for index, table in enumerate(tables):
            key = "events.dimensions" if len(tables) == 1 else f"events.{index}.dimensions"
            for name, kind in table.dimensions.items():
                other = where.setdefault(name, (kind, key))
                if other[0] != kind:
                    raise ValueError(
                        f"dimension {name!r} is {other[0]} in {other[1]} but {kind} in {key}; "
                        "a dimension has one type"
                    )
        return self

    def dimension_type(self, name: str) -> DimensionType:
        for table in self.events:
            if name in table.dimensions:
                return table.dimensions[name]
        return self.exposures.dimensions.get(name, "string")

    def names(self, *, split_tables: bool = True) -> list[tuple[str, str]]:
        """Every configured name the query carries, with the key that configured it; tables whole
        or by part."""
        tables = self.events
        prefixes = ["events"] if len(tables) == 1 else [f"events.{index}" for index in range(len(tables))]
        names: list[tuple[str, str]] = []
        pairs = [("exposures.table", self.exposures.table)]
        pairs += [(f"{prefix}.table", table.table) for prefix, table in zip(prefixes, tables, strict=True)]
        for key, name in pairs:
            if split_tables:
                names += [(f"{key} part", part) for part in name.split(".")]
            else:
                names.append((key, name))
        names += [(f"exposures.columns.{key}", name) for key, name in self.exposures.columns]
        for prefix, table in zip(prefixes, tables, strict=True):
            columns = [(key, name) for key, name in table.columns if name is not None]
            names += [
                (f"{prefix}.columns.{key}", name)
                for key, name in columns
                if key != "goal" or table.goal is None
            ]
            if table.partition_date is not None:
                names.append((f"{prefix}.partition_date", table.partition_date))
            if table.goal is not None:
                names.append((f"{prefix}.goal", table.goal))
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
        one_table = isinstance(data.get("events"), dict)
        for detail in error.errors():
            loc = detail["loc"]
            if one_table and loc[:2] == ("events", 0):  # the key as the file spells it
                loc = ("events", *loc[2:])
            where = ".".join(str(part) for part in loc) or "(top level)"
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"] == "missing" and model is ExposuresSource and len(detail["loc"]) == 1:
                message = "missing: the exposures-and-events layout needs both exposures and events"
            problems.append(f"{where}: {message}")
        raise ExperimentError(f"{origin}: {'; '.join(problems)}") from None
