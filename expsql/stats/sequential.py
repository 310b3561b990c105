"""Sequential testing: the confidence level to use on day ``d`` of an ``L``-day experiment.

``obrien-fleming`` (default) computes exact two-sided group-sequential boundaries for looks on days
1…d with the Lan–DeMets O'Brien–Fleming spending function, each side spending
``α(t) = 2 − 2Φ(z_{1−α/4} / √t)`` of its α/2 (t = day/L, as ldbounds and gsDesign do). The boundary
of look k solves ``P(no crossing before k, |Z_k| ≥ c_k) = α(t_k) − α(t_{k−1})`` under the null; the
joint law of the looks comes from the Armitage–McPherson–Rowe recursion: the score ``S_k = Z_k√t_k``
has independent Gaussian increments, and the density of the paths that have not crossed is carried
from look to look by numerical integration (Simpson's rule on the continuation region).
Peeking every day then keeps the overall false-positive rate at α. The level reported on day d is
``2Φ(c_d) − 1``.

``ep-stats`` is ep-stats' nominal rule (semantics §3.5): each day on its own at
``min(round(1 − (2 − 2Φ(z_{1−α/2} / √t)), 4), 0.9999)`` — its real false-positive rate under daily
peeking is 6–7 %. ``none`` keeps the nominal level, and so does ``always-valid``, whose confidence
sequence (:mod:`expsql.stats.always_valid`) is valid at every look without spending α.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import get_args

import numpy as np
from scipy import optimize, stats

from expsql.models import Sequential

SEQUENTIAL_MODES: tuple[str, ...] = get_args(Sequential)

#: ep-stats caps its sequential level so early confidence intervals stay finite (PR #97).
EP_STATS_MAX_LEVEL = 0.9999
#: Integration grid: spacing at most a quarter of one look's step, between these many points.
MIN_GRID_POINTS, MAX_GRID_POINTS = 201, 4001
#: The scores' paths are followed within ±8 standard deviations (beyond lies < 1e-15 of the mass).
Z_CUTOFF = 8.0
#: A boundary this high is never crossed in practice: where a look spends ~0, it stands in for ∞.
HIGHEST_BOUNDARY = 40.0


def obrien_fleming_spent(information: np.ndarray | float, alpha: float) -> np.ndarray:
    """Two-sided α spent by information fraction t: ``2 · (2 − 2Φ(z_{1−α/4} / √t))``."""
    z = stats.norm.isf(alpha / 4)
    return 4 * stats.norm.sf(z / np.sqrt(np.asarray(information, dtype=float)))


def obrien_fleming_boundaries(information: tuple[float, ...], alpha: float) -> np.ndarray:
    """Two-sided z boundaries for looks at increasing information fractions in (0, 1]."""
    fractions = np.asarray(information, dtype=float)
    if fractions.size == 0 or np.any(np.diff(fractions) <= 0) or fractions[0] <= 0 or fractions[-1] > 1:
        raise ValueError("information fractions must increase within (0, 1]")
    spent = obrien_fleming_spent(fractions, alpha)
    increments = np.diff(spent, prepend=0.0)
    steps = np.sqrt(np.diff(fractions, prepend=0.0))
    boundaries = np.empty(fractions.size)
    boundaries[0] = min(stats.norm.isf(increments[0] / 2), HIGHEST_BOUNDARY)
    # Grid and sub-density of the scores S_1 that stayed inside the first boundary.
    grid = _grid(boundaries[0], fractions[0], steps.min())
    density = stats.norm.pdf(grid, scale=steps[0])
    for look in range(1, fractions.size):
        weights = _simpson_weights(grid) * density
        scale = np.sqrt(fractions[look])
        boundaries[look] = _boundary(weights, grid, steps[look], scale, increments[look])
        next_grid = _grid(boundaries[look], fractions[look], steps.min())
        density = _carry(weights, grid, steps[look], next_grid)
        grid = next_grid
    return boundaries


def _grid(boundary: float, fraction: float, step: float) -> np.ndarray:
    """Points of the continuation region ``|S| < c√t``, cut at ±8 standard deviations of S."""
    edge = min(boundary, Z_CUTOFF) * np.sqrt(fraction)
    points = int(np.clip(8 * edge / step, MIN_GRID_POINTS, MAX_GRID_POINTS)) // 2 * 2 + 1
    return np.linspace(-edge, edge, points)


def _simpson_weights(grid: np.ndarray) -> np.ndarray:
    h = grid[1] - grid[0]
    weights = np.ones(grid.size)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    return weights * h / 3


def _boundary(weights: np.ndarray, grid: np.ndarray, step: float, scale: float, target: float) -> float:
    """The z boundary whose crossing probability at this look equals ``target``."""

    def excess(z: float) -> float:
        edge = z * scale
        crossing = stats.norm.sf((edge - grid) / step) + stats.norm.cdf((-edge - grid) / step)
        return float(weights @ crossing) - target

    # Crossing probability falls with z. A look that spends (almost) nothing has no finite boundary.
    if excess(HIGHEST_BOUNDARY) >= 0:
        return HIGHEST_BOUNDARY
    return float(optimize.brentq(excess, 1e-6, HIGHEST_BOUNDARY, xtol=1e-12, rtol=1e-12))


def _carry(weights: np.ndarray, grid: np.ndarray, step: float, next_grid: np.ndarray) -> np.ndarray:
    """Density on ``next_grid`` at the next look of the paths that have not crossed yet."""
    kernel = stats.norm.pdf((next_grid[:, np.newaxis] - grid[np.newaxis, :]) / step) / step
    return kernel @ weights


@lru_cache(maxsize=64)
def _daily_boundaries(length: int, alpha: float) -> np.ndarray:
    return obrien_fleming_boundaries(tuple(k / length for k in range(1, length + 1)), alpha)


def obrien_fleming_level(day: int, length: int, confidence_level: float) -> float:
    """The confidence level of daily look ``day`` of ``length`` (daily looks 1…day so far).

    A look's boundary depends only on the looks before it, so all days are computed once per length.
    """
    boundary = _daily_boundaries(length, 1 - confidence_level)[day - 1]
    return float(1 - 2 * stats.norm.sf(boundary))


def ep_stats_level(day: int, length: int, confidence_level: float) -> float:
    """ep-stats' nominal per-day level, rounded to 4 decimals and capped at 0.9999."""
    z = stats.norm.isf((1 - confidence_level) / 2)
    spent = 2 * stats.norm.sf(z / np.sqrt(day / length))
    return float(min(np.round(1 - spent, 4), EP_STATS_MAX_LEVEL))


def look(date_from: dt.date, date_to: dt.date, date_for: dt.date) -> tuple[int, int]:
    """``(day, length)``: the day of ``date_for`` (capped at the length) and the planned days."""
    length = (date_to - date_from).days + 1
    day = min((date_for - date_from).days + 1, length)
    return max(day, 1), length


def check_sequential_mode(mode: str) -> None:
    """:raises ValueError: ``mode`` is not one of :data:`SEQUENTIAL_MODES`."""
    if mode not in SEQUENTIAL_MODES:
        raise ValueError(f"unknown sequential mode {mode!r}; choose one of {', '.join(SEQUENTIAL_MODES)}")


def sequential_level(
    mode: Sequential,
    confidence_level: float,
    date_from: dt.date | None,
    date_to: dt.date | None,
    date_for: dt.date | None,
) -> float:
    """The confidence level to test at today: adjusted only when the planned window is known."""
    check_sequential_mode(mode)
    if mode in ("none", "always-valid") or date_from is None or date_to is None:
        return confidence_level
    day, length = look(date_from, date_to, date_for or dt.date.today())
    if mode == "ep-stats":
        return ep_stats_level(day, length, confidence_level)
    return obrien_fleming_level(day, length, confidence_level)
