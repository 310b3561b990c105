"""Sample data for ``expsql demo``: a realistic, seeded warehouse in DuckDB, in either layout.

Three variants of a checkout experiment (``a`` control, ``b`` with a real lift in conversion,
``c`` neutral), exposures, page views on buttons, clicks, conversions with revenue by ``product``
and refunds, plus a second experiment sharing the table, as a warehouse would hold them.

The attributed layout is one ``events`` table (:func:`generate_events`). The exposures layout
(:func:`generate_exposures_and_events`) holds the same behaviour as an exposure log and a raw
events table with timestamps, plus what real logs have: some users exposed to a second variant
after their first exposure, and activity before a user's first exposure, like its activity after
(which never counts for a metric, but is what CUPED adjusts with).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from expsql.catalog import Catalog, catalog_from_mapping
from expsql.models import Experiment, validate_experiment
from expsql.source import EventsTable, ExposuresSource, ExposuresTable

#: The two source layouts the demo can write.
Layout = Literal["attributed", "exposures"]

DEMO_EXPERIMENT_ID = "checkout-redesign"
START = dt.date(2026, 11, 2)
DAYS = 14
PRODUCTS = np.array(["p_1", "p_2", "p_3"])
ELEMENTS = np.array(["button-buy", "button-cart", "link-help"])
#: The platform each demo user is exposed on (an exposure attribute, for breakdowns): taken from
#: the user's number, not the random generator, so that the other columns stay as they were.
PLATFORMS = ("web", "ios", "android", "web", "android")
#: Every this-many-th user's platform is unknown (NULL).
UNKNOWN_PLATFORM_EVERY = 40

#: Per-variant multiplier of the conversion probability: ``b`` has a real +12 % lift.
CONVERSION_LIFT = {"a": 1.0, "b": 1.12, "c": 1.0}


#: The demo's metric catalog (``examples/metrics.yaml`` holds the same): every metric the demo's
#: experiments measure, named once. The ids are the numbers the demo's experiment always had.
_EXPOSURES = "count(user.global.exposure)"
DEMO_CATALOG: dict[str, Any] = {
    "metrics": {
        "conversion_rate": {
            "id": 1,
            "name": "Conversion rate",
            "description": "Share of exposed users who bought at least once.",
            "owner": "checkout-team",
            "nominator": "unique(user.unit.conversion)",
            "denominator": _EXPOSURES,
            "minimum_effect": 0.05,
        },
        "revenue_per_user": {
            "id": 2,
            "name": "Revenue per user",
            "description": "Revenue of the purchases per exposed user, refunds not deducted.",
            "owner": "checkout-team",
            "nominator": "value(user.unit.conversion)",
            "denominator": _EXPOSURES,
        },
        "revenue_per_user_p1": {
            "id": 3,
            "name": "Revenue per user, product p_1",
            "description": "Revenue of product p_1 per exposed user.",
            "owner": "catalog-team",
            "nominator": "value(user.unit.conversion(product=p_1))",
            "denominator": _EXPOSURES,
        },
        "buy_button_ctr": {
            "id": 4,
            "name": "Buy-button click-through rate",
            "description": "Clicks on the buy button per view of any button.",
            "owner": "design-team",
            "nominator": "count(user.unit.click(element=button-buy))",
            "denominator": "count(user.unit.view(element=^button-))",
        },
        "net_revenue_per_user": {
            "id": 5,
            "name": "Net revenue per user",
            "description": "Revenue less refunds per exposed user.",
            "owner": "finance",
            "nominator": "value(user.unit.conversion) - value(user.unit.refund)",
            "denominator": _EXPOSURES,
        },
    },
    "checks": {
        "srm": {
            "id": 1,
            "name": "Sample ratio mismatch",
            "description": "Exposed users per variant against the planned split.",
            "owner": "experimentation-platform",
            "type": "SRM",
            "denominator": _EXPOSURES,
        },
    },
}


def demo_catalog() -> Catalog:
    """The demo's metric catalog (:data:`DEMO_CATALOG`), as ``examples/metrics.yaml`` reads."""
    return catalog_from_mapping(DEMO_CATALOG, origin="expsql.demo")


def demo_experiment(*, cuped_lookback_days: float | None = None) -> Experiment:
    """The experiment the demo evaluates: conversion, revenue, CTR, a compound metric, checks, all
    named from :func:`demo_catalog`; adjusted with ``cuped_lookback_days`` of pre-exposure activity
    when given (exposures layout)."""
    return validate_experiment(
        {
            "id": DEMO_EXPERIMENT_ID,
            "control_variant": "a",
            "unit_type": "user",
            "variants": ["a", "b", "c"],
            "date_from": START.isoformat(),
            "date_to": (START + dt.timedelta(days=DAYS - 1)).isoformat(),
            "metrics": list(DEMO_CATALOG["metrics"]),
            "checks": list(DEMO_CATALOG["checks"]),
            "cuped_lookback_days": cuped_lookback_days,
        },
        origin="the demo experiment",
        catalog=demo_catalog(),
    )


