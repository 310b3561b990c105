"""The rich scorecard: every verdict, the level used, the checks, readable at 100 columns."""

from __future__ import annotations

import io

from rich.console import Console

from expsql.report.scorecard import scorecard
from expsql.report.terminal import print_scorecard, render_text
from expsql.report.view import RunContext
from tests.report.frames import Frames, experiment_named, frames_for, with_cuped


def test_scorecard_fits_100_columns_without_cutting_numbers(experiment, frames: Frames) -> None:
    text = render_text(
        scorecard(experiment, frames, RunContext("duckdb", "metrics", None, 0.25, "demo.duckdb"))
    )
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "…" not in text
    for expected in ("+12.0%", "[+6.7%, +17.3%]", "0.0002", "−9.8%", "[−15.9%, −3.7%]", "4.412", "0.0897"):
        assert expected in text


def test_markers_show_significance_and_direction(experiment, frames: Frames) -> None:
    lines = render_text(scorecard(experiment, frames)).splitlines()
    row_b_conversion = next(line for line in lines if "+12.0%" in line)
    row_b_revenue = next(line for line in lines if "−9.8%" in line)
    row_c_conversion = next(line for line in lines if "+0.5%" in line)
    assert "▲ significant" in row_b_conversion
    assert "▼ significant" in row_b_revenue
    assert "not significant" in row_c_conversion and "▲" not in row_c_conversion
    assert sum(line.endswith("control") for line in lines) == 3


def test_sequential_level_is_shown_with_the_nominal_one(experiment, frames: Frames) -> None:
    text = render_text(scorecard(experiment, frames))
    assert "confidence level: 99.44% (sequential; nominal 95%)" in text
    fixed = render_text(scorecard(experiment, frames_for(experiment, level=0.95)))
    assert "confidence level: 95%\n" in fixed and "sequential" not in fixed


def test_checks_show_pass_and_fail_with_the_reason(experiment, frames: Frames) -> None:
    lines = render_text(scorecard(experiment, frames)).splitlines()
    srm = next(line for line in lines if line.lstrip().startswith("Sample ratio mismatch"))
    ratio = next(line for line in lines if line.lstrip().startswith("Refunds vs conversions"))
    assert "✔ pass" in srm and "p 0.5412" in srm and "level 99.9%" in srm
    assert "✘ FAIL (sum ratio 0.048 > 0.01)" in ratio


def test_header_names_experiment_exposures_and_source(experiment, frames: Frames) -> None:
    context = RunContext(dialect="postgres", rows="goals", query_seconds=1.5, origin="host=db")
    head = render_text(scorecard(experiment, frames, context)).splitlines()[:4]
    assert head[0].startswith("checkout-redesign  control a · unit user · 2026-11-02 → 2026-11-15")
    assert head[1] == "exposures: a 13,412, b 13,301, c 13,287"
    assert head[3] == "source: postgres · goals rows · query 1.50 s · host=db"


def test_long_metric_names_wrap_instead_of_widening_the_table() -> None:
    experiment = experiment_named("Revenue per user from returning customers in the EU, product p_1, " * 2)
    text = render_text(scorecard(experiment, frames_for(experiment)), width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "[+6.7%, +17.3%]" in text


def test_print_scorecard_writes_to_the_given_console(experiment, frames: Frames) -> None:
    buffer = io.StringIO()
    print_scorecard(scorecard(experiment, frames), Console(file=buffer, width=100, color_system=None))
    assert "▲ significant" in buffer.getvalue()


def test_cuped_adds_a_variance_column_and_a_footnote_only_when_a_metric_is_adjusted(
    experiment, frames: Frames
) -> None:
    plain = render_text(scorecard(experiment, frames))
    assert "CUPED" not in plain
    adjusted = with_cuped(frames, {(1, "b"): 0.482, (1, "c"): 0.47, (2, "b"): 0.3})
    text = render_text(scorecard(experiment, adjusted))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100 and "…" not in text
    assert "−48.2% var" in next(line for line in lines if "+12.0%" in line)
    assert "−30.0% var" in next(line for line in lines if "−9.8%" in line)
    assert "var" not in next(line for line in lines if "Refund rate" in line)
    footnote = " ".join(text.split("CUPED: ", 1)[1].split())
    assert footnote.startswith("means adjusted by each unit's own value of the metric")
    assert "unadjusted mean" in footnote  # three variants: the control row is not adjusted
