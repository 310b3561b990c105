"""Scorecards people can read: a terminal table (rich), one self-contained HTML file, JSON and CSV.

- :mod:`.scorecard` — the numbers and verdicts every format shows, computed once (:mod:`.view`)
- :mod:`.terminal` — the rich scorecard, readable at 100 columns
- :mod:`.html`     — the offline HTML report with inline SVG forest plots (:mod:`.forest`)
  and timeline charts (:mod:`.timeline`, :mod:`.timeline_chart`)
- :mod:`.epstats`  — ep-stats' ``Result`` shape (the REST answer), NaN as ``null``
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, Literal

from rich.console import Console

from expsql.models import Experiment
from expsql.report.epstats import epstats_result, json_safe
from expsql.report.html import render_html
from expsql.report.scorecard import scorecard
from expsql.report.terminal import print_scorecard, render_text
from expsql.report.view import EvaluationFrames, RunContext, Scorecard

Format = Literal["table", "json", "csv", "html"]
FORMATS: Final = ("table", "json", "csv", "html")


def to_json(experiment: Experiment, evaluation: EvaluationFrames, context: RunContext | None = None) -> str:
    """Standard JSON (NaN as ``null``): the evaluation's ``to_dict()`` and, when known, the run."""
    to_dict = getattr(evaluation, "to_dict", None)
    if callable(to_dict):
        body: dict[str, Any] = dict(to_dict())
    else:  # frames from elsewhere: the same three parts
        body = {"id": experiment.id} | {
            name: getattr(evaluation, name).to_dict(orient="records")
            for name in ("exposures", "metrics", "checks")
        }
    if context is not None:
        body["run"] = {
            "dialect": context.dialect,
            "rows": context.rows,
            "query_seconds": context.query_seconds,
            "origin": context.origin,
            "sql": context.sql,
        }
    return json.dumps(json_safe(body), indent=2, allow_nan=False, default=str) + "\n"


def to_csv(evaluation: EvaluationFrames) -> str:
    """The metrics frame (one row per metric and variant, ep-stats' columns) as CSV."""
    return evaluation.metrics.to_csv(index=False)


def render(
    fmt: Format,
    experiment: Experiment,
    evaluation: EvaluationFrames,
    context: RunContext | None = None,
    *,
    width: int = 100,
) -> str:
    """The evaluation in ``fmt`` as text (``table`` without colours, ``width`` columns wide)."""
    if fmt == "json":
        return to_json(experiment, evaluation, context)
    if fmt == "csv":
        return to_csv(evaluation)
    card = scorecard(experiment, evaluation, context)
    if fmt == "html":
        return render_html(card)
    if fmt == "table":
        return render_text(card, width=width)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def present(
    fmt: Format,
    experiment: Experiment,
    evaluation: EvaluationFrames,
    context: RunContext | None = None,
    *,
    output: Path | None = None,
    console: Console | None = None,
) -> None:
    """Write the evaluation to ``output``, or show it: tables through rich, the rest as plain text."""
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render(fmt, experiment, evaluation, context), encoding="utf-8")
        return
    console = console or Console()
    if fmt == "table":
        print_scorecard(scorecard(experiment, evaluation, context), console)
    else:
        console.file.write(render(fmt, experiment, evaluation, context))


__all__ = [
    "FORMATS",
    "Format",
    "RunContext",
    "Scorecard",
    "epstats_result",
    "present",
    "render",
    "render_html",
    "render_text",
    "scorecard",
    "to_csv",
    "to_json",
]
