"""The HTML report: one self-contained file, every section, all user text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from expsql.report.html import render_html
from expsql.report.scorecard import scorecard
from expsql.report.view import RunContext
from tests.report.frames import Frames, experiment_named, frames_for, with_cuped

HOSTILE = "<script>alert('x')</script> & \"quoted\""


class Collector(HTMLParser):
    """Records tags, attributes and text, so tests look at the document and not at substrings."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(document: str) -> Collector:
    collector = Collector()
    collector.feed(document)
    return collector


def test_report_is_self_contained(experiment, frames: Frames) -> None:
    document = render_html(scorecard(experiment, frames, RunContext(sql="SELECT 1")))
    parsed = parse(document)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    assert not any(name in ("src", "href") for name, _ in parsed.attributes)
    # The only URL is the SVG namespace, which is a name and never fetched.
    assert set(re.findall(r"https?://[^\s\"')]+", document)) == {"http://www.w3.org/2000/svg"}
    assert "@import" not in document and "url(" not in document


def test_report_has_summary_checks_metrics_plots_and_sql(experiment, frames: Frames) -> None:
    context = RunContext(
        dialect="duckdb", rows="metrics", sql="SELECT exp_variant_id FROM events", query_seconds=0.2
    )
    document = render_html(scorecard(experiment, frames, context))
    text = " ".join(parse(document).text)
    for heading in ("Checks", "Metrics", "Relative differences", "SQL"):
        assert f"<h2>{heading}</h2>" in document
    assert "SELECT exp_variant_id FROM events" in text
    assert "13,412" in text and "99.44% (sequential; nominal 95%)" in text and "0.200 s" in text
    assert "✔ pass" in text and "✘ fail" in text
    assert "▲ significant" in text and "▼ significant" in text and "not significant" in text
    svgs = re.findall(r"<svg.*?</svg>", document, flags=re.S)
    assert len(svgs) == len(experiment.metrics)
    for svg in svgs:
        ET.fromstring(svg)


def test_all_user_text_is_escaped() -> None:
    experiment = experiment_named(metric_name=HOSTILE, variant="<b>v</b>")
    document = render_html(
        scorecard(experiment, frames_for(experiment), RunContext(sql=f"SELECT '{HOSTILE}'"))
    )
    assert "<script>" not in document and "<b>v</b>" not in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in document
    assert "script" not in parse(document).tags
    text = "".join(parse(document).text)
    assert HOSTILE in text and "<b>v</b>" in text  # shown to the reader as written


def test_report_without_sql_leaves_the_section_out(experiment, frames: Frames) -> None:
    assert "<h2>SQL</h2>" not in render_html(scorecard(experiment, frames))


def test_cuped_column_and_note_appear_with_adjusted_metrics(experiment, frames: Frames) -> None:
    assert ">CUPED<" not in render_html(scorecard(experiment, frames))
    document = render_html(scorecard(experiment, with_cuped(frames, {(1, "b"): 0.5})))
    text = " ".join(parse(document).text)
    assert ">CUPED</th>" in document and "−50.0% var" in text
    assert "CUPED: means adjusted by each unit's own value of the metric" in text
