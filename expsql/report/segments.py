"""The breakdown part of every report: per dimension and metric, one line per segment × variant.

Each segment's numbers are the scorecard's own (:func:`~expsql.report.view.plain_scorecard` over the
segment's frames), so a segment reads exactly like the overall result; here they are regrouped
by metric, the segment named in each line (``cz · b``), so one table and one forest plot per
metric compare the segments.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from expsql.models import Experiment
from expsql.report.view import (
    CheckLine,
    DimensionView,
    MetricBlock,
    Scorecard,
    Segment,
    VariantLine,
    plain_scorecard,
)


@dataclass(frozen=True)
class SegmentFrames:
    """One segment's exposures, metrics and checks, as a scorecard reads them."""

    exposures: pd.DataFrame
    metrics: pd.DataFrame
    checks: pd.DataFrame
    warnings: tuple[str, ...] = ()


def segment_label(segment: str, variant: str) -> str:
    return f"{segment} · {variant}"


def dimension_views(experiment: Experiment, breakdowns: Any) -> tuple[DimensionView, ...]:
    """The views of an evaluation's :class:`~expsql.stats.breakdowns.Breakdowns`."""
    views = []
    for dimension in breakdowns.dimensions:
        segments: list[Segment] = []
        lines: dict[str, list[VariantLine]] = {str(m.id): [] for m in experiment.metrics}
        for name in breakdowns.segments(dimension):
            frames = segment_frames(breakdowns, dimension, name)
            card = plain_scorecard(experiment, frames)
            srm = tuple(c for c in card.checks if _is_srm(experiment, c))
            segments.append(Segment(name, sum(card.exposures.values()), srm))
            for block in card.metrics:
                lines[block.metric_id] += [
                    replace(line, variant=segment_label(name, line.variant)) for line in block.lines
                ]
        blocks = tuple(MetricBlock(str(m.id), m.label, tuple(lines[str(m.id)])) for m in experiment.metrics)
        views.append(DimensionView(dimension, tuple(segments), blocks, breakdowns.correction))
    return tuple(views)


def segment_frames(breakdowns: Any, dimension: str, segment: str) -> SegmentFrames:
    """One segment's frames from a :class:`~expsql.stats.breakdowns.Breakdowns`."""
    return SegmentFrames(
        _part(breakdowns.exposures, dimension, segment),
        _part(breakdowns.metrics, dimension, segment),
        _part(breakdowns.checks, dimension, segment),
    )


def _part(frame: pd.DataFrame, dimension: str, segment: str) -> pd.DataFrame:
    rows = frame[(frame["dimension"] == dimension) & (frame["segment"] == segment)]
    return rows.drop(columns=["dimension", "segment"]).reset_index(drop=True)


def _is_srm(experiment: Experiment, check: CheckLine) -> bool:
    kinds = {str(c.id): c.type for c in experiment.checks}
    return kinds.get(check.check_id) == "SRM"


def srm_text(segment: Segment) -> str:
    """``pass`` / ``FAIL`` / ``?`` for the segment's SRM checks, ``''`` without one."""
    if not segment.srm:
        return ""
    verdicts = [check.passed for check in segment.srm]
    if any(v is False for v in verdicts):
        return "FAIL"
    return "pass" if all(v is True for v in verdicts) else "?"


def srm_summary(view: DimensionView) -> str:
    """``pass in every segment``, or the segments where SRM failed or could not be decided."""
    failed = [s.name for s in view.segments if srm_text(s) == "FAIL"]
    unknown = [s.name for s in view.segments if srm_text(s) == "?"]
    if not failed and not unknown:
        return "pass in every segment"
    parts = [f"FAIL in {', '.join(failed)}"] if failed else []
    parts += [f"undecided in {', '.join(unknown)}"] if unknown else []
    return "; ".join(parts)


def correction_text(view: DimensionView) -> str:
    if view.correction == "segments":
        return "corrected across segments × variants"
    return "corrected within each segment"


def with_breakdowns(card: Scorecard, experiment: Experiment, evaluation: Any) -> Scorecard:
    """``card`` with the dimension views of ``evaluation``'s breakdowns, when it has any."""
    breakdowns = getattr(evaluation, "breakdowns", None)
    if breakdowns is None:
        return card
    return replace(card, breakdowns=dimension_views(experiment, breakdowns))
