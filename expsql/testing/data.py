"""The kit's reference data: both source layouts, with the cases that break warehouses.

:func:`reference_tables` returns three DataFrames, named by :data:`TABLES`:

- ``attributed``: the seed layout (:func:`expsql.testing.events.generate_events`, two experiments,
  both unit types) plus
  - dimension values no metric can spell, so only correct quoting keeps them apart
    (:data:`HOSTILE_VALUES`: quotes, backslashes, ``%``, ``_``, non-ASCII, SQL) in ``product``
    and ``platform``;
  - the goal ``add_to_cart`` beside the decoy ``addXtoXcart``, which an unescaped ``LIKE`` on
    the goal name would match (goal names are ASCII letters, digits and ``_`` by the grammar, so
    no quote or non-ASCII letter can reach a goal name);
  - a count of 3,000,000,000 (past a 32-bit integer; its square still fits a 64-bit one);
  - NULL dimension values, counts and values; units with only an exposure; goals without one.
- ``exposures`` and ``events``: the exposures layout
  (:func:`expsql.testing.exposure_events.generate_exposures_and_events`): events before the first
  exposure, exactly at ``t0``, at each edge of the conversion delay and window and of the
  experiment's end, units exposed to two variants (and a tie at one second), NULL in every key,
  never-exposed units; plus the hostile values in the events' ``product`` and the exposures'
  ``country`` (a breakdown column), and the ``add_to_cart`` goal with its decoy.

The data is small (a few thousand rows) so the kit runs in seconds on an embedded engine and in
one round trip per case on a warehouse; every value is deterministic.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from expsql.source import DimensionType, ExposuresSource, Source, validate_source
from expsql.testing.events import DIMENSION_TYPES, generate_events
from expsql.testing.exposure_events import SOURCE as EXPOSURES_COLUMNS
from expsql.testing.exposure_events import generate_exposures_and_events

#: Dimension values only correct quoting keeps apart (none can be written in a metric's filter).
HOSTILE_VALUES = (
    "it's",
    'say "hi"',
    "back\\slash",
    "C:\\new\\table",
    "50%_off",
    "50% off",
    "p_1%",
    "p_1'; DROP TABLE events; --",
    "naïve",
    "日本語",
    "Ω_1",
)
#: A goal whose ``_`` an unescaped ``LIKE`` would read as any character, and the decoy it would match.
UNDERSCORE_GOAL, UNDERSCORE_DECOY = "add_to_cart", "addXtoXcart"
#: A count past the 32-bit range: a warehouse summing counts in 32 bits overflows on it.
LARGE_COUNT = 3_000_000_000
#: The reference tables' names (before a user's schema): layout → table.
TABLES = {
    "attributed": "expsql_kit_attributed",
    "exposures": "expsql_kit_exposures",
    "events": "expsql_kit_events",
    "page_events": "expsql_kit_page_events",
    "purchases": "expsql_kit_purchases",
}
#: The raw events split in two tables with their own column names (several events tables): page
#: events with a goal column of their own, and purchases, every row one goal (no goal column).
PAGE_COLUMNS = {"unit_id": "user_id", "goal": "action", "timestamp": "ts", "value": "points"}
PURCHASE_COLUMNS = {"unit_id": "customer_id", "value": "amount", "timestamp": "ordered_at"}
SEED = 23


def _hostile(column: pd.Series, rng: np.random.Generator, share: float) -> pd.Series:
    """``column`` with a ``share`` of its non-NULL cells replaced by hostile values (every one used)."""
    values = column.astype(object).copy()
    replace = np.flatnonzero(values.notna().to_numpy() & (rng.random(len(values)) < share))
    picks = [HOSTILE_VALUES[i % len(HOSTILE_VALUES)] for i in range(len(replace))]
    values.iloc[replace] = picks
    return values


def _attributed() -> pd.DataFrame:
    events = generate_events(SEED, experiments=2, units=120)
    rng = np.random.default_rng(SEED)
    events["product"] = _hostile(events["product"], rng, 0.25)
    events["platform"] = _hostile(events["platform"], rng, 0.1)
    goals = events["goal"].to_numpy(dtype=object).copy()
    clicks = np.flatnonzero(goals == "click")
    goals[clicks[::3]] = UNDERSCORE_GOAL
    goals[clicks[1::3][::2]] = UNDERSCORE_DECOY
    events["goal"] = goals
    first_click = int(np.flatnonzero((goals == "click") & (events["exp_id"] == "exp-1").to_numpy())[0])
    events.loc[first_click, "cnt"] = LARGE_COUNT
    return events.reset_index(drop=True)


def _exposures_layout() -> tuple[pd.DataFrame, pd.DataFrame]:
    exposures, events = generate_exposures_and_events(SEED, units=160)
    rng = np.random.default_rng([SEED, 1])
    events["product"] = _hostile(events["product"], rng, 0.25)
    exposures["country"] = _hostile(exposures["country"], rng, 0.15)
    goals = events["event"].to_numpy(dtype=object).copy()
    clicks = np.flatnonzero(goals == "click")
    goals[clicks[::4]] = UNDERSCORE_GOAL
    goals[clicks[2::4][::2]] = UNDERSCORE_DECOY
    events["event"] = goals
    return exposures, events


@cache
def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (_attributed(), *_exposures_layout())


def reference_tables() -> dict[str, pd.DataFrame]:
    """The reference data, table role (:data:`TABLES`) → a fresh copy; ``page_events`` and
    ``purchases`` are ``events`` split in two."""
    attributed, exposures, events = _tables()
    purchase = (events["event"] == "purchase").to_numpy()
    renamed = {"unit_id": "user_id", "event": "action", "timestamp": "ts", "value": "points"}
    pages = events[~purchase].rename(columns=renamed).reset_index(drop=True)
    bought = {"unit_id": "customer_id", "value": "amount", "timestamp": "ordered_at"}
    purchases = events[purchase].drop(columns=["event"]).rename(columns=bought).reset_index(drop=True)
    return {
        "attributed": attributed.copy(),
        "exposures": exposures.copy(),
        "events": events.copy(),
        "page_events": pages,
        "purchases": purchases,
    }


def table_name(role: str, schema: str | None = None) -> str:
    """The name a reference table is written under, qualified by ``schema`` when given."""
    return f"{schema}.{TABLES[role]}" if schema else TABLES[role]


def attributed_source(schema: str | None = None) -> Source:
    """The :class:`~expsql.source.Source` of the attributed reference table."""
    dimensions: dict[str, DimensionType] = dict(DIMENSION_TYPES)  # type: ignore[arg-type]
    return Source(table=table_name("attributed", schema), dimensions=dimensions)


def exposures_source(schema: str | None = None) -> ExposuresSource:
    """The :class:`~expsql.source.ExposuresSource` of the exposures and events reference tables."""
    names: dict[str, Any] = {
        "exposures": {**EXPOSURES_COLUMNS["exposures"], "table": table_name("exposures", schema)},
        "events": {**EXPOSURES_COLUMNS["events"], "table": table_name("events", schema)},
    }
    source = validate_source(names)
    assert isinstance(source, ExposuresSource)
    return source


def event_tables_source(schema: str | None = None) -> ExposuresSource:
    """The exposures reference tables with the raw events as two tables (page events and
    purchases), which every goal of the reference experiments resolves to."""
    pages = {
        "table": table_name("page_events", schema),
        "goals": ["click", "view", UNDERSCORE_GOAL, UNDERSCORE_DECOY],
        "columns": PAGE_COLUMNS,
        "dimensions": {"product": "string"},
    }
    purchases = {
        "table": table_name("purchases", schema),
        "goal": "purchase",
        "columns": PURCHASE_COLUMNS,
        "dimensions": {"product": "string"},
    }
    exposures = {**EXPOSURES_COLUMNS["exposures"], "table": table_name("exposures", schema)}
    source = validate_source({"exposures": exposures, "events": [pages, purchases]})
    assert isinstance(source, ExposuresSource)
    return source
