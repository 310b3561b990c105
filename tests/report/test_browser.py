"""The HTML report in a real browser: every kind of report opens offline in headless Chromium with
no console error or warning and no script error, and every chart and table renders with a size.

The driver is playwright (:mod:`tests.report.browser`) over Debian's ``/usr/bin/chromium``, which
``.ci/run`` installs. Without either the tests skip with the reason, except under ``CI=true``,
where a missing browser fails them, like a missing engine (``tests/conftest.py``).

Each kind is one entry of :data:`KINDS`: a function from the demo's DuckDB file to the page, the
exact number of charts (``<svg>``) and tables it shows, and optionally the image of its first chart
that the README shows. Each run rewrites a full-page screenshot per kind in
``tests/report/artifacts/<kind>.png`` (ignored by git: the page holds the time it was generated);
``EXPSQL_UPDATE_IMAGES=1`` also rewrites the README's chart images in ``docs/images/``; review the
picture, then commit it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from expsql import runner
from expsql.demo import demo_experiment, write_demo_database
from expsql.report import RunContext, render
from expsql.source import load_source
from expsql.testing.pytest_plugin import engine_unavailable
from tests.report.browser import Browser, chart_clip, launch, rendered_problems

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
IMAGES = ROOT / "docs" / "images"
UPDATE_IMAGES = os.environ.get("EXPSQL_UPDATE_IMAGES") == "1"
#: As many users as ``expsql demo`` has, so that the pictures show the numbers the README quotes.
DEMO_UNITS = 100_000


@dataclass(frozen=True)
class ReportKind:
    """One kind of report page, rendered from the demo's data."""

    name: str
    #: The whole HTML page, from the path of the demo's DuckDB database.
    page: Callable[[Path], str]
    #: Exactly how many charts (``<svg>``) and tables the page shows.
    charts: int
    tables: int
    #: The file in ``docs/images/`` that shows one of the page's charts in the README ...
    image: str | None = None
    #: ... the chart of this index among the page's ``<svg>`` elements.
    image_chart: int = 0


#: The demo's events table with ``platform``, the exposure attribute a breakdown reads, declared.
DEMO_SOURCE = ROOT / "examples" / "demo-source.yaml"


@functools.cache
def demo_run(database: Path, **fields: object) -> runner.Run:
    """The demo experiment (with ``fields`` changed) run on ``database`` through the pipeline
    ``expsql demo`` uses."""
    dao = runner.connect("duckdb", str(database), {"read_only": True})
    experiment = demo_experiment().model_copy(update=fields)
    return runner.run(experiment, dao, dialect="duckdb", rows="metrics", source=load_source(DEMO_SOURCE))


def overall_report(database: Path, **fields: object) -> str:
    """The file ``expsql demo --format html --output FILE`` writes."""
    result = demo_run(database, **fields)
    context = RunContext("duckdb", result.rows, result.sql, result.query_seconds, origin="sample data")
    return render("html", result.experiment, result.evaluation, context)


#: A notebook's output cell, roughly: the fragment must style itself and nothing around it.
NOTEBOOK = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>notebook</title></head>'
    '<body><div class="output_area"><div class="output_html">{}</div></div></body></html>\n'
)


def notebook_output(database: Path) -> str:
    """``Evaluation._repr_html_`` of the same run, as Jupyter shows it in an output cell."""
    fragment = demo_run(database).evaluation._repr_html_()
    assert fragment is not None
    return NOTEBOOK.format(fragment)


def timeline_report(database: Path) -> str:
    """The demo experiment with ``timeline: daily``: after the forest plots, a chart per metric
    over the days."""
    return overall_report(database, timeline="daily")


def breakdown_report(database: Path) -> str:
    """The demo experiment broken down by ``platform``: after the overall forest plots, the
    segments' table, then per metric a table and a forest plot by segment."""
    return overall_report(database, breakdown=("platform",))


def bayesian_report(database: Path) -> str:
    """The demo experiment read the Bayesian way: after the forest plots, per metric the posterior
    of each treatment's relative effect (violins)."""
    return overall_report(database, inference="bayesian")


def always_valid_timeline_report(database: Path) -> str:
    """The timeline under ``sequential: always-valid``: the band of each chart is the sequence."""
    return overall_report(database, timeline="daily", sequential="always-valid")


def timeline_breakdown_report(database: Path) -> str:
    """The timeline with a breakdown by ``platform``: after each metric's segment table and forest
    plot, its segments' days; the overall days at the end."""
    return overall_report(database, timeline="daily", breakdown=("platform",))