def generate_events(units: int = 40_000, seed: int = 2026) -> pd.DataFrame:
    """An attributed events table in the seed layout, one row per event, reproducible by ``seed``."""
    rng = np.random.default_rng(seed)
    frames = [
        _experiment_events(rng, DEMO_EXPERIMENT_ID, units, ["a", "b", "c"], CONVERSION_LIFT),
        _experiment_events(rng, "search-ranking", units // 3, ["control", "treatment"], {}),
    ]
    return pd.concat(frames, ignore_index=True)


def _experiment_events(
    rng: np.random.Generator, exp_id: str, units: int, variants: list[str], lift: dict[str, float]
) -> pd.DataFrame:
    unit_ids = np.array([f"{exp_id[:3]}-{i:06d}" for i in range(units)])
    variant = rng.choice(variants, size=units)
    first_day = rng.integers(0, DAYS, size=units)
    parts = []

    def events(
        goal: str, agg: str, owner: np.ndarray, value: np.ndarray | None = None, **dims: np.ndarray
    ) -> None:
        # Every generated event is one occurrence (cnt 1); only conversions and refunds carry a value.
        day = np.minimum(first_day[owner] + rng.integers(0, 3, size=owner.size), DAYS - 1)
        frame = {
            "exp_id": exp_id,
            "exp_variant_id": variant[owner],
            "unit_type": "user",
            "agg_type": agg,
            "goal": goal,
            "unit_id": unit_ids[owner],
            "cnt": np.ones(owner.size, int),
            "value": np.zeros(owner.size) if value is None else value,
            "date": [START + dt.timedelta(days=int(d)) for d in day],
            "product": dims.get("product"),
            "element": dims.get("element"),
            "platform": dims.get("platform"),
        }
        parts.append(pd.DataFrame(frame))

    everyone = np.arange(units)
    exposed = np.repeat(everyone, rng.integers(1, 4, size=units))
    events("exposure", "global", exposed, platform=demo_platforms(units)[exposed])

    views_per_unit = rng.poisson(2.0, size=units)
    view_owner = np.repeat(everyone, views_per_unit)
    view_element = rng.choice(ELEMENTS, size=view_owner.size, p=[0.5, 0.3, 0.2])
    events("view", "unit", view_owner, element=view_element)
    clicked = rng.random(view_owner.size) < 0.22
    events("click", "unit", view_owner[clicked], element=view_element[clicked])

    multiplier = np.array([lift.get(v, 1.0) for v in variant])
    converted = rng.random(units) < 0.08 * multiplier
    buyers = np.repeat(everyone[converted], rng.integers(1, 3, size=converted.sum()))
    revenue = np.round(rng.gamma(2.0, 25.0, size=buyers.size), 2)
    products = rng.choice(PRODUCTS, size=buyers.size, p=[0.5, 0.3, 0.2])
    events("conversion", "unit", buyers, revenue, product=products)

    refunded = rng.random(buyers.size) < 0.05
    events("refund", "unit", buyers[refunded], revenue[refunded], product=products[refunded])
    return pd.concat(parts, ignore_index=True)


def demo_platforms(units: int) -> np.ndarray:
    """Each user's platform by its number: a few NULL, the rest cycling through :data:`PLATFORMS`."""
    index = np.arange(units)
    platforms = np.array(PLATFORMS, dtype=object)[index % len(PLATFORMS)]
    platforms[index % UNKNOWN_PLATFORM_EVERY == UNKNOWN_PLATFORM_EVERY - 1] = None
    return platforms


#: Shares of the demo's users exposed to a second variant, and with random activity before their
#: exposure; the share of their events also seen, at random times, in the days before it.
SECOND_VARIANT_SHARE = 0.004
EARLY_ACTIVITY_SHARE = 0.03
HISTORY_ECHO_SHARE = 0.5
HISTORY_DAYS = 13


def demo_source() -> ExposuresSource:
    """The source of the exposures-layout demo: the default names, the events' two dimensions and
    the exposures' platform."""
    return ExposuresSource(
        exposures=ExposuresTable(unit_type="user", dimensions={"platform": "string"}),
        events=(EventsTable(dimensions={"product": "string", "element": "string"}),),
    )


def generate_exposures_and_events(units: int = 40_000, seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The users of :func:`generate_events` as ``(exposures, events)`` with timestamps.

    Each exposure and event keeps its day and gets a seeded time of day; an event is moved to
    at least its user's first exposure, so the attributed events are those of the attributed
    layout. Then a few users get an exposure to another variant (the MultipleExposures check
    excludes them), and users get activity before their first exposure: half of their events
    echoed in the 13 days before it (correlated behaviour, what CUPED adjusts with) and, for a
    few, a random view or conversion.
    """
    rng = np.random.default_rng(seed + 1)
    attributed = generate_events(units, seed)
    day = pd.to_datetime(attributed["date"])
    timestamp = day + pd.to_timedelta(rng.integers(0, 86_400, size=len(attributed)), unit="s")
    is_exposure = (attributed["goal"] == "exposure").to_numpy()
    exposures = pd.DataFrame(
        {
            "unit_id": attributed["unit_id"][is_exposure],
            "exp_id": attributed["exp_id"][is_exposure],
            "variant_id": attributed["exp_variant_id"][is_exposure],
            "timestamp": timestamp[is_exposure],
            "platform": attributed["platform"][is_exposure],
        }
    ).reset_index(drop=True)
    first = exposures.groupby("unit_id")["timestamp"].min()
    rows = attributed[~is_exposure]
    moved = np.maximum(timestamp[~is_exposure].to_numpy(), first.reindex(rows["unit_id"]).to_numpy())
    events = pd.DataFrame(
        {
            "unit_id": rows["unit_id"].to_numpy(),
            "event": rows["goal"].to_numpy(),
            "value": rows["value"].to_numpy(),
            "timestamp": moved,
            "product": rows["product"].to_numpy(),
            "element": rows["element"].to_numpy(),
        }
    )
    # A user's history is like its behaviour after exposure, less the treatment's lift: what the
    # treatment changed cannot have happened before it (CUPED's covariate must not depend on it).
    lift = rows["exp_variant_id"].map(CONVERSION_LIFT).fillna(1.0).to_numpy()
    lifted = rows["goal"].isin(["conversion", "refund"]).to_numpy()
    echo = HISTORY_ECHO_SHARE / np.where(lifted, lift, 1.0)
    return _with_second_variants(rng, exposures), _with_history(rng, events, first, echo)


def _with_second_variants(rng: np.random.Generator, exposures: pd.DataFrame) -> pd.DataFrame:
    units = exposures.drop_duplicates("unit_id")
    chosen = units[rng.random(len(units)) < SECOND_VARIANT_SHARE]
    variants = exposures.groupby("exp_id")["variant_id"].unique()
    other = [
        next(v for v in rng.permutation(variants[exp_id]) if v != variant)
        for exp_id, variant in zip(chosen["exp_id"], chosen["variant_id"], strict=True)
    ]
    later = chosen["timestamp"] + pd.to_timedelta(rng.integers(3_600, 86_400, size=len(chosen)), unit="s")
    extra = chosen.assign(variant_id=other, timestamp=later)
    return pd.concat([exposures, extra], ignore_index=True)


def _with_history(
    rng: np.random.Generator, events: pd.DataFrame, first: pd.Series, echo: np.ndarray
) -> pd.DataFrame:
    """Activity before each user's first exposure, like its activity after it (users who view and
    buy a lot did so before too: what CUPED's covariates exploit), plus some at random.

    :param echo: each event's chance to be seen again in the days before the first exposure.
    """
    echoed = events[rng.random(len(events)) < echo]
    start = first.reindex(echoed["unit_id"]).to_numpy()
    before = start - pd.to_timedelta(rng.integers(3_600, HISTORY_DAYS * 86_400, size=len(echoed)), unit="s")
    history = echoed.assign(timestamp=before)
    early = first[rng.random(len(first)) < EARLY_ACTIVITY_SHARE]
    early_before = early - pd.to_timedelta(rng.integers(3_600, 2 * 86_400, size=len(early)), unit="s")
    goal = rng.choice(["view", "conversion"], size=len(early), p=[0.7, 0.3])
    extra = pd.DataFrame(
        {
            "unit_id": early.index,
            "event": goal,
            "value": np.where(goal == "conversion", np.round(rng.gamma(2.0, 25.0, size=len(early)), 2), 0.0),
            "timestamp": early_before.to_numpy(),
            "product": pd.Series(rng.choice(PRODUCTS, size=len(early))).where(goal == "conversion"),
            "element": pd.Series(rng.choice(ELEMENTS, size=len(early))).where(goal == "view"),
        }
    )
    return pd.concat([events, history, extra], ignore_index=True)


def write_demo_database(
    path: str | Path, *, units: int = 40_000, seed: int = 2026, layout: Layout = "attributed"
) -> Path:
    """Write the sample data into a DuckDB file (replaced if present): table ``events`` in the
    attributed layout, tables ``exposures`` and ``events`` in the exposures layout."""
    import duckdb

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout == "exposures":
        exposures, events = generate_exposures_and_events(units, seed)
        tables = {"exposures": exposures, "events": events}
    else:
        tables = {"events": generate_events(units, seed)}
    with duckdb.connect(str(path)) as connection:
        for name, frame in tables.items():
            connection.register("generated", frame)
            # The names are this module's constants, not user input.
            connection.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM generated')
            connection.unregister("generated")
    return path
