"""The timeline as every report shows it: per metric and treatment variant, its days' looks.

:func:`timeline_series` reads :attr:`expsql.stats.Evaluation.timeline` (one row per day × metric ×
variant, each day evaluated as that day's sequential look) into one :class:`TimelineSeries` per
metric and treatment variant, in the experiment's metric order; the terminal prints it as a
compact table per metric (:func:`timeline_table`), the HTML report as a chart
(:mod:`.timeline_chart`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich import box
from rich.table import Table
from rich.text import Text

from expsql.models import Experiment
from expsql.report.view import TimelineSeries, format_interval, format_level, format_percent


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def timeline_series(experiment: Experiment, frame: pd.DataFrame | None) -> tuple[TimelineSeries, ...]:
    """Every metric's treatment variants over the days of ``frame`` (the evaluation's timeline)."""
    if frame is None or frame.empty:
        return ()
    series = []
    ids = frame["metric_id"].astype(str)
    for metric in experiment.metrics:
        rows = frame[(ids == str(metric.id)).to_numpy(dtype=bool)]
        for variant in dict.fromkeys(rows["exp_variant_id"].astype(str)):
            if variant == experiment.control_variant:
                continue
            own = rows[(rows["exp_variant_id"].astype(str) == variant).to_numpy(dtype=bool)]
            own = own.sort_values("day", kind="stable")
            series.append(
                TimelineSeries(
                    metric_id=str(metric.id),
                    name=metric.name,
                    variant=variant,
                    days=tuple(own["day"]),
                    diffs=tuple(_float(v) for v in own["diff"]),
                    lowers=tuple(_float(v) for v in own["ci_lower"]),
                    uppers=tuple(_float(v) for v in own["ci_upper"]),
                    levels=tuple(_float(v) for v in own["confidence_level"]),
                    significant=tuple(bool(v) for v in own["significant"]),
                )
            )
    return tuple(series)


def by_metric(series: tuple[TimelineSeries, ...]) -> dict[str, list[TimelineSeries]]:
    """The series grouped by metric id, in order."""
    grouped: dict[str, list[TimelineSeries]] = {}
    for item in series:
        grouped.setdefault(item.metric_id, []).append(item)
    return grouped


def day_cell(item: TimelineSeries, index: int) -> str:
    """``+1.2% [−0.4%, +2.8%]``, with ``▲``/``▼`` when that day's look was significant."""
    diff = item.diffs[index]
    text = f"{format_percent(diff)} {format_interval(item.lowers[index], item.uppers[index])}"
    if item.significant[index]:
        text += " ▲" if diff > 0 else " ▼"
    return text


def timeline_table(metric: list[TimelineSeries]) -> Table:
    """One metric's days: the look's confidence level and each treatment's difference with its CI."""
    table = _table(f"Timeline: {metric[0].name}")
    table.add_column("Day", no_wrap=True)
    table.add_column("Level", justify="right", no_wrap=True)
    for item in metric:
        table.add_column(item.variant, justify="right", no_wrap=True, overflow="fold")
    for index, day in enumerate(metric[0].days):
        cells: list[str | Text] = [day.isoformat(), format_level(metric[0].levels[index])]
        cells += [day_cell(item, index) if index < len(item.days) else "" for item in metric]
        table.add_row(*cells)
    return table


def segments_timeline_table(metric: list[TimelineSeries], dimension: str) -> Table:
    """One metric's days by segment: a row per day and segment × treatment (a segment has no row
    before its first unit), so the table stays as narrow however many segments there are."""
    table = _table(f"Timeline: {metric[0].name} by {dimension}")
    for name, justify in (
        ("Day", "left"),
        ("Level", "right"),
        ("Segment · variant", "left"),
        ("Diff", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    days = sorted({day for item in metric for day in item.days})
    for day in days:
        for item in metric:
            if day not in item.days:
                continue
            index = item.days.index(day)
            table.add_row(
                day.isoformat(), format_level(item.levels[index]), item.variant, day_cell(item, index)
            )
    return table


def _table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )


def first_significant_note(metric: list[TimelineSeries]) -> str:
    """``b first significant on 2024-03-05``, per treatment (``never significant`` otherwise)."""
    notes = []
    for item in metric:
        first = item.first_significant
        notes.append(
            f"{item.variant} first significant on {first}" if first else f"{item.variant} not significant"
        )
    return "; ".join(notes)
