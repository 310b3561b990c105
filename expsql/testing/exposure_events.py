"""Random exposures and raw events for tests of the exposures-and-events layout.

:func:`generate_exposures_and_events` returns two pandas DataFrames with the default column names of
:class:`expsql.source.ExposuresSource`:

- exposures: ``unit_id, exp_id, variant_id, timestamp`` plus two dimensions, ``platform`` and
  ``country`` (strings with NULLs);
- events: ``unit_id, event, value, timestamp`` plus the dimension ``product`` (a string with NULLs,
  values chosen to trip naive SQL: ``p_1`` and ``p_10`` share a prefix, ``pa1`` matches the
  unescaped pattern ``p_%``, ``p%1`` holds a literal ``%``) and ``count`` (an integer with NULLs,
  read only when ``EventColumns.count`` names it; the default source ignores it).

Timestamps are naive ``datetime64[ns]`` in whole seconds, unit ids are strings, variants are
strings. The data is engine-agnostic: load it into DuckDB, PostgreSQL or Spark and compare the
compiled query's rows with :mod:`expsql.testing.attribution_reference`.

The tests are meant to evaluate the window ``date_from = FIRST_DAY``, ``date_to = LAST_DAY``
(seven days, :data:`DATE_FROM`, :data:`DATE_TO`), so the experiment ends at :data:`END`
(``LAST_DAY + 1 day 00:00``), and the attribution window :data:`DELAY_HOURS` (1 h) with
:data:`WINDOW_HOURS` (24 h). The data spans a few days on both sides of that window. What it holds:

- experiments ``exp-1`` (variants ``a, b``) and ``exp-2`` (``a, b, c``) over the same unit ids
  ``u0 ... u<units-1>``, so the exp_id condition matters;
- units exposed several times, units exposed to two variants (in window), units whose other
  variant was seen only outside the window (not a multiple exposure for the intended window),
  two exposures at the same second to two variants (``x-tie``: the tie of ``multiple_exposures:
  first`` goes to the smaller variant text, ``a``);
- exposures before ``date_from``, after ``date_to``, exactly at ``FIRST_DAY 00:00`` (in), at
  ``END - 1 s`` (in) and at ``END`` (out); a unit exposed only outside the window (``x-outonly``);
- exposure rows with a NULL unit id, a NULL variant, a NULL timestamp, a NULL exp_id;
- events before the unit's first exposure (random, plus exactly ``t0 - 1 s``), exactly at ``t0``,
  at ``t0 + delay - 1 s`` and ``t0 + delay``, at ``t0 + delay + window - 1 s`` and exactly at
  ``t0 + delay + window`` (for the intended window, with ``t0`` of ``exp-1`` for every third
  unit and of ``exp-2`` for every fifth), at ``END - 1 s`` and exactly at ``END``, and at
  ``FIRST_DAY 00:00 - 1 s``;
- events of units never exposed (``n0 ... n9``), events with a NULL unit id, a NULL timestamp, a
  NULL value, a NULL product, a NULL count, and events whose goal is literally ``exposure``
  (never counted: the exposure goal reads the exposure log only).

Goals: ``click``, ``view``, ``purchase`` (with values), and ``exposure`` (the decoy).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: The first day of the window the tests evaluate (``date_from``).
FIRST_DAY = dt.date(2024, 3, 1)
#: The last day of that window (``date_to``): ``FIRST_DAY + 6 days``.
LAST_DAY = FIRST_DAY + dt.timedelta(days=6)
DATE_FROM = FIRST_DAY
DATE_TO = LAST_DAY
#: The first instant after the experiment: ``LAST_DAY + 1 day`` at 00:00 (exclusive end).
END = dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time())
#: The attribution window the boundary events are placed for.
DELAY_HOURS = 1
WINDOW_HOURS = 24

#: Experiments and their variants.
EXPERIMENTS: dict[str, tuple[str, ...]] = {"exp-1": ("a", "b"), "exp-2": ("a", "b", "c")}
GOALS = ("click", "view", "purchase")
PRODUCTS = ("p_1", "p_2", "p_10", "pa1", "p%1", "q_1")
PLATFORMS = ("web", "ios", "android")
COUNTRIES = ("cz", "de", "us")

EXPOSURE_COLUMNS = ("unit_id", "exp_id", "variant_id", "timestamp", "platform", "country")
EVENT_COLUMNS = ("unit_id", "event", "value", "timestamp", "product", "count")
#: The ``ExposuresSource`` mapping (for ``expsql.source.validate_source``) describing the tables.
SOURCE = {
    "exposures": {"dimensions": {"platform": "string", "country": "string"}},
    "events": {"dimensions": {"product": "string"}},
}

_START = dt.datetime.combine(FIRST_DAY, dt.time())
_SECOND = dt.timedelta(seconds=1)
_HOUR = dt.timedelta(hours=1)


def generate_exposures_and_events(seed: int = 0, *, units: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(exposures, events)``, random but reproducible (see the module docstring for the content).

    :param seed: the random generator's seed; the same seed gives the same tables.
    :param units: unit ids ``u0 ... u<units-1>`` shared by the experiments.
    """
    rng = np.random.default_rng(seed)
    exposures: list[tuple] = []
    events: list[tuple] = []

    def expose(unit: str | None, exp_id: str | None, variant: str | None, when: dt.datetime | None) -> None:
        platform = None if rng.random() < 0.1 else PLATFORMS[rng.integers(len(PLATFORMS))]
        country = None if rng.random() < 0.1 else COUNTRIES[rng.integers(len(COUNTRIES))]
        exposures.append((unit, exp_id, variant, when, platform, country))

    def event(unit: str | None, when: dt.datetime | None, goal: str | None = None) -> None:
        goal = goal or GOALS[rng.choice(len(GOALS), p=[0.45, 0.35, 0.2])]
        value = None if rng.random() < 0.1 else round(float(rng.gamma(2.0, 7.5)), 2)
        if goal == "click" and value is not None:
            value = float(rng.integers(0, 3))
        product = None if rng.random() < 0.1 else PRODUCTS[rng.integers(len(PRODUCTS))]
        count = None if rng.random() < 0.1 else int(rng.integers(0, 4))
        events.append((unit, goal, value, when, product, count))

    first_exposure: dict[tuple[str, str], dt.datetime] = {}
    for exp_id, variants in EXPERIMENTS.items():
        for number in range(units):
            unit = f"u{number}"
            if rng.random() < 0.2:
                continue  # not in this experiment
            variant = variants[rng.integers(len(variants))]
            other = variants[(variants.index(variant) + 1 + rng.integers(len(variants) - 1)) % len(variants)]
            switches = rng.random() < 0.12  # sees a second variant
            for index in range(1 + rng.poisson(0.5)):
                when = _random_time(rng, -2 * 86400, 9 * 86400)
                shown = other if switches and index == 0 else variant
                expose(unit, exp_id, shown, when)
                if _START <= when < END:
                    first_exposure[exp_id, unit] = min(when, first_exposure.get((exp_id, unit), when))
            if switches and rng.random() < 0.5:
                expose(unit, exp_id, other, _random_time(rng, 0, 7 * 86400))

    # Hand-made exposures (exp-1 unless said otherwise).
    tie = _START + dt.timedelta(days=2, hours=5)
    expose("x-tie", "exp-1", "b", tie)
    expose("x-tie", "exp-1", "a", tie)
    expose("x-tie", "exp-1", "b", tie + _HOUR)
    inside = _START + dt.timedelta(days=3)
    expose("x-out", "exp-1", "b", _START - dt.timedelta(hours=30))  # before date_from
    expose("x-out", "exp-1", "a", inside)
    expose("x-out", "exp-1", "b", END + _HOUR)  # after date_to
    expose("x-outonly", "exp-1", "a", _START - _SECOND)
    expose("x-outonly", "exp-1", "a", END)
    expose("x-edge", "exp-1", "b", _START)  # the first instant of the window
    expose("x-late", "exp-1", "a", END - _SECOND)  # the last instant of the window
    expose("x-late", "exp-2", "c", END - dt.timedelta(hours=2))
    expose("x-nullvar", "exp-1", None, _START + dt.timedelta(days=1))  # never counts
    expose("x-nullvar", "exp-1", "a", _START + dt.timedelta(days=2))
    expose("x-nullts", "exp-1", "b", None)
    expose("x-nullts", "exp-2", "a", None)
    expose(None, "exp-1", "a", _START + dt.timedelta(days=1))
    expose(None, "exp-2", "b", _START + dt.timedelta(days=1))
    expose("x-noexp", None, "a", _START + dt.timedelta(days=1))
    for unit, exp_id, when in [
        ("x-tie", "exp-1", tie),
        ("x-out", "exp-1", inside),
        ("x-edge", "exp-1", _START),
        ("x-late", "exp-1", END - _SECOND),
        ("x-late", "exp-2", END - dt.timedelta(hours=2)),
        ("x-nullvar", "exp-1", _START + dt.timedelta(days=2)),
    ]:
        first_exposure[exp_id, unit] = when
    for when in (_START - _HOUR, inside - _HOUR, inside + _HOUR, END + 2 * _HOUR):
        event("x-out", when)
    for when in (_START - _HOUR, _START, END - _SECOND, END):
        event("x-outonly", when)
    for when in (_START, _START + _HOUR, END):
        event("x-nullvar", when)
        event("x-nullts", when)
        event("x-noexp", when)

    # Random events of every unit, exposed or not, over a span wider than the window.
    ids = [f"u{number}" for number in range(units)] + [f"n{number}" for number in range(10)]
    for unit in ids:
        for _ in range(rng.integers(0, 8)):
            event(unit, _random_time(rng, -3 * 86400, 10 * 86400))

    # Events on the boundaries of the intended attribution window, relative to t0.
    delay, window = DELAY_HOURS * _HOUR, WINDOW_HOURS * _HOUR
    offsets = (-_SECOND, dt.timedelta(0), delay - _SECOND, delay, delay + window - _SECOND, delay + window)
    for (exp_id, unit), t0 in sorted(first_exposure.items()):
        number = int(unit[1:]) if unit.startswith("u") else 0
        every = 3 if exp_id == "exp-1" else 5
        if number % every == 0:
            for offset in offsets:
                event(unit, t0 + offset)
    # Events at the experiment's end, and just before its first day.
    for number in range(0, units, 4):
        for when in (END - _SECOND, END, _START - _SECOND):
            event(f"u{number}", when)

    # Rows with NULLs, and the decoy goal.
    for number in range(0, units, 25):
        event(None, _START + dt.timedelta(days=2, hours=number % 24))
        event(f"u{number}", None)
        event(f"u{number}", _START + dt.timedelta(days=1, hours=number % 24), goal="exposure")
        event(f"u{number + 1}", _START + dt.timedelta(days=3), goal="exposure")

    exposure_frame = pd.DataFrame.from_records(exposures, columns=list(EXPOSURE_COLUMNS))
    exposure_frame["timestamp"] = pd.to_datetime(exposure_frame["timestamp"]).astype("datetime64[ns]")
    event_frame = pd.DataFrame.from_records(events, columns=list(EVENT_COLUMNS))
    event_frame["value"] = event_frame["value"].astype("float64")
    event_frame["timestamp"] = pd.to_datetime(event_frame["timestamp"]).astype("datetime64[ns]")
    event_frame["count"] = event_frame["count"].astype("Int64")
    # Shuffle, so nothing depends on the order of the rows.
    exposure_frame = exposure_frame.sample(frac=1, random_state=seed).reset_index(drop=True)
    event_frame = event_frame.sample(frac=1, random_state=seed).reset_index(drop=True)
    return exposure_frame, event_frame


def _random_time(rng: np.random.Generator, low: int, high: int) -> dt.datetime:
    """A whole-second instant ``low`` to ``high`` seconds after ``FIRST_DAY 00:00``."""
    return _START + dt.timedelta(seconds=int(rng.integers(low, high)))
