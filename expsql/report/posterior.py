"""The posterior of each treatment's relative effect as inline SVG (Bayesian inference).

One ``<svg>`` per metric, one violin per treatment variant: the normal posterior
``N(diff, standard_error²)`` of the relative effect (:mod:`expsql.stats.bayesian`) mirrored around
its row, a dashed line at zero, the credible interval as a bar with end ticks and the posterior
mean as a dot, coloured by the verdict (won, lost, undecided). Drawn by hand, no script.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from expsql.report.forest import COLOURS, _num, nice_step
from expsql.report.readout import format_chance
from expsql.report.view import MetricBlock, VariantLine, format_interval, format_percent

WIDTH = 720
ROW_HEIGHT = 46
TOP = 26
BOTTOM = 10
LABEL_WIDTH = 110
VALUE_WIDTH = 220
PLOT_LEFT = LABEL_WIDTH
PLOT_RIGHT = WIDTH - VALUE_WIDTH
#: The violin spans the posterior mean ± this many standard deviations, in this many points.
SPREAD, POINTS = 4.0, 81


def drawable(line: VariantLine) -> bool:
    """A treatment whose posterior is defined (finite mean, positive standard deviation)."""
    return (
        not line.is_control
        and math.isfinite(line.diff)
        and math.isfinite(line.standard_error)
        and line.standard_error > 0
    )


def domain(lines: list[VariantLine]) -> tuple[float, float]:
    """The x range: every posterior ± 4 standard deviations, and zero."""
    values = [0.0]
    for line in lines:
        values += [line.diff - SPREAD * line.standard_error, line.diff + SPREAD * line.standard_error]
    low, high = min(values), max(values)
    margin = (high - low) * 0.04
    return low - margin, high + margin


def posterior_svg(block: MetricBlock) -> str:
    """The violins of one metric's treatment variants."""
    lines = [line for line in block.lines if drawable(line)]
    height = TOP + BOTTOM + ROW_HEIGHT * max(len(lines), 1)
    title = f"Posterior of the relative effect with credible interval: {block.name}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="posterior" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    if not lines:
        parts.append(f'<text x="{PLOT_LEFT}" y="{TOP + 16}" class="muted">no posterior to draw</text></svg>')
        return "".join(parts)
    low, high = domain(lines)

    def x_of(value: float) -> float:
        return PLOT_LEFT + (value - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT)

    step = nice_step(high - low)
    tick = math.ceil(low / step) * step
    while tick <= high + 1e-12:
        x = _num(x_of(tick))
        parts.append(f'<line x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{height - BOTTOM}" class="grid"/>')
        label = "0%" if abs(tick) < step / 1e6 else format_percent(tick, digits=0 if step >= 0.01 else 1)
        parts.append(f'<text x="{x}" y="{TOP - 8}" text-anchor="middle" class="tick">{escape(label)}</text>')
        tick += step
    zero = _num(x_of(0.0))
    parts.append(f'<line x1="{zero}" y1="{TOP - 4}" x2="{zero}" y2="{height - BOTTOM}" class="zero"/>')
    for row, line in enumerate(lines):
        parts.append(_violin(line, TOP + ROW_HEIGHT * row + ROW_HEIGHT / 2, x_of))
    parts.append("</svg>")
    return "".join(parts)


def _violin(line: VariantLine, y: float, place: Callable[[float], float]) -> str:
    colour = COLOURS[line.improvement]
    mean, sd = line.diff, line.standard_error
    half = ROW_HEIGHT / 2 - 4
    xs = [mean + sd * SPREAD * (2 * k / (POINTS - 1) - 1) for k in range(POINTS)]
    widths = [half * math.exp(-0.5 * ((x - mean) / sd) ** 2) for x in xs]
    upper = [f"{_num(place(x))},{_num(y - w)}" for x, w in zip(xs, widths, strict=True)]
    lower = [f"{_num(place(x))},{_num(y + w)}" for x, w in zip(reversed(xs), reversed(widths), strict=True)]
    summary = (
        f"{line.variant}: {format_percent(mean)} {format_interval(line.ci_lower, line.ci_upper)}, "
        f"chance to win {format_chance(line.chance_to_win)}"
    )
    parts = [
        f'<text x="{PLOT_LEFT - 10}" y="{_num(y + 4)}" text-anchor="end" class="label">'
        f"{escape(line.variant)}</text>",
        f'<polygon class="violin" points="{" ".join(upper + lower)}" fill="{colour}" fill-opacity="0.25" '
        f'stroke="{colour}" stroke-width="1"><title>{escape(summary)}</title></polygon>',
    ]
    if math.isfinite(line.ci_lower) and math.isfinite(line.ci_upper):
        x1, x2 = _num(place(line.ci_lower)), _num(place(line.ci_upper))
        cy, top, bottom = _num(y), _num(y - 5), _num(y + 5)
        stroke = f'stroke="{colour}" stroke-width="2"'
        parts.append(
            f'<line class="credible" x1="{x1}" y1="{cy}" x2="{x2}" y2="{cy}" stroke="{colour}" '
            f'stroke-width="2.5"/><line x1="{x1}" y1="{top}" x2="{x1}" y2="{bottom}" {stroke}/>'
            f'<line x1="{x2}" y1="{top}" x2="{x2}" y2="{bottom}" {stroke}/>'
        )
    parts.append(f'<circle cx="{_num(place(mean))}" cy="{_num(y)}" r="4.5" fill="{colour}"/>')
    value = f"{format_percent(mean)} · win {format_chance(line.chance_to_win)}"
    parts.append(
        f'<text x="{PLOT_RIGHT + 12}" y="{_num(y + 4)}" class="value" fill="{colour}">{escape(value)}</text>'
    )
    return "".join(parts)
