"""The timeline in the reports: the inline SVG chart (valid XML, the band where the numbers say,
escaped names, the first significant day), the HTML report's section, the terminal's tables and
the notebook rendering."""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from expsql.report import render
from expsql.report.timeline import by_metric, timeline_series
from expsql.report.timeline_chart import HEIGHT, LEFT, RIGHT, WIDTH, domain, timeline_svg
from expsql.report.view import TimelineSeries
from expsql.stats import Evaluation, evaluate
from tests.stats.frames import experiment, metric
from tests.stats.timeline_frames import WINDOW, timeline_rows, units

SVG = "{http://www.w3.org/2000/svg}"
FIRST = dt.date(2024, 3, 1)


def series(name: str = "clicks", variant: str = "b", *, nan_day: int | None = None) -> TimelineSeries:
    days = tuple(FIRST + dt.timedelta(days=k) for k in range(6))
    diffs = [0.5, 0.2, 0.15, 0.1, 0.12, 0.11]
    half = [math.inf, 0.6, 0.3, 0.15, 0.08, 0.05]
    lowers = [d - h for d, h in zip(diffs, half, strict=True)]
    uppers = [d + h for d, h in zip(diffs, half, strict=True)]
    if nan_day is not None:
        diffs[nan_day] = lowers[nan_day] = uppers[nan_day] = math.nan
    significant = tuple(low > 0 for low in lowers)
    return TimelineSeries(
        "1", name, variant, days, tuple(diffs), tuple(lowers), tuple(uppers), (0.95,) * 6, significant
    )


def test_the_chart_is_valid_svg_with_a_band_a_line_and_a_dot_per_day() -> None:
    root = ET.fromstring(timeline_svg([series()]))
    assert root.tag == f"{SVG}svg" and root.get("class") == "timeline"
    assert root.find(f"{SVG}title").text.endswith(": clicks")  # type: ignore[union-attr]
    polygons = list(root.iter(f"{SVG}polygon"))
    assert len(polygons) == 1  # days 2-6: day 1's interval is infinite
    assert len(polygons[0].get("points", "").split()) == 2 * 5
    assert len(list(root.iter(f"{SVG}polyline"))) == 1
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 6
    filled = [c.get("fill") != "white" for c in circles]
    assert filled == [False, False, False, False, True, True]  # significant on days 5 and 6
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "b significant from 03-05" in texts and "0%" in texts
    assert all(LEFT <= float(c.get("cx", 0)) <= WIDTH - RIGHT for c in circles)
    assert all(0 <= float(c.get("cy", 0)) <= HEIGHT for c in circles)


def test_a_day_without_an_interval_breaks_the_band() -> None:
    root = ET.fromstring(timeline_svg([series(nan_day=3)]))
    assert len(list(root.iter(f"{SVG}polygon"))) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 5


def test_names_are_escaped() -> None:
    svg = timeline_svg([series(name="<script>x</script>", variant='b"&')], index=3)
    root = ET.fromstring(svg)
    assert "<script>" not in svg and 'id="timeline-clip-3"' in svg
    assert any(t.text == 'b"&' for t in root.iter(f"{SVG}text")) is False  # one variant: no legend
    two = ET.fromstring(timeline_svg([series(), series(variant='c"&')]))
    assert 'c"&' in [t.text for t in two.iter(f"{SVG}text")]


def test_the_range_holds_zero_the_estimates_and_the_last_intervals_not_the_widest() -> None:
    low, high = domain([series()])
    assert low < 0 < 0.5 < high  # zero and the first day's estimate
    assert high < 0.5 + 0.6  # the second day's wide interval is clipped


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    chosen = experiment(
        [metric(1, "count(user.unit.click)"), metric(2, "unique(user.unit.click)")],
        **WINDOW,
        timeline="daily",
    )
    return evaluate(chosen, two_metrics(timeline_rows(units())))


def two_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Metric 1's rows again as metric 2's (the charts only need two metrics)."""
    second = frame[frame["metric_id"] == "1"].assign(metric_id="2")
    return pd.concat([frame, second], ignore_index=True)


def test_the_html_report_draws_a_chart_per_metric(evaluation: Evaluation) -> None:
    assert evaluation.experiment is not None
    page = render("html", evaluation.experiment, evaluation)
    assert "<h2>Timeline</h2>" in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="timeline"') == 2
    assert 'id="timeline-clip-0"' in page and 'id="timeline-clip-1"' in page


def test_the_notebook_rendering_shows_the_timeline(evaluation: Evaluation) -> None:
    html = evaluation._repr_html_()
    assert html is not None and 'class="timeline"' in html


def test_the_terminal_prints_a_table_per_metric(evaluation: Evaluation) -> None:
    assert evaluation.experiment is not None
    text = render("table", evaluation.experiment, evaluation)
    assert text.count("Timeline: metric ") == 2
    assert "2024-03-05" in text


def test_without_a_timeline_there_is_no_section(evaluation: Evaluation) -> None:
    assert evaluation.experiment is not None
    plain = evaluation.experiment.model_copy(update={"timeline": None})
    rows = two_metrics(timeline_rows(units()))
    single = evaluate(plain, rows[rows["day"] == rows["day"].max()].drop(columns="day"))
    assert "<h2>Timeline</h2>" not in render("html", plain, single)
    assert "Timeline:" not in render("table", plain, single)


def test_series_are_per_metric_and_treatment(evaluation: Evaluation) -> None:
    assert evaluation.experiment is not None
    found = timeline_series(evaluation.experiment, evaluation.timeline)
    assert [(s.metric_id, s.variant) for s in found] == [("1", "b"), ("2", "b")]
    assert list(by_metric(found)) == ["1", "2"]
    assert found[0].days == tuple(sorted(found[0].days))
