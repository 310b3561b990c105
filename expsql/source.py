"""Where the events live: the attributed events table and the names of its columns.

Defaults are the seed layout of DESIGN.md (``events`` with ``exp_id, exp_variant_id, unit_type,
agg_type, goal, unit_id, cnt, value, date``); every name can be changed, because every company's
table differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DimensionType = Literal["string", "integer", "float", "boolean", "date"]


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

    @field_validator("table")
    @classmethod
    def _table_parts(cls, value: str) -> str:
        parts = value.split(".")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise ValueError(f"table {value!r} must be 'table', 'schema.table' or 'catalog.schema.table'")
        return value

    @property
    def table_parts(self) -> tuple[str, ...]:
        """``(catalog, db, table)`` parts present in ``table``, outermost first."""
        return tuple(self.table.split("."))

    def dimension_type(self, name: str) -> DimensionType:
        return self.dimensions.get(name, "string")


def load_source(path: str | Path) -> Source:
    """Read a :class:`Source` from a YAML, TOML or JSON file."""
    from expsql.models import read_mapping

    return Source.model_validate(read_mapping(path))
