"""The timeline chart as inline SVG: a metric's relative difference over the days, with its CI band.

One ``<svg>`` per metric, drawn by hand like the forest plot (:mod:`.forest`), so the HTML report
stays one offline file: days along x, the relative difference to the control along y; per
treatment variant its confidence band (each day's look at that day's sequential level), the line
of its estimates, a dot per day (filled where the look was significant), a dashed zero line and a
vertical marker on the first day the look was significant.

The y range holds zero, every estimate and the last day's intervals, and at most that range again
on each side: the first days' intervals are often many times wider, and would flatten the rest;
their bands are clipped to the plot.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape

from expsql.report.forest import nice_step
from expsql.report.view import TimelineSeries, format_interval, format_percent

WIDTH = 720
HEIGHT = 260
LEFT = 64
RIGHT = 24
TOP = 24
BOTTOM = 44
#: A colour per treatment variant, in order (the control is the zero line).
PALETTE = ("#0969da", "#bf3989", "#9a6700", "#1a7f37", "#8250df", "#cf222e")


def domain(series: list[TimelineSeries]) -> tuple[float, float]:
    """The y range: zero, the estimates and the last day's intervals, widened by at most that range
    on each side to take in the earlier, wider intervals."""
    core = [0.0]
    every = [0.0]
    for item in series:
        core += [v for v in item.diffs if math.isfinite(v)]
        finite = [
            i
            for i in range(len(item.days))
            if math.isfinite(item.lowers[i]) and math.isfinite(item.uppers[i])
        ]
        if finite:
            core += [item.lowers[finite[-1]], item.uppers[finite[-1]]]
        every += [v for v in (*item.lowers, *item.uppers, *item.diffs) if math.isfinite(v)]
    low, high = min(core), max(core)
    span = max(high - low, 0.02)
    low, high = max(min(every), low - span), min(max(every), high + span)
    if high - low < 1e-9:
        low, high = low - 0.01, high + 0.01
    margin = (high - low) * 0.06
    return low - margin, high + margin


def _num(value: float) -> str:
    return f"{value:.1f}"


class _Axes:
    """Day index and relative difference → SVG coordinates; the days are every series' (a
    segment's series starts the day its first unit does)."""

    def __init__(self, days: tuple[dt.date, ...], low: float, high: float) -> None:
        self.days, self.low, self.high = len(days), low, high
        self.positions = {day: position for position, day in enumerate(days)}

    def x(self, index: int) -> float:
        width = WIDTH - LEFT - RIGHT
        return LEFT + (width / 2 if self.days == 1 else index / (self.days - 1) * width)

    def at(self, day: dt.date) -> float:
        return self.x(self.positions[day])

    def y(self, value: float) -> float:
        clamped = min(max(value, self.low), self.high)
        return TOP + (self.high - clamped) / (self.high - self.low) * (HEIGHT - TOP - BOTTOM)


