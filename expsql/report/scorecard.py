"""The scorecard every report renders: the plain scorecard (:mod:`.view`), its timeline
(:mod:`.timeline`) and its breakdowns (:mod:`.segments`) with each segment's days, put together
once."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from expsql.models import Experiment
from expsql.report.segments import segment_label, with_breakdowns
from expsql.report.timeline import timeline_series
from expsql.report.view import DimensionView, EvaluationFrames, RunContext, Scorecard, plain_scorecard


def scorecard(
    experiment: Experiment, evaluation: EvaluationFrames, context: RunContext | None = None
) -> Scorecard:
    """The scorecard of ``evaluation``: metrics in definition order, variants in the frame's order,
    with the timeline and the breakdowns the evaluation has."""
    card = plain_scorecard(experiment, evaluation, context)
    card = replace(card, timeline=timeline_series(experiment, getattr(evaluation, "timeline", None)))
    card = with_breakdowns(card, experiment, evaluation)
    days = getattr(getattr(evaluation, "breakdowns", None), "timeline", None)
    if days is None or days.empty:
        return card
    return replace(card, breakdowns=tuple(_with_days(view, experiment, days) for view in card.breakdowns))


def _with_days(view: DimensionView, experiment: Experiment, days: pd.DataFrame) -> DimensionView:
    """``view`` with each segment × treatment's days (``segment · variant``, as its metrics' lines)."""
    own = days[(days["dimension"] == view.dimension).to_numpy(dtype=bool)]
    own = own[(own["exp_variant_id"].astype(str) != experiment.control_variant).to_numpy(dtype=bool)]
    labels = [
        segment_label(str(s), str(v)) for s, v in zip(own["segment"], own["exp_variant_id"], strict=True)
    ]
    return replace(view, timeline=timeline_series(experiment, own.assign(exp_variant_id=labels)))
