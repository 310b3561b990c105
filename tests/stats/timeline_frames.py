"""Timeline rows built by hand for the stats and report tests (no compiler involved): random
units, each entering on a day and clicking on the days after; the metric rows as of day d are
computed here from the units; a variant without activity on a day has no row that day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from expsql.contracts import EXPOSURE_ROW_ID

FIRST = dt.date(2024, 3, 1)
DAYS = 5
WINDOW = {"date_from": FIRST.isoformat(), "date_to": (FIRST + dt.timedelta(days=DAYS - 1)).isoformat()}
QUIET_DAY = FIRST + dt.timedelta(days=2)  # variant b has no activity that day: no rows


def units(seed: int = 1) -> pd.DataFrame:
    """Per unit and day its click count (0 on days it did nothing), the day it entered."""
    rng = np.random.default_rng(seed)
    records = []
    for variant, lift in (("a", 1.0), ("b", 1.3)):
        for unit in range(300):
            entry = int(rng.integers(0, DAYS)) if variant == "a" else int(rng.choice([0, 1, 3, 4]))
            for day in range(entry, DAYS):
                when = FIRST + dt.timedelta(days=day)
                clicks = 0 if variant == "b" and when == QUIET_DAY else int(rng.poisson(0.6 * lift))
                records.append((variant, f"{variant}{unit}", when, day == entry, clicks))
    return pd.DataFrame.from_records(records, columns=["variant", "unit", "day", "entered", "clicks"])


def metric_rows_as_of(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The single look's metric rows of clicks per user (x = clicks, y = 1) on the units by ``day``."""
    per_unit = frame[frame["day"] <= day].groupby(["variant", "unit"], as_index=False)["clicks"].sum()
    rows = []
    for variant, own in per_unit.groupby("variant"):
        x = own["clicks"].to_numpy(dtype=float)
        n = len(x)
        for metric_id, nominator in (("1", x), (EXPOSURE_ROW_ID, np.ones(n))):
            sums = {"sum_x": nominator.sum(), "sum_x2": (nominator**2).sum(), "sum_y": float(n)}
            sums |= {"sum_y2": float(n), "sum_xy": nominator.sum()}
            rows.append({"exp_id": "exp", "exp_variant_id": variant, "metric_id": metric_id, "n": n, **sums})
    return pd.DataFrame(rows)


def timeline_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The timeline query's rows: per day, the rows of the variants with activity that day."""
    parts = []
    for offset in range(DAYS):
        day = FIRST + dt.timedelta(days=offset)
        active = set(frame[(frame["day"] == day) & ((frame["clicks"] > 0) | frame["entered"])]["variant"])
        rows = metric_rows_as_of(frame, day)
        if rows.empty:
            continue
        parts.append(rows[rows["exp_variant_id"].isin(active)].assign(day=day))
    return pd.concat(parts, ignore_index=True)
