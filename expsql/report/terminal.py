"""The scorecard in a terminal (rich): metrics by variant, checks with pass/fail, readable at 100 columns."""

from __future__ import annotations

import io
from dataclasses import replace

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from expsql.report.readout import (
    BETTER,
    WORSE,
    direction_note,
    format_chance,
    format_risk,
    interval_name,
    readout_text,
    verdict,
)
from expsql.report.segments import correction_text, srm_summary
from expsql.report.timeline import by_metric, first_significant_note, segments_timeline_table, timeline_table
from expsql.report.view import (
    DimensionView,
    Scorecard,
    VariantLine,
    check_values,
    cuped_note,
    date_window,
    format_interval,
    format_level,
    format_number,
    format_p,
    format_percent,
    format_reduction,
    join,
    levels_text,
)

STYLES = {BETTER: "bold green", WORSE: "bold red"}


def marker(line: VariantLine, bayesian: bool = False) -> Text:
    """``▲ significant`` / ``▼ significant`` / ``not significant`` / ``control`` (Bayesian: ``won``,
    ``lost``, ``undecided``), green for an improvement and red for the opposite."""
    text, kind = verdict(line, bayesian)
    return Text(text, style=STYLES.get(kind, "dim"))


def header(card: Scorecard) -> Text:
    experiment = card.experiment
    text = Text()
    text.append(experiment.id, style="bold")
    text.append(
        "  "
        + join(
            [
                f"control {experiment.control_variant}",
                f"unit {experiment.unit_type}",
                date_window(experiment),
            ]
        )
    )
    exposures = join([f"{variant} {count:,}" for variant, count in card.exposures.items()], ", ")
    text.append(f"\nexposures: {exposures or 'none'}")
    level_name = "credible level" if card.bayesian else "confidence level"
    text.append(f"\n{level_name}: {levels_text(card)}")
    for note in (readout_text(card), direction_note(card)):
        if note:
            text.append(f"\n{note}")
    context = card.context
    source = join(
        [
            context.dialect or "",
            f"{context.rows} rows" if context.rows else "",
            f"query {context.query_seconds:.2f} s" if context.query_seconds is not None else "",
            context.origin or "",
        ]
    )
    if source:
        text.append(f"\nsource: {source}", style="dim")
    return text


def metrics_table(card: Scorecard) -> Table:
    """Metric × variant rows; a Level column only when the levels differ (the header names one level)."""
    per_row_level = len(card.confidence_levels) > 1
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
    table.add_column("Metric", overflow="fold", min_width=16, max_width=32)
    table.add_column("Variant", overflow="fold", max_width=12)
    table.add_column("Mean", justify="right", no_wrap=True)
    table.add_column("Diff", justify="right", no_wrap=True)
    table.add_column(interval_name(card), justify="right", no_wrap=True)
    if card.bayesian:
        table.add_column("Chance to win", justify="right", no_wrap=True)
        table.add_column("Risk", justify="right", no_wrap=True)
    else:
        table.add_column("p-value", justify="right", no_wrap=True)
    if per_row_level:
        table.add_column("Level", justify="right", no_wrap=True)
    if card.cuped:
        table.add_column("CUPED", justify="right", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    for index, block in enumerate(card.metrics):
        for position, line in enumerate(block.lines):
            cells: list[str | Text] = [
                block.name if position == 0 else "",
                line.variant,
                format_number(line.mean),
            ]
            if line.is_control:
                cells += ["", "", ""] + ([""] if per_row_level else []) + ([""] if card.bayesian else [])
            else:
                cells += [format_percent(line.diff), format_interval(line.ci_lower, line.ci_upper)]
                cells += (
                    [format_chance(line.chance_to_win), format_risk(line)]
                    if card.bayesian
                    else [format_p(line.p_value)]
                )
                cells += [format_level(line.confidence_level)] if per_row_level else []
            cells += [format_reduction(line)] if card.cuped else []
            cells.append(marker(line, card.bayesian))
            table.add_row(
                *cells, end_section=index < len(card.metrics) - 1 and position == len(block.lines) - 1
            )
    return table


def checks_table(card: Scorecard) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
    table.add_column("Check", overflow="fold", max_width=30)
    table.add_column("Values", overflow="fold")
    table.add_column("Result", no_wrap=True)
    for check in card.checks:
        values = check_values(check.variables)
        if check.passed is None:
            verdict = Text(f"? {check.reason}", style="yellow")
        elif check.passed:
            verdict = Text("✔ pass", style="bold green")
        else:
            verdict = Text(f"✘ FAIL ({check.reason})", style="bold red")
        table.add_row(check.name, values or "n/a", verdict)
    return table


def scorecard_renderable(card: Scorecard) -> RenderableType:
    parts: list[RenderableType] = [header(card)]
    if card.metrics:
        parts.append(metrics_table(card))
        if card.cuped:
            parts.append(Text(cuped_note(card), style="dim"))
    else:
        parts.append(Text("no metrics", style="dim"))
    for metric in by_metric(card.timeline).values():
        parts += [Text(""), timeline_table(metric), Text(first_significant_note(metric), style="dim")]
    if card.checks:
        parts += [Text(""), checks_table(card)]
    for view in card.breakdowns:
        parts += [Text(""), *breakdown_renderables(card, view)]
    if card.warnings:
        parts.append(Text("\n".join(f"warning: {warning}" for warning in card.warnings), style="yellow"))
    return Group(*parts)


def breakdown_renderables(card: Scorecard, view: DimensionView) -> list[RenderableType]:
    """One dimension: its segments (units, SRM), then the metrics table with a line per segment ×
    variant."""
    segments = join([f"{segment.name} {segment.units:,}" for segment in view.segments], ", ")
    title = Text(f"by {view.dimension}", style="bold")
    note = "no multiple-comparison correction" if card.bayesian else f"p-values {correction_text(view)}"
    title.append(f"  {note}", style="dim")
    title.append(f"\nunits: {segments or 'none'}")
    if any(segment.srm for segment in view.segments):
        title.append(f"\nSRM: {srm_summary(view)}")
    parts: list[RenderableType] = [title, metrics_table(replace(card, metrics=view.metrics))]
    for metric in by_metric(view.timeline).values():
        parts += [Text(""), segments_timeline_table(metric, view.dimension)]
    return parts


def print_scorecard(card: Scorecard, console: Console | None = None) -> None:
    (console or Console()).print(scorecard_renderable(card))


def render_text(card: Scorecard, *, width: int = 100, color: bool = False) -> str:
    """The scorecard as plain text ``width`` columns wide (for files, tests and docs)."""
    console = Console(
        width=width, record=True, color_system="truecolor" if color else None, file=io.StringIO()
    )
    console.print(scorecard_renderable(card))
    text = console.export_text(styles=color)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
