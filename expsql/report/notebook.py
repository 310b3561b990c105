"""Evaluations in notebooks: the HTML report's fragment (``_repr_html_``) and the Markdown
tables (``_repr_markdown_``), attached to :class:`~expsql.stats.Evaluation` from above."""

from __future__ import annotations

from expsql.models import Experiment
from expsql.report.html import render_fragment
from expsql.report.markdown import render_markdown
from expsql.report.scorecard import scorecard
from expsql.stats.evaluation import Evaluation, attach_rendering


def html_fragment(experiment: Experiment, evaluation: Evaluation) -> str:
    """The HTML report's summary, tables and forest plots (no page, no SQL)."""
    return render_fragment(scorecard(experiment, evaluation))


def markdown_tables(experiment: Experiment, evaluation: Evaluation) -> str:
    """The scorecard as Markdown tables."""
    return render_markdown(scorecard(experiment, evaluation))


def attach_renderings() -> None:
    """Make every evaluation render in notebooks as :func:`html_fragment` and
    :func:`markdown_tables` (idempotent)."""
    attach_rendering("html", html_fragment)
    attach_rendering("markdown", markdown_tables)
