"""The HTML report: one self-contained file that opens offline, and its body for notebooks.

Inline CSS, inline SVG forest plots (:mod:`.forest`) and timeline charts (:mod:`.timeline_chart`),
no script and no external resource. Every piece of user text (experiment, metric, check and
variant names, the SQL) goes through ``html.escape``. :func:`render_html` is the whole page;
:func:`render_fragment` the same summary, tables and plots without the page around them
(``Evaluation._repr_html_``), its CSS scoped to one ``div`` so that it styles nothing else in the
notebook.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape

from expsql.report.forest import COLOURS, forest_svg
from expsql.report.posterior import posterior_svg
from expsql.report.readout import (
    direction_note,
    format_chance,
    format_risk,
    interval_name,
    readout_text,
    verdict,
)
from expsql.report.segments import correction_text, srm_text
from expsql.report.timeline import by_metric, first_significant_note
from expsql.report.timeline_chart import timeline_svg
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
    levels_text,
)
from expsql.version import __version__

CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --bg: #ffffff;
  --soft: #f6f8fa; --up: #1a7f37; --down: #cf222e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; padding: 24px; max-width: 1040px; }
h1 { font-size: 1.6em; margin: 0 0 4px; word-break: break-word; }
h2 { font-size: 1.2em; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1em; margin: 18px 0 4px; }
.muted, .tick { color: var(--muted); fill: var(--muted); }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.summary dt { color: var(--muted); } dl.summary dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.control td { color: var(--muted); }
.up { color: var(--up); font-weight: 600; } .down { color: var(--down); font-weight: 600; }
.ns { color: var(--muted); } .pass { color: var(--up); font-weight: 600; }
.fail { color: var(--down); font-weight: 600; } .unknown { color: #9a6700; font-weight: 600; }
svg.forest { display: block; max-width: 100%; height: auto; font-size: 12px; }
svg.forest .grid { stroke: var(--line); stroke-width: 1; }
svg.forest .zero { stroke: var(--fg); stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.forest .label { fill: var(--fg); } svg.forest .value { font-variant-numeric: tabular-nums; }
svg.timeline { display: block; max-width: 100%; height: auto; font-size: 12px; }
svg.timeline .grid { stroke: var(--line); stroke-width: 1; }
svg.timeline .zero { stroke: var(--fg); stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.timeline .label { fill: var(--fg); }
svg.timeline .sequence { fill-opacity: 0.18; }
svg.posterior { display: block; max-width: 100%; height: auto; font-size: 12px; }
svg.posterior .grid { stroke: var(--line); stroke-width: 1; }
svg.posterior .zero { stroke: var(--fg); stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.posterior .label { fill: var(--fg); } svg.posterior .value { font-variant-numeric: tabular-nums; }
pre { background: var(--soft); border: 1px solid var(--line); padding: 12px; overflow-x: auto;
  font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
footer { margin-top: 32px; color: var(--muted); font-size: 0.85em; }
"""


def _verdict_cell(line: VariantLine, bayesian: bool = False) -> str:
    text, kind = verdict(line, bayesian)
    return f'<td class="{"ns" if kind == "control" else kind}">{escape(text)}</td>'


#: The class of the ``div`` that holds a fragment and scopes its CSS.
FRAGMENT_CLASS = "expsql-evaluation"
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def scoped_css(css: str, scope: str) -> str:
    """``css`` with every selector moved inside ``scope`` (``:root`` and ``body`` become ``scope``)."""

    def scope_selector(selector: str) -> str:
        selector = selector.strip()
        if selector in {":root", "body"}:
            return scope
        return f"{scope} {selector}"

    rules = []
    for selectors, declarations in _RULE.findall(css):
        scoped = ", ".join(scope_selector(selector) for selector in selectors.split(","))
        rules.append(f"{scoped} {{{declarations}}}")
    return "\n".join(rules)


def _summary(card: Scorecard, *, generated: bool = True) -> str:
    experiment = card.experiment
    context = card.context
    items = [
        ("Control variant", experiment.control_variant),
        ("Unit", experiment.unit_type),
        ("Dates", date_window(experiment)),
        (
            "Exposures",
            ", ".join(f"{variant}: {count:,}" for variant, count in card.exposures.items()) or "none",
        ),
        ("Credible level" if card.bayesian else "Confidence level", levels_text(card)),
    ]
    items += [("Readout", note) for note in (readout_text(card),) if note]
    items += [("Direction", note) for note in (direction_note(card),) if note]
    if context.dialect:
        items.append(("Warehouse", context.dialect))
    if context.rows:
        items.append(("Row contract", f"{context.rows} rows"))
    if context.query_seconds is not None:
        items.append(("Query time", f"{context.query_seconds:.3f} s"))
    if context.origin:
        items.append(("Rows from", context.origin))
    if generated:
        items.append(("Generated", context.generated.strftime("%Y-%m-%d %H:%M:%S %Z")))
    cells = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in items)
    return f'<dl class="summary">{cells}</dl>'


