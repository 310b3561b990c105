"""What each readout adds to every renderer: the verdict's words and colour, its header line.

- **frequentist**: ``▲ significant`` / ``▼ significant`` / ``not significant``; the arrow is the
  sign of the difference, the colour whether that is an improvement (``higher_is_better``);
- **bayesian**: ``▲ won`` / ``▼ lost`` / ``undecided`` by the chance to win against the decision
  threshold, with "Chance to win" and "Risk" (the expected relative loss of shipping the
  treatment) where the frequentist tables show the p-value, and no multiple-comparison correction;
- **always-valid**: the header names the confidence sequence, valid at any look.
"""

from __future__ import annotations

import math

from expsql.report.view import Scorecard, VariantLine, format_level, format_number, format_percent

UP, DOWN = "▲", "▼"
#: CSS-like kinds of a verdict: better, worse, no decision, the control.
BETTER, WORSE, NEUTRAL, CONTROL = "up", "down", "ns", "control"


def verdict(line: VariantLine, bayesian: bool) -> tuple[str, str]:
    """``(text, kind)`` of a variant's verdict; ``kind`` is :data:`BETTER`, :data:`WORSE`,
    :data:`NEUTRAL` or :data:`CONTROL`."""
    if line.is_control:
        return "control", CONTROL
    if line.direction == 0:
        return ("undecided" if bayesian else "not significant"), NEUTRAL
    arrow = UP if line.direction > 0 else DOWN
    kind = BETTER if line.improvement > 0 else WORSE
    if bayesian:
        return f"{arrow} {'won' if kind == BETTER else 'lost'}", kind
    return f"{arrow} significant", kind


def format_chance(value: float) -> str:
    """A chance to win as a percentage (``97.3%``), ``n/a`` when undefined."""
    return format_percent(value, signed=False) if math.isfinite(value) else "n/a"


def format_risk(line: VariantLine) -> str:
    """The expected relative loss of shipping the treatment (``0.12%``)."""
    return format_percent(line.risk_treatment, signed=False, digits=2)


def readout_text(card: Scorecard) -> str:
    """One line on how the results were read: Bayesian with its prior, or the sequential mode."""
    if card.bayesian:
        prior = card.prior
        described = (
            f"prior N({format_number(float(prior.get('mean', 0)))}, "
            f"{format_number(float(prior.get('variance', 1)))}) on the relative effect"
            if prior.get("proper")
            else "flat prior"
        )
        return (
            f"Bayesian, {described}; won above {format_level(card.decision_threshold)} chance to win, "
            f"lost below {format_level(1 - card.decision_threshold)}; no multiple-comparison correction"
        )
    if card.sequential_mode == "always-valid":
        return "frequentist, always-valid confidence sequence (valid at any look; Waudby-Smith et al. 2023)"
    return ""


def interval_name(card: Scorecard) -> str:
    """The interval column's header."""
    if card.bayesian:
        return "Credible interval"
    return "CS (relative)" if card.sequential_mode == "always-valid" else "CI (relative)"


def direction_note(card: Scorecard) -> str:
    """Names the metrics where lower is better (their colours are flipped), empty when none."""
    lower = [metric.name for metric in card.experiment.metrics if not metric.higher_is_better]
    one_sided = [metric.name for metric in card.experiment.metrics if metric.one_sided]
    notes = []
    if lower:
        notes.append(f"lower is better for {', '.join(lower)}")
    if one_sided and not card.bayesian:
        notes.append(f"one-sided test in the direction of improvement for {', '.join(one_sided)}")
    return "; ".join(notes)
