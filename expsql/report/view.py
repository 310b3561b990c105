"""What every report shows, computed once: the rows of the scorecard, the checks' verdicts, the context.

The renderers (:mod:`.terminal`, :mod:`.html`) only lay out what
:func:`~expsql.report.scorecard.scorecard` returns, built of these parts, so
the terminal and the HTML report can never disagree about a number or a verdict.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from expsql.contracts import MULTIPLE_EXPOSURES_CHECK
from expsql.models import Experiment


class EvaluationFrames(Protocol):
    """The tidy frames of an evaluation (:class:`expsql.stats.Evaluation` has them)."""

    @property
    def metrics(self) -> pd.DataFrame: ...

    @property
    def checks(self) -> pd.DataFrame: ...

    @property
    def exposures(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class RunContext:
    """Where the rows came from, for the report's header: the warehouse, the query, its time."""

    dialect: str | None = None
    rows: str | None = None
    sql: str | None = None
    query_seconds: float | None = None
    origin: str | None = None
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class VariantLine:
    """One variant of one metric, as the scorecard shows it."""

    variant: str
    is_control: bool
    mean: float
    diff: float
    ci_lower: float
    ci_upper: float
    p_value: float
    confidence_level: float
    significant: bool
    power: float
    required_sample_size: float
    sample_size: float
    cuped: bool = False
    variance_reduction: float = math.nan
    #: Bayesian inference (:mod:`expsql.stats.bayesian`); NaN under frequentist inference.
    chance_to_win: float = math.nan
    risk_control: float = math.nan
    risk_treatment: float = math.nan
    standard_error: float = math.nan
    higher_is_better: bool = True

    @property
    def direction(self) -> int:
        """+1 higher, -1 lower, 0 no significant change (or the control)."""
        if self.is_control or not self.significant or not math.isfinite(self.diff) or self.diff == 0:
            return 0
        return 1 if self.diff > 0 else -1

    @property
    def improvement(self) -> int:
        """+1 a significant change for the better, -1 for the worse (``higher_is_better`` decides)."""
        return self.direction if self.higher_is_better else -self.direction


@dataclass(frozen=True)
class MetricBlock:
    metric_id: str
    name: str
    lines: tuple[VariantLine, ...]


@dataclass(frozen=True)
class CheckLine:
    """A check with its variables and whether it passed (``None``: could not be decided)."""

    check_id: str
    name: str
    variables: dict[str, float]
    passed: bool | None
    reason: str


@dataclass(frozen=True)
class Segment:
    name: str
    units: int
    #: The segment's SRM checks (one per SRM check of the experiment).
    srm: tuple[CheckLine, ...]


@dataclass(frozen=True)
class DimensionView:
    """One breakdown dimension: its segments (largest first) and one block per metric whose lines
    are the segments' variants, labelled ``segment · variant``."""

    dimension: str
    segments: tuple[Segment, ...]
    metrics: tuple[MetricBlock, ...]
    correction: str
    #: ``timeline: daily``: each metric's segment × treatment lines over the days, labelled as the
    #: metrics' lines are (none without a timeline).
    timeline: tuple[TimelineSeries, ...] = ()


@dataclass(frozen=True)
class TimelineSeries:
    """One treatment variant of one metric over the window's days (the control is the zero line)."""

    metric_id: str
    name: str
    variant: str
    days: tuple[dt.date, ...]
    diffs: tuple[float, ...]
    lowers: tuple[float, ...]
    uppers: tuple[float, ...]
    levels: tuple[float, ...]
    significant: tuple[bool, ...]

    @property
    def first_significant(self) -> dt.date | None:
        """The first day whose look was significant (``None``: none was)."""
        return next((day for day, flag in zip(self.days, self.significant, strict=True) if flag), None)


