"""``Evaluation`` in notebooks: ``_repr_html_`` and ``_repr_markdown_`` hold every metric and check.

The renderings are the report's, attached from above (:mod:`expsql.report.notebook`) when
:func:`expsql.evaluate` is first used; the stats never import the report."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from typing import Any

import pytest

import expsql
from expsql.models import Experiment
from expsql.stats import Evaluation
from tests.stats.frames import EXPOSURES, experiment, exposure_row, goal_row, metric

METRIC_NAMES = ("Buyers <b>&amp; co</b>", "Revenue | per user", "Clicks")


class _Collector(HTMLParser):
    """Every tag opened and closed, and the text, to check that the fragment is well formed."""

    VOID = frozenset({"br", "img", "meta", "link", "input", "hr", "circle", "line"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _evaluation() -> Evaluation:
    return expsql.evaluate(*_evaluation_rows())


def _evaluation_rows() -> tuple[Experiment, list[dict[str, Any]]]:
    rows = [exposure_row("a", 1000), exposure_row("b", 1000)]
    rows += [
        goal_row("a", "buy", count=100, sum_value=900, sum_sqr_value=9000),
        goal_row("b", "buy", count=160, sum_value=1500, sum_sqr_value=15000),
    ]
    rows += [goal_row("a", "click", count=300), goal_row("b", "click", count=290)]
    definition = experiment(
        [
            metric(1, "count(user.unit.buy)", name=METRIC_NAMES[0]),
            metric(2, "value(user.unit.buy)", name=METRIC_NAMES[1]),
            metric(3, "count(user.unit.click)", name=METRIC_NAMES[2]),
        ],
        checks=[{"id": 1, "name": "SRM <check>", "denominator": EXPOSURES}],
    )
    return definition, rows


def _parsed(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def test_repr_html_parses_and_holds_every_metric_and_check() -> None:
    html = _evaluation()._repr_html_()
    assert html is not None
    parsed = _parsed(html)
    assert parsed.errors == []
    assert parsed.stack == [], f"unclosed tags: {parsed.stack}"
    text = "".join(parsed.text)
    for name in (*METRIC_NAMES, "SRM <check>"):
        assert name in text  # escaped in the markup, the same text once parsed
    assert "<b>" not in html.replace("&lt;b&gt;", "")  # user text never becomes markup
    assert parsed.tags.count("svg") == len(METRIC_NAMES)  # one forest plot per metric
    assert {"table", "style", "dl"} <= set(parsed.tags)


def test_repr_html_is_a_fragment_whose_style_touches_nothing_outside_it() -> None:
    html = _evaluation()._repr_html_()
    assert html is not None
    assert html.startswith('<div class="expsql-evaluation">') and html.endswith("</div>")
    for chrome in ("<html", "<head", "<body", "<!DOCTYPE", "<footer", "<title>expsql"):
        assert chrome not in html
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    selectors = [rule.split("{", 1)[0] for rule in style.split("}") if rule.strip()]
    assert selectors and all(
        all(part.strip().startswith("div.expsql-evaluation") for part in selector.split(","))
        for selector in selectors
    ), selectors


def test_repr_markdown_holds_every_metric_variant_and_check() -> None:
    evaluation = _evaluation()
    markdown = evaluation._repr_markdown_()
    assert markdown is not None
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    # a header, then one row per metric and variant, then the checks' header and one row
    assert len(table) == 1 + len(METRIC_NAMES) * 2 + 2
    assert "Buyers \\<b\\>&amp; co\\</b\\>" in markdown
    assert "Revenue \\| per user" in markdown  # a pipe in a name cannot split the table
    assert all(line.count(" | ") == 6 for line in table[: 1 + len(METRIC_NAMES) * 2])
    significant = evaluation.metrics.query("exp_variant_id == 'b'")["significant"].tolist()
    assert markdown.count("significant") - markdown.count("not significant") == sum(significant)


@pytest.mark.parametrize("method", ["_repr_html_", "_repr_markdown_"])
def test_an_evaluation_without_its_experiment_falls_back_to_text(method: str) -> None:
    bare = dataclasses.replace(_evaluation(), experiment=None)
    assert getattr(bare, method)() is None
    assert "Experiment" in str(bare)


def test_the_stats_alone_render_text_until_the_package_attaches_the_report() -> None:
    # A fresh interpreter: in this one, an earlier test has attached the renderings already.
    script = textwrap.dedent(
        """
        import sys
        from expsql.stats import evaluate
        from tests.report.test_notebook import _evaluation_rows
        definition, rows = _evaluation_rows()
        bare = evaluate(definition, rows)
        assert bare._repr_html_() is None and "expsql.report" not in sys.modules
        import expsql
        assert expsql.evaluate is evaluate
        assert bare._repr_html_().startswith('<div class="expsql-evaluation">')
        assert bare._repr_markdown_().startswith("**")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
