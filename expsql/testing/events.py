"""Random attributed events for tests: one table in the seed layout, several experiments in it.

:func:`generate_events` returns a pandas DataFrame with the seed columns (``exp_id, exp_variant_id,
unit_type, agg_type, goal, unit_id, cnt, value, date``) plus two dimension columns: ``product``
(a string with NULLs, values chosen to trip naive SQL: ``p_1`` and ``p_10`` share a prefix, ``pa1``
matches the unescaped pattern ``p_%``, ``p%1`` holds a literal ``%``) and ``price`` (an integer with
NULLs, where numeric and lexicographic order disagree: ``9 < 10`` but ``'9' > '10'``), and
``platform`` on every event, exposures included (a string with NULLs, for exposure filters).

The data is engine-agnostic: load it into DuckDB, PostgreSQL or Spark and compare the compiled
query's rows with :mod:`expsql.testing.reference`. What it exercises:

- several experiments (``exp-1``, ``exp-2``, ...) sharing unit ids, so the exp_id filter matters;
- two to three variants per experiment and two unit types (``user``, ``session``);
- exposures (``global``) and goals with both ``cnt`` and ``value`` (``click``, ``view``,
  ``conversion``, ``refund``), some ``cnt``/``value`` NULL;
- units with only an exposure, units with goals but no exposure (not counted in metric rows),
  units exposed more than once, and dates over two weeks so date windows cut through units.

:func:`columns_renamed` maps the table onto other column names, for ``Source.columns`` tests.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SEED_COLUMNS = (
    "exp_id",
    "exp_variant_id",
    "unit_type",
    "agg_type",
    "goal",
    "unit_id",
    "cnt",
    "value",
    "date",
)
#: The ``Source.dimensions`` that describes the generated table.
DIMENSION_TYPES = {"product": "string", "price": "integer", "platform": "string"}
PRODUCTS = ("p_1", "p_2", "p_10", "pa1", "p%1", "q_1")
PLATFORMS = ("web", "ios", "android")
GOALS = ("click", "view", "conversion", "refund")
FIRST_DAY = dt.date(2024, 3, 1)
DAYS = 14


def generate_events(
    seed: int = 0,
    *,
    experiments: int = 3,
    units: int = 300,
    max_events_per_unit: int = 8,
) -> pd.DataFrame:
    """A random attributed events table (see the module docstring for what it contains).

    :param seed: the random generator's seed; the same seed gives the same table.
    :param experiments: how many experiments share the table (``exp-1`` ... ``exp-N``).
    :param units: units per experiment and unit type.
    :param max_events_per_unit: upper bound of goal events per unit.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    for number in range(1, experiments + 1):
        exp_id = f"exp-{number}"
        variants = ["a", "b", "c"][: 2 + number % 2]
        for unit_type in ("user", "session"):
            for unit in range(units):
                unit_id = f"{unit_type[0]}{unit}"
                variant = variants[rng.integers(len(variants))]
                exposed = rng.random() > 0.1
                if exposed:
                    for _ in range(1 + rng.poisson(0.3)):
                        rows.append(_event(rng, exp_id, variant, unit_type, "global", "exposure", unit_id))
                for _ in range(rng.integers(0, max_events_per_unit + 1)):
                    goal = GOALS[rng.integers(len(GOALS))]
                    agg_type = "global" if rng.random() < 0.1 else "unit"
                    rows.append(_event(rng, exp_id, variant, unit_type, agg_type, goal, unit_id))
    frame = pd.DataFrame.from_records(rows, columns=[*SEED_COLUMNS, "product", "price"])
    frame["cnt"] = frame["cnt"].astype("Int64")
    frame["value"] = frame["value"].astype("Float64")
    frame["price"] = frame["price"].astype("Int64")
    # A generator of its own, so the other columns stay what they were before ``platform`` existed.
    platforms = np.random.default_rng([seed, 1])
    picks = platforms.integers(len(PLATFORMS), size=len(frame))
    missing = platforms.random(len(frame)) < 0.05
    frame["platform"] = [None if gone else PLATFORMS[pick] for pick, gone in zip(picks, missing, strict=True)]
    return frame


def _event(
    rng: np.random.Generator,
    exp_id: str,
    variant: str,
    unit_type: str,
    agg_type: str,
    goal: str,
    unit_id: str,
) -> tuple:
    date = FIRST_DAY + dt.timedelta(days=int(rng.integers(DAYS)))
    if goal == "exposure":
        return (exp_id, variant, unit_type, agg_type, goal, unit_id, 1, None, date, None, None)
    cnt = None if rng.random() < 0.05 else int(rng.integers(0, 4))
    value = None if rng.random() < 0.1 else round(float(rng.gamma(2.0, 7.5)), 2)
    product = None if rng.random() < 0.1 else PRODUCTS[rng.integers(len(PRODUCTS))]
    price = None if rng.random() < 0.1 else int(rng.integers(0, 21))
    return (exp_id, variant, unit_type, agg_type, goal, unit_id, cnt, value, date, product, price)


def columns_renamed(events: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The same table with some columns renamed (``{"exp_id": "experiment"}``), for custom sources."""
    return events.rename(columns=names)
