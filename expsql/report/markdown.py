"""The scorecard as Markdown: what ``Evaluation._repr_markdown_`` shows in notebooks and chat tools.

The same numbers and verdicts as the terminal and the HTML report (:func:`~.scorecard.scorecard`), laid
out as a short summary and two pipe tables. User text is escaped so that it cannot break a table.
"""

from __future__ import annotations

from expsql.report.readout import format_chance, format_risk, interval_name, readout_text, verdict
from expsql.report.view import (
    Scorecard,
    VariantLine,
    check_values,
    date_window,
    format_interval,
    format_number,
    format_p,
    format_percent,
    levels_text,
)

_SPECIAL = str.maketrans({character: f"\\{character}" for character in "\\|*_`[]<>#"})


def escape_markdown(text: str) -> str:
    """``text`` for a Markdown table cell: markup characters escaped, newlines folded."""
    return " ".join(str(text).split()).translate(_SPECIAL)


def _verdict(line: VariantLine, bayesian: bool) -> str:
    return verdict(line, bayesian)[0]


def render_markdown(card: Scorecard) -> str:
    """A heading, the summary, the metric table and the checks table."""
    experiment = card.experiment
    exposures = ", ".join(f"{escape_markdown(v)} {count:,}" for v, count in card.exposures.items())
    lines = [
        f"**{escape_markdown(experiment.id)}** · control {escape_markdown(experiment.control_variant)} · "
        f"unit {escape_markdown(experiment.unit_type)} · {date_window(experiment)}",
        "",
        f"exposures: {exposures or 'none'} · "
        f"{'credible' if card.bayesian else 'confidence'} level: {levels_text(card)}",
        "",
    ]
    if readout_text(card):
        lines += [readout_text(card), ""]
    tests = "Chance to win | Risk" if card.bayesian else "p-value"
    lines += [
        f"| Metric | Variant | Mean | Diff | {interval_name(card)} | {tests} | Result |",
        "|---|---|--:|--:|--:|--:|" + ("--:|" if card.bayesian else "") + "---|",
    ]
    for block in card.metrics:
        for position, line in enumerate(block.lines):
            name = escape_markdown(block.name) if position == 0 else ""
            tested = (
                [format_chance(line.chance_to_win), format_risk(line)]
                if card.bayesian
                else [format_p(line.p_value)]
            )
            numbers = (
                [""] * (2 + len(tested))
                if line.is_control
                else [format_percent(line.diff), format_interval(line.ci_lower, line.ci_upper), *tested]
            )
            verdict_text = _verdict(line, card.bayesian)
            cells = [name, escape_markdown(line.variant), format_number(line.mean), *numbers, verdict_text]
            lines.append("| " + " | ".join(cells) + " |")
    if card.checks:
        lines += ["", "| Check | Values | Result |", "|---|---|---|"]
        for check in card.checks:
            verdict = {True: "✔ pass", False: "✘ fail", None: "?"}[check.passed]
            values = escape_markdown(check_values(check.variables) or "n/a")
            reason = escape_markdown(check.reason)
            lines.append(f"| {escape_markdown(check.name)} | {values} | {verdict} ({reason}) |")
    lines += [f"\nwarning: {escape_markdown(warning)}" for warning in card.warnings]
    return "\n".join(lines) + "\n"