def _checks(card: Scorecard) -> str:
    if not card.checks:
        return '<p class="muted">This experiment defines no checks.</p>'
    rows = []
    for check in card.checks:
        values = check_values(check.variables)
        if check.passed is None:
            verdict = f'<td class="unknown">? {escape(check.reason)}</td>'
        elif check.passed:
            verdict = f'<td class="pass">✔ pass <span class="muted">({escape(check.reason)})</span></td>'
        else:
            verdict = f'<td class="fail">✘ fail ({escape(check.reason)})</td>'
        rows.append(f"<tr><td>{escape(check.name)}</td><td>{escape(values or 'n/a')}</td>{verdict}</tr>")
    return (
        "<table><thead><tr><th>Check</th><th>Values</th><th>Result</th></tr></thead><tbody>"
        + "".join(rows)
        + ("</tbody></table>")
    )


def _metric_table(card: Scorecard) -> str:
    cuped = '<th title="Change in the variance of the mean by CUPED">CUPED</th>' if card.cuped else ""
    tests = "<th>Chance to win</th><th>Risk</th>" if card.bayesian else "<th>p-value</th>"
    head = (
        "<thead><tr><th>Metric</th><th>Variant</th><th>Mean</th><th>Diff</th>"
        f"<th>{interval_name(card)}</th>{tests}<th>Level</th><th>Power</th>{cuped}<th>Result</th></tr></thead>"
    )
    width = 7 if card.bayesian else 6
    rows = []
    for block in card.metrics:
        for position, line in enumerate(block.lines):
            name = escape(block.name) if position == 0 else ""
            control = line.is_control
            numbers = (
                [format_number(line.mean)]
                if control
                else [
                    format_number(line.mean),
                    format_percent(line.diff),
                    format_interval(line.ci_lower, line.ci_upper),
                    *(
                        [format_chance(line.chance_to_win), format_risk(line)]
                        if card.bayesian
                        else [format_p(line.p_value)]
                    ),
                    format_level(line.confidence_level),
                    format_percent(line.power, signed=False, digits=0),
                ]
            )
            numbers += [""] * (width - len(numbers))
            numbers += [format_reduction(line)] if card.cuped else []
            cells = [f"<td>{name}</td>", f"<td>{escape(line.variant)}</td>"]
            cells += [f'<td class="num">{escape(number)}</td>' for number in numbers]
            cells.append(_verdict_cell(line, card.bayesian))
            rows.append(f'<tr class="{"control" if control else "treatment"}">{"".join(cells)}</tr>')
    note = f'<p class="muted">{escape(cuped_note(card))}</p>' if card.cuped else ""
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>{note}"


def _forest(card: Scorecard) -> str:
    interval = (
        "its credible interval"
        if card.bayesian
        else "its confidence sequence (valid at any look)"
        if card.sequential_mode == "always-valid"
        else "its confidence interval at the level used"
    )
    decided = (
        ("won", "lost", "undecided") if card.bayesian else ("significant", "significant", "not significant")
    )
    legend = (
        f'<p class="muted">Dot: relative difference to control ({escape(card.experiment.control_variant)}); '
        f"whiskers: {interval}. "
        f'<span style="color:{COLOURS[1]}">{decided[0]}, an improvement</span>, '
        f'<span style="color:{COLOURS[-1]}">{decided[1]}, a deterioration</span>, '
        f'<span style="color:{COLOURS[0]}">{decided[2]}</span>.</p>'
    )
    plots = [f"<h3>{escape(block.name)}</h3>{forest_svg(block)}" for block in card.metrics]
    return legend + "".join(plots)


def _posteriors(card: Scorecard) -> list[str]:
    """Bayesian: per metric, each treatment's posterior of the relative effect (none otherwise)."""
    if not card.bayesian or not card.metrics:
        return []
    legend = (
        '<p class="muted">Each violin is the posterior of the treatment\'s relative effect against '
        f"control ({escape(card.experiment.control_variant)}); the bar marks the credible interval, the "
        "dot the posterior mean, the dashed line no effect.</p>"
    )
    plots = [f"<h3>{escape(block.name)}</h3>{posterior_svg(block)}" for block in card.metrics]
    return ["<h2>Posteriors</h2>", legend, *plots]


