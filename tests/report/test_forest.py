"""The inline SVG forest plot: valid XML, points where the numbers say, escaped labels."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from expsql.report.forest import PLOT_LEFT, PLOT_RIGHT, domain, forest_svg, nice_step
from expsql.report.view import MetricBlock, VariantLine

SVG = "{http://www.w3.org/2000/svg}"


def line(variant: str, diff: float, lower: float, upper: float, significant: bool = False) -> VariantLine:
    return VariantLine(variant, False, 1.0, diff, lower, upper, 0.01, 0.95, significant, 0.8, math.nan, 100)


@pytest.mark.parametrize(
    ("span", "step"), [(0.24, 0.05), (1.0, 0.2), (0.013, 0.005), (37.0, 10.0), (0.05, 0.01)]
)
def test_nice_step_is_one_two_or_five_times_a_power_of_ten(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_domain_always_contains_zero_and_every_bound() -> None:
    low, high = domain([line("b", 0.2, 0.1, 0.3), line("c", 0.25, 0.15, math.inf)])
    assert low < 0 < 0.3 < high


def test_points_and_whiskers_sit_where_the_numbers_say() -> None:
    block = MetricBlock("1", "CTR", (line("b", 0.1, 0.05, 0.15, True), line("c", -0.02, -0.08, 0.04)))
    root = ET.fromstring(forest_svg(block))
    circles = root.findall(f"{SVG}circle")
    assert len(circles) == 2
    low, high = domain(list(block.lines))

    def x(value: float) -> float:
        return PLOT_LEFT + (value - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT)

    assert float(circles[0].get("cx")) == pytest.approx(x(0.1), abs=0.06)
    assert float(circles[1].get("cx")) == pytest.approx(x(-0.02), abs=0.06)
    assert circles[0].get("fill") == "#1a7f37" and circles[1].get("fill") == "#57606a"
    zero = root.find(f"{SVG}line[@class='zero']")
    assert float(zero.get("x1")) == pytest.approx(x(0.0), abs=0.06)


def test_missing_interval_draws_no_whisker_and_says_n_a() -> None:
    block = MetricBlock("1", "m", (line("b", math.nan, math.nan, math.nan),))
    svg = forest_svg(block)
    root = ET.fromstring(svg)
    assert root.findall(f"{SVG}circle") == []
    assert "n/a n/a" in svg


def test_labels_are_escaped() -> None:
    block = MetricBlock("1", "<b>&", (line("<script>", 0.1, 0.0, 0.2),))
    svg = forest_svg(block)
    ET.fromstring(svg)  # still well-formed XML
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;&amp;" in svg


def test_control_only_metric_says_there_is_no_treatment() -> None:
    control = VariantLine("a", True, 1.0, 0.0, 0.0, 0.0, 1.0, 0.95, False, math.nan, math.nan, 10)
    assert "no treatment variant" in forest_svg(MetricBlock("1", "m", (control,)))
