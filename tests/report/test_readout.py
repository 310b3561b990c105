"""Each renderer's block for the readouts (:mod:`expsql.report.readout`): the Bayesian scorecard's
chance to win, risk and won/lost, its posterior violins, the flipped colours of a metric where
lower is better, a one-sided interval's open end and the confidence-sequence band."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from expsql.report.html import render_html
from expsql.report.markdown import render_markdown
from expsql.report.scorecard import scorecard
from expsql.report.terminal import render_text
from expsql.report.view import Scorecard
from expsql.stats import evaluate
from tests.stats.frames import experiment, metric, metric_row

#: Conversions of three variants: b clearly up, c clearly down (per unit 0/1, so x² = x).
ROWS = pd.DataFrame(
    [
        metric_row(variant, metric_id, 4000, buyers, buyers, 4000, 4000, buyers)
        for metric_id in ("1", "2")
        for variant, buyers in (("a", 800), ("b", 960), ("c", 660))
    ]
)
DEFINITION = experiment(
    [
        metric(1, "count(user.unit.conversion)"),
        metric(2, "count(user.unit.refund)", higher_is_better=False, one_sided=True),
    ]
)


def card(**options: Any) -> Scorecard:
    return scorecard(DEFINITION, evaluate(DEFINITION, ROWS, **options))


def test_the_bayesian_terminal_scorecard_reads_chance_to_win_and_risk() -> None:
    text = render_text(card(inference="bayesian"))
    assert "Chance to win" in text and "Risk" in text and "p-value" not in text
    assert "Credible interval" in text and "no multiple-comparison correction" in text
    conversion, refunds = text.split("\nmetric 2")
    assert re.search(r"b .*100\.0%.*▲ won", conversion) and re.search(r"c .*0\.0%.*▼ lost", conversion)
    # Refunds: lower is better, so b's rise lost and c's fall won.
    assert re.search(r"b .*▲ lost", refunds) and re.search(r"c .*▼ won", refunds)


def test_the_bayesian_html_draws_one_posterior_chart_per_metric_with_the_verdicts_colours() -> None:
    page = render_html(card(inference="bayesian"))
    assert page.count('class="posterior"') == 2
    assert page.count('class="violin"') == 4 and page.count('class="credible"') == 4
    assert '<td class="up">▲ won</td>' in page and '<td class="down">▼ lost</td>' in page
    assert "<th>Chance to win</th><th>Risk</th>" in page


def test_lower_is_better_turns_a_significant_fall_green_in_every_renderer() -> None:
    chosen = card(sequential="none", correction="none")
    page = render_html(chosen)
    assert page.count('<td class="up">▲ significant</td>') == 1  # conversion rose for b
    assert page.count('<td class="down">▼ significant</td>') == 1  # conversion fell for c
    assert page.count('<td class="up">▼ significant</td>') == 1  # refunds fell for c: green
    assert "one-sided test in the direction of improvement for metric 2" in render_text(chosen)
    # Refunds, one-sided where lower is better: the interval is open downwards.
    assert "| c | 0.1650 | −17.5% | [−∞, −11.0%] | <0.0001 | ▼ significant |" in render_markdown(chosen)


def test_the_always_valid_report_names_the_sequence() -> None:
    chosen = card(sequential="always-valid")
    assert "CS (relative)" in render_text(chosen)
    assert "its confidence sequence (valid at any look)" in render_html(chosen)
