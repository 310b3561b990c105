"""The scorecard every report renders: the plain scorecard (:mod:`.view`), its timeline
(:mod:`.timeline`) and its breakdowns (:mod:`.segments`), put together once."""

from __future__ import annotations

from dataclasses import replace

from expsql.models import Experiment
from expsql.report.segments import with_breakdowns
from expsql.report.timeline import timeline_series
from expsql.report.view import EvaluationFrames, RunContext, Scorecard, plain_scorecard


def scorecard(
    experiment: Experiment, evaluation: EvaluationFrames, context: RunContext | None = None
) -> Scorecard:
    """The scorecard of ``evaluation``: metrics in definition order, variants in the frame's order,
    with the timeline and the breakdowns the evaluation has."""
    card = plain_scorecard(experiment, evaluation, context)
    card = replace(card, timeline=timeline_series(experiment, getattr(evaluation, "timeline", None)))
    return with_breakdowns(card, experiment, evaluation)