@dataclass(frozen=True)
class Scorecard:
    experiment: Experiment
    exposures: dict[str, int]
    metrics: tuple[MetricBlock, ...]
    checks: tuple[CheckLine, ...]
    confidence_levels: tuple[float, ...]
    context: RunContext
    warnings: tuple[str, ...] = ()
    #: One view per breakdown dimension (:mod:`.segments`), none without a breakdown.
    breakdowns: tuple[DimensionView, ...] = ()
    #: ``timeline: daily``: each metric's treatment variants over the days (:mod:`.timeline`).
    timeline: tuple[TimelineSeries, ...] = ()
    #: How the results were read (:mod:`expsql.report.readout`): the evaluation's options.
    inference: str = "frequentist"
    sequential_mode: str | None = None
    prior: dict[str, Any] = field(default_factory=dict)
    decision_threshold: float = 0.95

    @property
    def bayesian(self) -> bool:
        return self.inference == "bayesian"

    @property
    def cuped(self) -> bool:
        """Whether any mean was adjusted by its pre-exposure value (CUPED)."""
        return any(line.cuped for block in self.metrics for line in block.lines)

    @property
    def sequential(self) -> bool:
        """Whether a confidence level other than the nominal one was used (sequential testing)."""
        return any(
            not math.isclose(level, self.experiment.confidence_level) for level in self.confidence_levels
        )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _flag(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def plain_scorecard(
    experiment: Experiment, evaluation: EvaluationFrames, context: RunContext | None = None
) -> Scorecard:
    """The scorecard of ``evaluation`` without its timeline and breakdowns (a segment's, or the
    start of :func:`expsql.report.scorecard.scorecard`): metrics in definition order, variants in
    the frame's order."""
    metrics = evaluation.metrics
    blocks = []
    for metric in experiment.metrics:
        rows = metrics[metrics["metric_id"].astype(str) == str(metric.id)]

        lines = tuple(
            VariantLine(
                variant=str(row["exp_variant_id"]),
                is_control=str(row["exp_variant_id"]) == experiment.control_variant,
                mean=_number(row["mean"]),
                diff=_number(row["diff"]),
                ci_lower=_number(row.get("ci_lower")),
                ci_upper=_number(row.get("ci_upper")),
                p_value=_number(row["p_value"]),
                confidence_level=_number(row["confidence_level"]),
                significant=_flag(row.get("significant")),
                power=_number(row.get("power")),
                required_sample_size=_number(row.get("required_sample_size")),
                sample_size=_number(row.get("sample_size")),
                cuped=_flag(row.get("cuped")),
                variance_reduction=_number(row.get("variance_reduction")),
                chance_to_win=_number(row.get("chance_to_win")),
                risk_control=_number(row.get("risk_control")),
                risk_treatment=_number(row.get("risk_treatment")),
                standard_error=_number(row.get("standard_error")),
                higher_is_better=metric.higher_is_better,
            )
            for _, row in rows.iterrows()
        )
        blocks.append(MetricBlock(str(metric.id), metric.name, lines))
    exposures = {
        str(row["exp_variant_id"]): int(
            _number(row["exposures"]) if math.isfinite(_number(row["exposures"])) else 0
        )
        for _, row in evaluation.exposures.iterrows()
    }
    levels = sorted({round(level, 6) for level in pd.to_numeric(metrics["confidence_level"]).dropna()})
    return Scorecard(
        experiment=experiment,
        exposures=exposures,
        metrics=tuple(blocks),
        checks=tuple(check_lines(experiment, evaluation.checks)),
        confidence_levels=tuple(levels),
        context=context or RunContext(rows=_contract_name(evaluation)),
        warnings=tuple(str(w) for w in getattr(evaluation, "warnings", ())),
        inference=str(getattr(evaluation, "inference", "frequentist")),
        sequential_mode=getattr(evaluation, "sequential", None),
        prior=dict(getattr(evaluation, "prior", None) or {}),
        decision_threshold=float(getattr(evaluation, "decision_threshold", 0.95)),
    )


def _contract_name(evaluation: EvaluationFrames) -> str | None:
    """``goals`` or ``metrics``, from the evaluation's ``contract`` (``goal rows``) when it has one."""
    contract = getattr(evaluation, "contract", None)
    return {"goal rows": "goals", "metric rows": "metrics"}.get(str(contract)) if contract else None


def check_lines(experiment: Experiment, checks: pd.DataFrame) -> list[CheckLine]:
    """Each check of the experiment with its variables and a pass/fail verdict.

    The stats module's ``passed`` column decides when it is there. Rows without one (ep-stats
    reports variables only) follow ep-stats' documentation: a check fails when its p-value is below
    ``1 - confidence_level`` (0.001 by default), a SumRatio check also when the observed ratio
    exceeds ``max_sum_ratio``.
    """
    declared: list[tuple[str, str, str]] = [(str(c.id), c.name, c.type) for c in experiment.checks]
    # Checks expsql adds itself (MultipleExposures, exposures layout) follow the declared ones.
    added = checks[~checks["check_id"].astype(str).isin([i for i, _, _ in declared])]
    if len(added):
        for check_id, name in dict(
            zip(added["check_id"].astype(str), added["check_name"], strict=True)
        ).items():
            kind = "MultipleExposures" if check_id == MULTIPLE_EXPOSURES_CHECK else "SRM"
            declared.append((check_id, str(name), kind))
    lines = []
    for check_id, check_name, kind in declared:
        rows = checks[checks["check_id"].astype(str) == check_id]
        variables = {str(row["variable_id"]): _number(row["value"]) for _, row in rows.iterrows()}
        passed, reason = _verdict(kind, variables)
        if "passed" in rows.columns and len(rows):
            reported = rows["passed"].iloc[0]
            missing = reported is None or (isinstance(reported, float) and math.isnan(reported))
            passed = None if missing else bool(reported)
        lines.append(CheckLine(check_id, check_name, variables, passed, reason))
    return lines


def _verdict(kind: str, variables: dict[str, float]) -> tuple[bool | None, str]:
    """SumRatio: the observed ratio within ``max_sum_ratio``; MultipleExposures: the share of
    excluded units within ``max_share``; SRM: ``p ≥ 1 - confidence_level``."""
    if kind == "MultipleExposures":
        share, limit = variables.get("excluded_share", math.nan), variables.get("max_share", math.nan)
        if not (math.isfinite(share) and math.isfinite(limit)):
            return None, "share of excluded units not available"
        passed = share <= limit
        return passed, f"excluded share {share:.4g} {'≤' if passed else '>'} {limit:.4g}"
    if kind == "SumRatio":
        ratio, limit = variables.get("sum_ratio", math.nan), variables.get("max_sum_ratio", math.nan)
        if not (math.isfinite(ratio) and math.isfinite(limit)):
            return None, "sum ratio not available"
        passed = ratio <= limit
        return passed, f"sum ratio {ratio:.4g} {'≤' if passed else '>'} {limit:.4g}"
    p_value = variables.get("p_value", math.nan)
    level = variables.get("confidence_level", math.nan)
    if not (math.isfinite(p_value) and math.isfinite(level)):
        return None, "p-value not available"
    threshold = 1 - level
    passed = p_value >= threshold
    return passed, f"{p_text(p_value)} {'≥' if passed else '<'} {threshold:.4g}"


# Number formats shared by every renderer.


def format_number(value: float) -> str:
    """Four significant digits, thousands separated, no exponent for everyday magnitudes."""
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{value:,.0f}"
    if magnitude == 0:
        return "0"
    if magnitude >= 1:
        return f"{value:#.4g}" if magnitude < 1000 else f"{value:,.1f}"
    if magnitude >= 1e-4:
        return f"{value:#.4g}"
    return f"{value:.2e}"


def format_percent(value: float, *, signed: bool = True, digits: int = 1) -> str:
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else ("+∞" if value > 0 else "−∞")
    text = f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"
    return text.replace("-", "−")


def format_p(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if value < 1e-4:
        return "<0.0001"
    return f"{value:.4f}"


def p_text(value: float) -> str:
    """``p = 0.0123`` or ``p < 0.0001``."""
    text = format_p(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


#: Short names of check variables, for the tables.
CHECK_VARIABLES = {
    "p_value": "p",
    "test_stat": "χ²",
    "confidence_level": "level",
    "sum_ratio": "ratio",
    "max_sum_ratio": "max ratio",
    "excluded_share": "share",
    "max_share": "max share",
}


def check_values(variables: dict[str, float]) -> str:
    """A check's variables in one line: ``p 0.5412, χ² 1.228, level 0.999``."""
    parts = []
    for name, value in variables.items():
        if name == "passed":
            continue
        if name == "p_value":
            shown = format_p(value)
        elif name == "confidence_level":
            shown = format_level(value)
        else:
            shown = format_number(value)
        parts.append(f"{CHECK_VARIABLES.get(name, name)} {shown}")
    return ", ".join(parts)


def format_level(value: float) -> str:
    """A confidence level as a percentage with as many digits as it needs (95%, 99.44%)."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def format_interval(lower: float, upper: float) -> str:
    """``[−1.2%, +3.4%]``; a one-sided interval's open end is ±∞; ``n/a`` when undefined or
    infinite on both sides."""
    if math.isnan(lower) or math.isnan(upper) or not (math.isfinite(lower) or math.isfinite(upper)):
        return "n/a"
    return f"[{format_percent(lower)}, {format_percent(upper)}]"


def format_reduction(line: VariantLine) -> str:
    """A CUPED row's variance reduction (``−48.2% var``); empty for a row CUPED did not adjust."""
    if not line.cuped:
        return ""
    return f"{format_percent(-line.variance_reduction)} var"


def cuped_note(card: Scorecard) -> str:
    """The footnote of a scorecard with CUPED-adjusted metrics."""
    days = card.experiment.cuped_lookback_days
    lookback = f" over the {days:g} days before exposure" if days else ""
    control = card.experiment.control_variant
    several = sum(not line.is_control for line in card.metrics[0].lines) > 1 if card.metrics else False
    shown = (
        f"The control row shows {control}'s unadjusted mean: each treatment is compared with {control} "
        "adjusted in its own comparison (its mean minus the absolute difference)."
        if several
        else f"The control row shows {control}'s mean adjusted in the comparison."
    )
    return (
        f"CUPED: means adjusted by each unit's own value of the metric{lookback} (Deng et al. 2013); "
        f"the CUPED column is the change in the variance of the mean. {shown}"
    )


def date_window(experiment: Experiment) -> str:
    if experiment.date_from is None and experiment.date_to is None:
        return "all dates"
    start = experiment.date_from.isoformat() if experiment.date_from else "…"
    end = experiment.date_to.isoformat() if experiment.date_to else "…"
    window = f"{start} → {end}"
    if experiment.date_for is not None:
        window += f" (evaluated for {experiment.date_for.isoformat()})"
    return window


def levels_text(card: Scorecard) -> str:
    """The confidence level(s) used, and the nominal one when sequential testing changed it."""
    used = ", ".join(format_level(level) for level in card.confidence_levels) or "n/a"
    if card.sequential:
        return f"{used} (sequential; nominal {format_level(card.experiment.confidence_level)})"
    return used


def join(parts: Sequence[str], separator: str = " · ") -> str:
    return separator.join(part for part in parts if part)