METRICS = len(demo_experiment().metrics)
KINDS = (
    ReportKind("overall", overall_report, charts=METRICS, tables=2, image="forest.png"),
    ReportKind("notebook", notebook_output, charts=METRICS, tables=2),
    ReportKind(
        "breakdown",
        breakdown_report,
        charts=2 * METRICS,
        tables=3 + METRICS,
        image="breakdown.png",
        image_chart=METRICS,
    ),
    ReportKind(
        "timeline", timeline_report, charts=2 * METRICS, tables=2, image="timeline.png", image_chart=METRICS
    ),
    ReportKind(
        "bayesian", bayesian_report, charts=2 * METRICS, tables=2, image="posterior.png", image_chart=METRICS
    ),
    ReportKind("always-valid timeline", always_valid_timeline_report, charts=2 * METRICS, tables=2),
    ReportKind("timeline by segment", timeline_breakdown_report, charts=4 * METRICS, tables=3 + METRICS),
)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium, with a new empty profile, for this module's tests (playwright's sync
    API keeps an event loop of its own: it stops before other modules run theirs)."""
    try:
        with launch(tmp_path_factory.mktemp("chromium")) as browser:
            yield browser
            return
    except LookupError as error:
        missing = str(error)
    engine_unavailable(missing, "apt-get install chromium; pip install -e '.[dev]' (.ci/run does both)")


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_database(tmp_path_factory.mktemp("browser") / "demo.duckdb", units=DEMO_UNITS)


@pytest.mark.engine("chromium")
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_report_opens_offline_and_draws_every_chart_and_table(
    kind: ReportKind, chromium: Browser, demo_database: Path, tmp_path: Path
) -> None:
    document = kind.page(demo_database)
    assert document.count("<svg") == kind.charts and document.count("<table") == kind.tables
    path = tmp_path / f"{kind.name}.html"
    path.write_text(document, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium.open(path) as (page, visit):
        # Before any assertion, so that a failing page leaves its picture.
        page.screenshot(path=ARTIFACTS / f"{kind.name}.png", full_page=True)
        if kind.image and UPDATE_IMAGES:
            page.screenshot(path=IMAGES / kind.image, clip=chart_clip(page, kind.image_chart), full_page=True)
        assert visit.problems() == []
        assert visit.requests == [visit.url]
        assert page.locator("svg").count() == kind.charts
        assert page.locator("table").count() == kind.tables
        assert rendered_problems(page) == []


@pytest.mark.engine("chromium")
def test_the_checks_catch_a_page_that_reaches_out_errs_or_hides_a_chart(
    chromium: Browser, tmp_path: Path
) -> None:
    path = tmp_path / "broken.html"
    path.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title>'
        '<link rel="stylesheet" href="https://cdn.example.com/style.css"></head><body>'
        '<img src="http://198.51.100.7/pixel.png" alt="">'
        '<svg width="100" height="40"><title>hidden</title><rect width="10" height="10"/></svg>'
        '<svg width="0" height="0"><title>empty</title></svg>'
        '<svg width="4000" height="40"><title>wide</title><rect width="4000" height="10"/></svg>'
        "<table><tr><th>only a header</th></tr></table>"
        "<style>svg:first-of-type { display: none; }</style>"
        '<script>console.warn("careful"); missing();</script>'
        "</body></html>",
        encoding="utf-8",
    )
    with chromium.open(path) as (page, visit):
        rendered = rendered_problems(page)
    assert visit.blocked == ["https://cdn.example.com/style.css", "http://198.51.100.7/pixel.png"]
    assert any(line.startswith("warning: careful") for line in visit.console)
    assert [error.splitlines()[0] for error in visit.page_errors] == ["missing is not defined"]
    assert len(visit.problems()) >= 4
    assert rendered == [
        "chart 1 (hidden) is not visible",
        "chart 1 (hidden) is 0×0",
        "chart 1 (hidden) draws nothing",
        "chart 2 (empty) is 0×0",
        "chart 2 (empty) draws nothing",
        "chart 3 (wide) spans x 8–4008",
        "table 1 (only a header) has 1 rows",
        "the page is 4008 px wide in a 1100 px window",
    ]


def test_the_readme_shows_each_kinds_chart() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for kind in KINDS:
        if kind.image:
            assert (IMAGES / kind.image).is_file(), f"run EXPSQL_UPDATE_IMAGES=1 pytest {__file__}"
            assert f"](docs/images/{kind.image})" in readme