def timeline_svg(series: list[TimelineSeries], index: int = 0, *, sequence: bool = False) -> str:
    """The chart of one metric's treatment variants; ``index`` makes its clip path's id unique.

    With ``sequence`` (``sequential: always-valid``) the band is the confidence sequence, drawn
    with its edges: one band, valid on every day at once.
    """
    band = "its always-valid confidence sequence" if sequence else "its confidence interval"
    title = f"Relative difference to control by day, with {band}: {series[0].name}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f"<title>{escape(title)}</title>",
    ]
    days = tuple(sorted({day for item in series for day in item.days}))
    low, high = domain(series)
    axes = _Axes(days, low, high)
    clip = f"timeline-clip-{index}"
    bottom = HEIGHT - BOTTOM
    parts.append(
        f'<defs><clipPath id="{clip}"><rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{bottom - TOP}"/></clipPath></defs>'
    )
    parts += _grid(axes, days)
    for position, item in enumerate(series):
        parts.append(_series(item, axes, PALETTE[position % len(PALETTE)], clip, sequence))
    zero = _num(axes.y(0.0))
    parts.append(f'<line x1="{LEFT}" y1="{zero}" x2="{WIDTH - RIGHT}" y2="{zero}" class="zero"/>')
    if len(series) > 1:
        for position, item in enumerate(series):
            x = LEFT + 8 + position * 110
            colour = PALETTE[position % len(PALETTE)]
            parts.append(
                f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
                f'<text x="{x + 14}" y="15" class="label">{escape(item.variant)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _grid(axes: _Axes, days: tuple) -> list[str]:
    """Horizontal grid lines with percentages, and the days along the bottom (thinned to fit)."""
    parts = []
    step = nice_step(axes.high - axes.low, ticks=5)
    tick = math.ceil(axes.low / step) * step
    while tick <= axes.high + 1e-12:
        y = _num(axes.y(tick))
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" class="grid"/>')
        label = "0%" if abs(tick) < step / 1e6 else format_percent(tick, digits=0 if step >= 0.01 else 1)
        parts.append(
            f'<text x="{LEFT - 6}" y="{_num(axes.y(tick) + 4)}" text-anchor="end" class="tick">'
            f"{escape(label)}</text>"
        )
        tick += step
    every = max(1, math.ceil(len(days) / 10))
    for position, day in enumerate(days):
        if position % every and position != len(days) - 1:
            continue
        x = _num(axes.x(position))
        parts.append(
            f'<text x="{x}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" class="tick">{day:%m-%d}</text>'
        )
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 6}" text-anchor="middle" class="muted">'
        "day (each day its own sequential look)</text>"
    )
    return parts


def _runs(item: TimelineSeries) -> list[list[int]]:
    """Consecutive days with a finite interval (a day without one breaks the band)."""
    runs: list[list[int]] = []
    for index in range(len(item.days)):
        if math.isfinite(item.lowers[index]) and math.isfinite(item.uppers[index]):
            if runs and runs[-1][-1] == index - 1:
                runs[-1].append(index)
            else:
                runs.append([index])
    return runs


def _series(item: TimelineSeries, axes: _Axes, colour: str, clip: str, sequence: bool = False) -> str:
    parts = [f'<g clip-path="url(#{clip})">']
    for run in _runs(item):
        upper = [f"{_num(axes.at(item.days[i]))},{_num(axes.y(item.uppers[i]))}" for i in run]
        lower = [f"{_num(axes.at(item.days[i]))},{_num(axes.y(item.lowers[i]))}" for i in reversed(run)]
        if sequence:
            parts.append(
                f'<polygon class="sequence" points="{" ".join(upper + lower)}" fill="{colour}" '
                f'fill-opacity="0.16" stroke="{colour}" stroke-width="1" stroke-dasharray="5 3"/>'
            )
            continue
        parts.append(
            f'<polygon points="{" ".join(upper + lower)}" fill="{colour}" fill-opacity="0.16" stroke="none"/>'
        )
    points = [
        f"{_num(axes.at(item.days[i]))},{_num(axes.y(d))}"
        for i, d in enumerate(item.diffs)
        if math.isfinite(d)
    ]
    if len(points) > 1:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
    parts.append("</g>")
    first = item.first_significant
    if first is not None:
        where = axes.at(first)
        x = _num(where)
        # The label reads away from the nearer edge, so it is never cut off.
        anchor = "end" if where > WIDTH / 2 else "start"
        parts.append(
            f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{HEIGHT - BOTTOM}" stroke="{colour}" '
            f'stroke-dasharray="2 3" class="first"/>'
            f'<text x="{x}" y="{TOP - 6}" text-anchor="{anchor}" class="label" fill="{colour}">'
            f"{escape(item.variant)} significant from {first:%m-%d}</text>"
        )
    for index, diff in enumerate(item.diffs):
        if not math.isfinite(diff):
            continue
        fill = colour if item.significant[index] else "white"
        interval = format_interval(item.lowers[index], item.uppers[index])
        tip = f"{item.variant} {item.days[index]}: {format_percent(diff)} {interval}"
        parts.append(
            f'<circle cx="{_num(axes.at(item.days[index]))}" cy="{_num(axes.y(diff))}" r="3.5" fill="{fill}" '
            f'stroke="{colour}" stroke-width="1.5"><title>{escape(tip)}</title></circle>'
        )
    return "".join(parts)
