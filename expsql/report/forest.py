"""A forest plot as inline SVG: each treatment variant's relative difference with its CI, per metric.

Drawn here, by hand, so the HTML report needs no script and no network: one ``<svg>`` per
metric (metrics differ in scale), a dashed line at zero, a whisker per variant from the lower to
the upper bound, a dot at the estimate, coloured by the verdict.
"""

from __future__ import annotations

import math
from html import escape

from expsql.report.view import MetricBlock, VariantLine, format_interval, format_percent

WIDTH = 720
ROW_HEIGHT = 30
TOP = 26
BOTTOM = 10
LABEL_WIDTH = 110
VALUE_WIDTH = 200
PLOT_LEFT = LABEL_WIDTH
PLOT_RIGHT = WIDTH - VALUE_WIDTH

COLOURS = {1: "#1a7f37", -1: "#cf222e", 0: "#57606a"}


def nice_step(span: float, ticks: int = 6) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks over ``span``."""
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power


def domain(lines: list[VariantLine]) -> tuple[float, float]:
    """The x range: every finite bound and estimate, and zero, with a margin."""
    values = [0.0]
    for line in lines:
        values += [v for v in (line.ci_lower, line.ci_upper, line.diff) if math.isfinite(v)]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.01, high + 0.01
    margin = (high - low) * 0.08
    return low - margin, high + margin


def _x(value: float, low: float, high: float) -> float:
    return PLOT_LEFT + (value - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT)


def _num(value: float) -> str:
    return f"{value:.1f}"


def forest_svg(block: MetricBlock) -> str:
    """The SVG for one metric's treatment variants (the control is the zero line)."""
    lines = [line for line in block.lines if not line.is_control]
    height = TOP + BOTTOM + ROW_HEIGHT * max(len(lines), 1)
    title = f"Relative difference to control with confidence interval: {block.name}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="forest" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    if not lines:
        parts.append(f'<text x="{PLOT_LEFT}" y="{TOP + 16}" class="muted">no treatment variant</text></svg>')
        return "".join(parts)
    low, high = domain(lines)
    step = nice_step(high - low)
    tick = math.ceil(low / step) * step
    while tick <= high + 1e-12:
        x = _num(_x(tick, low, high))
        parts.append(f'<line x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{height - BOTTOM}" class="grid"/>')
        label = "0%" if abs(tick) < step / 1e6 else format_percent(tick, digits=0 if step >= 0.01 else 1)
        parts.append(f'<text x="{x}" y="{TOP - 8}" text-anchor="middle" class="tick">{escape(label)}</text>')
        tick += step
    zero = _num(_x(0.0, low, high))
    parts.append(f'<line x1="{zero}" y1="{TOP - 4}" x2="{zero}" y2="{height - BOTTOM}" class="zero"/>')
    for row, line in enumerate(lines):
        parts.append(_row(line, TOP + ROW_HEIGHT * row + ROW_HEIGHT / 2, low, high))
    parts.append("</svg>")
    return "".join(parts)


def _row(line: VariantLine, y: float, low: float, high: float) -> str:
    colour = COLOURS[line.improvement]
    cy = _num(y)
    parts = [
        f'<text x="{PLOT_LEFT - 10}" y="{_num(y + 4)}" text-anchor="end" class="label">'
        f"{escape(line.variant)}</text>"
    ]
    if not (math.isnan(line.ci_lower) or math.isnan(line.ci_upper)):
        # A one-sided interval's open end runs to the edge of the plot.
        lower, upper = max(line.ci_lower, low), min(line.ci_upper, high)
        x1, x2 = _num(_x(lower, low, high)), _num(_x(upper, low, high))
        top, bottom = _num(y - 6), _num(y + 6)
        stroke = f'stroke="{colour}" stroke-width="2"'
        parts.append(
            f'<line x1="{x1}" y1="{cy}" x2="{x2}" y2="{cy}" stroke="{colour}" stroke-width="2.5"/>'
            f'<line x1="{x1}" y1="{top}" x2="{x1}" y2="{bottom}" {stroke}/>'
            f'<line x1="{x2}" y1="{top}" x2="{x2}" y2="{bottom}" {stroke}/>'
        )
    if math.isfinite(line.diff):
        cx = _num(_x(line.diff, low, high))
        parts.append(
            f'<circle cx="{cx}" cy="{cy}" r="5" fill="{colour}">'
            f"<title>{escape(line.variant)}: {escape(format_percent(line.diff))} "
            f"{escape(format_interval(line.ci_lower, line.ci_upper))}</title></circle>"
        )
    value = f"{format_percent(line.diff)} {format_interval(line.ci_lower, line.ci_upper)}"
    parts.append(
        f'<text x="{PLOT_RIGHT + 12}" y="{_num(y + 4)}" class="value" fill="{colour}">{escape(value)}</text>'
    )
    return "".join(parts)
