"""Sequential testing: exact O'Brien–Fleming boundaries and ep-stats' nominal per-day rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from expsql.stats.sequential import (
    ep_stats_level,
    look,
    obrien_fleming_boundaries,
    obrien_fleming_level,
    obrien_fleming_spent,
    sequential_level,
)


def test_five_equal_looks_give_the_published_lan_demets_obrien_fleming_boundaries() -> None:
    boundaries = obrien_fleming_boundaries((0.2, 0.4, 0.6, 0.8, 1.0), 0.05)
    assert boundaries == pytest.approx([4.8769, 3.3570, 2.6802, 2.2898, 2.0310], abs=1.1e-4)


def test_boundaries_spend_exactly_the_planned_alpha_by_simulation_free_check() -> None:
    # A single look at t = 1 spends all of α: the ordinary two-sided z quantile.
    assert obrien_fleming_boundaries((1.0,), 0.05) == pytest.approx([stats.norm.isf(0.025)])
    assert obrien_fleming_spent(1.0, 0.05) == pytest.approx(0.05)


def test_boundaries_keep_the_false_positive_rate_of_brownian_paths_at_alpha() -> None:
    rng = np.random.default_rng(2026)
    looks = 10
    boundaries = obrien_fleming_boundaries(tuple(np.arange(1, looks + 1) / looks), 0.05)
    paths = np.cumsum(rng.normal(size=(200_000, looks)), axis=1) / np.sqrt(np.arange(1, looks + 1))
    crossed = (np.abs(paths) >= boundaries).any(axis=1).mean()
    assert crossed == pytest.approx(0.05, abs=3 * np.sqrt(0.05 * 0.95 / 200_000))


def test_boundaries_reject_information_that_does_not_increase() -> None:
    with pytest.raises(ValueError, match="increase"):
        obrien_fleming_boundaries((0.5, 0.5), 0.05)


def test_long_experiments_treat_early_looks_that_spend_nothing_as_unreachable() -> None:
    assert obrien_fleming_level(1, 120, 0.95) > 1 - 1e-12
    # 2.1901: the same recursion on a grid 15 times finer (two minutes instead of a second).
    assert obrien_fleming_level(120, 120, 0.95) == pytest.approx(1 - 2 * stats.norm.sf(2.1901), abs=2e-5)


@pytest.mark.parametrize(
    ("length", "levels"),
    [
        (14, [0.9999, 0.9999, 0.9999, 0.9998, 0.999, 0.9972, 0.9944, 0.9905, 0.9855, 0.9796, 0.973, 0.9657,
              0.958, 0.95]),
        (7, [0.9999, 0.9998, 0.9972, 0.9905, 0.9796, 0.9657, 0.95]),
    ],
)  # fmt: skip
def test_ep_stats_rule_gives_its_documented_levels(length: int, levels: list[float]) -> None:
    assert [ep_stats_level(day, length, 0.95) for day in range(1, length + 1)] == levels


def test_sequential_level_applies_only_with_both_dates_and_caps_the_day() -> None:
    start, end = dt.date(2026, 1, 1), dt.date(2026, 1, 5)
    assert sequential_level("obrien-fleming", 0.95, None, end, end) == 0.95
    assert sequential_level("none", 0.95, start, end, start) == 0.95
    assert look(start, end, dt.date(2026, 2, 1)) == (5, 5)
    assert sequential_level("obrien-fleming", 0.95, start, end, dt.date(2026, 1, 3)) == pytest.approx(
        1 - 2 * stats.norm.sf(2.6802), abs=1e-5
    )
    assert sequential_level("ep-stats", 0.95, start, end, end) == 0.95
    with pytest.raises(ValueError, match="unknown sequential mode"):
        sequential_level("pocock", 0.95, start, end, end)  # type: ignore[arg-type]