def _timeline(card: Scorecard) -> list[str]:
    """A chart per metric of its relative difference by day (none without a timeline)."""
    if not card.timeline:
        return []
    legend = (
        f"<p class=\"muted\">Each day is the result as of that day's end, evaluated as that day's look "
        f"of the sequential test: the line is the relative difference to control "
        f"({escape(card.experiment.control_variant)}), the band {_band(card)}, a filled dot a "
        f"{'decided' if card.bayesian else 'significant'} look; the dashed vertical line marks the first.</p>"
    )
    plots = [
        f"<h3>{escape(metric[0].name)}</h3>"
        f"{timeline_svg(metric, index, sequence=card.sequential_mode == 'always-valid')}"
        f'<p class="muted">{escape(first_significant_note(metric))}.</p>'
        for index, metric in enumerate(by_metric(card.timeline).values())
    ]
    return ["<h2>Timeline</h2>", legend, *plots]


def _band(card: Scorecard) -> str:
    if card.bayesian:
        return "its credible interval"
    if card.sequential_mode == "always-valid":
        return "its always-valid confidence sequence (valid at every look, no α spent)"
    return "its confidence interval at that day's level"


def _results(card: Scorecard) -> list[str]:
    """Warnings, checks, the metric table, the forest plots and the timeline: what the page and a
    fragment share."""
    return [
        "".join(f'<p class="unknown">warning: {escape(warning)}</p>' for warning in card.warnings),
        "<h2>Checks</h2>",
        _checks(card),
        "<h2>Metrics</h2>",
        _metric_table(card) if card.metrics else '<p class="muted">No metrics.</p>',
        "<h2>Relative differences</h2>",
        _forest(card),
        *_posteriors(card),
        *(_breakdown(card, view) for view in card.breakdowns),
        *_timeline(card),
    ]


def _breakdown(card: Scorecard, view: DimensionView) -> str:
    """One breakdown dimension: its segments, then per metric a table and a forest plot with one
    line per segment × variant."""
    segments = "".join(
        f'<tr><td>{escape(s.name)}</td><td class="num">{s.units:,}</td><td>{escape(srm_text(s))}</td></tr>'
        for s in view.segments
    )
    parts = [
        f"<h2>By {escape(view.dimension)}</h2>",
        f'<p class="muted">{escape(_segments_note(card, view))}.</p>',
        f"<table><thead><tr><th>Segment</th><th>Units</th><th>SRM</th></tr></thead><tbody>{segments}</tbody></table>",
    ]
    days = by_metric(view.timeline)
    first_chart = 1000 * (1 + card.breakdowns.index(view))  # clip path ids unique on the page
    for index, block in enumerate(view.metrics):
        parts.append(f"<h3>{escape(block.name)} by {escape(view.dimension)}</h3>")
        parts.append(_metric_table(replace(card, metrics=(block,))))
        parts.append(forest_svg(block))
        if block.metric_id in days:  # each segment's days, the chart the overall timeline draws
            sequence = card.sequential_mode == "always-valid"
            chart = timeline_svg(days[block.metric_id], first_chart + index, sequence=sequence)
            parts.append(f"<h3>{escape(block.name)} by {escape(view.dimension)}, by day</h3>{chart}")
    return "".join(parts)


def _segments_note(card: Scorecard, view: DimensionView) -> str:
    if card.bayesian:
        return "Each segment's posteriors, no multiple-comparison correction"
    return f"p-values {correction_text(view)}"


def render_fragment(card: Scorecard) -> str:
    """The report's summary, tables and forest plots in one ``div``: no page, no SQL, no footer."""
    style = scoped_css(CSS, f"div.{FRAGMENT_CLASS}")
    body = [
        f"<style>{style}</style>",
        f"<h1>{escape(card.experiment.id)}</h1>",
        _summary(card, generated=False),
        *_results(card),
    ]
    return f'<div class="{FRAGMENT_CLASS}">' + "\n".join(body) + "</div>"


def render_html(card: Scorecard) -> str:
    """The whole report as one HTML document."""
    title = f"expsql · {card.experiment.id}"
    sql = card.context.sql
    sql_section = (
        f'<h2>SQL</h2><p class="muted">The query that produced the rows'
        f"{' (' + escape(card.context.dialect) + ')' if card.context.dialect else ''}.</p>"
        f"<pre><code>{escape(sql)}</code></pre>"
        if sql
        else ""
    )
    body = [
        f"<h1>{escape(card.experiment.id)}</h1>",
        _summary(card),
        *_results(card),
        sql_section,
        f"<footer>expsql {escape(__version__)}</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
