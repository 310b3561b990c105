"""The breakdown in the reports: per dimension a segments table, and per metric a table and a
forest plot with one line per segment × treatment; the terminal's compact tables; all user text
(segment values) escaped; the notebook's rich display shows it too."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import duckdb
import pandas as pd
import pytest

from expsql.compiler import compile_sql
from expsql.models import Experiment
from expsql.report.html import render_html
from expsql.report.notebook import attach_renderings
from expsql.report.scorecard import scorecard
from expsql.report.terminal import render_text
from expsql.source import validate_source
from expsql.stats import Evaluation, evaluate
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, SOURCE
from expsql.testing.exposure_events import generate_exposures_and_events as generate

HOSTILE = "<script>alert('x')</script>"
EXPOSURE = "count(user.global.exposure)"
EXPERIMENT = Experiment.model_validate(
    {
        "id": "exp-2",
        "control_variant": "a",
        "unit_type": "user",
        "breakdown": ["country", "platform"],
        "metrics": [
            {"id": 1, "name": "clicks", "nominator": "count(user.unit.click)", "denominator": EXPOSURE},
            {"id": 2, "name": "spend", "nominator": "value(user.unit.purchase)", "denominator": EXPOSURE},
        ],
        "checks": [{"id": 1, "name": "SRM", "denominator": EXPOSURE}],
    }
)


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    exposures, events = generate(seed=2, units=400)
    connection = duckdb.connect()
    for name, frame in (("exposures", exposures), ("events", events)):
        connection.register("generated", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM generated")
        connection.unregister("generated")
    sql = compile_sql(EXPERIMENT, dialect="duckdb", rows="metrics", source=validate_source(SOURCE))
    rows: pd.DataFrame = connection.execute(sql).df()
    rows["country"] = rows["country"].replace({"cz": HOSTILE})
    return evaluate(EXPERIMENT, rows)


def test_html_has_a_table_and_a_forest_per_metric_and_dimension(evaluation: Evaluation) -> None:
    document = render_html(scorecard(EXPERIMENT, evaluation))
    assert "<h2>By country</h2>" in document and "<h2>By platform</h2>" in document
    svgs = re.findall(r"<svg .*?</svg>", document, flags=re.S)
    assert len(svgs) == 2 + 2 * 2  # the overall forest per metric, then per metric and dimension
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    assert evaluation.breakdowns is not None
    for dimension, svg in (("country", svgs[2]), ("platform", svgs[4])):
        segments = evaluation.breakdowns.segments(dimension)
        assert svg.count("<circle") == len(segments) * 2  # segments × treatment variants (b, c)
    assert HOSTILE not in document and "&lt;script&gt;" in document


def test_terminal_shows_each_dimension_after_the_overall_result(evaluation: Evaluation) -> None:
    text = render_text(scorecard(EXPERIMENT, evaluation), width=120)
    overall, rest = text.split("by country")
    _, platforms = rest.split("by platform")
    assert "web · b" in platforms and "(null) · c" in platforms
    assert evaluation.breakdowns is not None
    exposures = evaluation.breakdowns.exposures
    units = exposures[exposures["dimension"] == "country"].groupby("segment", sort=False)["exposures"].sum()
    assert units.is_monotonic_decreasing  # largest first
    listed = ", ".join(f"{segment} {int(count):,}" for segment, count in units.items())
    assert f"units: {listed}" in rest and HOSTILE in listed  # user text as it is
    assert "SRM:" in platforms and "p-values corrected within each segment" in platforms
    assert "· b" not in overall


def test_the_notebook_display_includes_the_breakdown(evaluation: Evaluation) -> None:
    attach_renderings()  # as `import expsql` does on first use of expsql.evaluate
    fragment = evaluation._repr_html_()
    assert fragment is not None and "By platform" in fragment


@pytest.fixture(scope="module")
def timeline_evaluation() -> Evaluation:
    """The experiment with a daily timeline, dated to the data's seven days."""
    exposures, events = generate(seed=2, units=400)
    connection = duckdb.connect()
    for name, frame in (("exposures", exposures), ("events", events)):
        connection.register("generated", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM generated")
        connection.unregister("generated")
    dated = EXPERIMENT.model_copy(
        update={"date_from": DATE_FROM, "date_to": DATE_TO, "timeline": "daily", "breakdown": ["platform"]}
    )
    sql = compile_sql(dated, dialect="duckdb", rows="metrics", source=validate_source(SOURCE))
    return evaluate(dated, connection.execute(sql).df())


def test_a_timeline_with_a_breakdown_shows_each_segments_days(timeline_evaluation: Evaluation) -> None:
    assert timeline_evaluation.experiment is not None
    card = scorecard(timeline_evaluation.experiment, timeline_evaluation)
    (view,) = card.breakdowns
    segments = [segment.name for segment in view.segments]
    treatments = {f"{name} · {variant}" for name in segments for variant in ("b", "c")}
    assert {item.variant for item in view.timeline} == treatments
    text = render_text(card, width=200)
    for metric in ("clicks", "spend"):
        table = text.split(f"Timeline: {metric} by platform", 1)[1].split("\n\n", 1)[0]
        assert all(f"{name} · b" in table for name in segments)
        assert all(f"2024-03-0{day}" in table for day in range(1, 8))  # a row per day
    page = render_html(card)
    for metric in ("clicks", "spend"):
        chart = page.split(f"{metric} by platform, by day</h3>", 1)[1].split("</svg>", 1)[0] + "</svg>"
        svg = ET.fromstring(chart)
        labels = {node.text for node in svg.iter("{http://www.w3.org/2000/svg}text")}
        assert {f"{name} · b" for name in segments} <= labels
