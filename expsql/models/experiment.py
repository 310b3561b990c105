"""The experiment definition, shared by the library, the CLI and the REST API.

Field names follow ep-stats' ``/evaluate`` request body, so a body an ep-stats client sends is a
valid :class:`Experiment`. A key no model declares is refused, with the closest known key
(:class:`~expsql.models.keys.KnownKeysOnly`): a misspelt option must not run as its default.
Its metrics, checks and filters are :mod:`expsql.models.metric`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from expsql.errors import ExperimentError, ExpressionError, MetricRowsRequired
from expsql.files import read_mapping
from expsql.grammar.ast import Expr, Goal, GoalKey, goals
from expsql.grammar.names import expand_goal_names
from expsql.models.keys import KnownKeysOnly
from expsql.models.metric import Check, Filter, Metric
from expsql.references import Resolver, refuse_references
from expsql.source import unit_type_name
from expsql.windows import (
    DELAY_FIELD,
    LENGTH_FIELD,
    AttributionWindow,
    whole_seconds,
)

#: How results are read (:mod:`expsql.stats.readouts`): p-values and confidence intervals, or a posterior.
Inference = Literal["frequentist", "bayesian"]
#: How repeated looks are accounted for (:mod:`expsql.stats.sequential`, :mod:`expsql.stats.always_valid`).
Sequential = Literal["obrien-fleming", "ep-stats", "always-valid", "none"]


class Prior(KnownKeysOnly):
    """A Gaussian prior on the relative effect (Bayesian inference); improper (flat) by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "prior"

    mean: float = Field(default=0.0, allow_inf_nan=False, description="Prior mean of the relative effect.")
    variance: float = Field(
        default=1.0, gt=0, allow_inf_nan=False, description="Prior variance of the relative effect."
    )
    proper: bool = Field(
        default=False,
        description="false: the flat prior, whatever mean and variance say (the posterior is the "
        "data's normal approximation); true: the Gaussian above.",
    )


class Experiment(KnownKeysOnly):
    """An experiment to evaluate: ep-stats' ``Experiment`` request plus expsql's options."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "experiment"

    id: str
    control_variant: str
    unit_type: str
    variants: list[str] | None = None
    metrics: list[Metric] = Field(
        default_factory=list,
        description="Each a metric, or with a metric catalog a catalog metric's name, alone or with "
        "overrides of its defaults ({metric: name, minimum_effect: 0.02}).",
    )
    checks: list[Check] = Field(
        default_factory=list,
        description="Each a check, or with a metric catalog a catalog check's name ({check: name, ...}).",
    )
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    date_for: dt.date | None = None
    null_hypothesis_rate: float | None = Field(default=None, gt=0, lt=1)
    confidence_level: float = Field(default=0.95, gt=0, lt=1)
    variant_weights: dict[str, float] | None = None
    query_parameters: dict[str, Any] = Field(default_factory=dict)
    filters: list[Filter] = Field(
        default_factory=list,
        description="Restrict the data evaluated (ep-stats' filters; null is none); combined with AND.",
    )
    conversion_delay_hours: float = Field(
        default=0,
        ge=0,
        description="Exposures layout: an event counts from this many hours after the unit's first exposure.",
    )
    conversion_window_hours: float | None = Field(
        default=None,
        gt=0,
        description="Exposures layout: an event counts for this many hours after the delay (null: "
        "until the experiment ends).",
    )
    multiple_exposures: Literal["exclude", "first"] = Field(
        default="exclude",
        description="Exposures layout: a unit exposed to more than one variant is excluded from "
        "every metric and check, or attributed to the variant of its first exposure.",
    )
    cuped_lookback_days: float | None = Field(
        default=None,
        gt=0,
        description="Exposures layout: CUPED on every metric (but those with cuped: false), each "
        "adjusted by its own value over the events in the days before the unit's first exposure.",
    )
    timeline: Literal["daily"] | None = Field(
        default=None,
        description="Also evaluate the cumulative result as of the end of each day of "
        "[date_from, date_to] (each day as that day's sequential look), from the same one query "
        "(metric rows; :mod:`expsql.timeline_days`).",
    )
    incremental: bool = Field(
        default=False,
        description="Refresh incrementally: keep the experiment's inputs, compacted, in the warehouse's "
        "state schema ([state] schema) and read only the rows since the last refresh plus a "
        "late-arrival margin; the rows equal the full query's (`expsql run --incremental`, "
        "docs: Incremental refresh).",
    )
    max_multiple_exposures: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="The MultipleExposures check fails when a variant's units exposed to more than "
        "one variant exceed this share of its units.",
    )
    breakdown: list[str] = Field(
        default_factory=list,
        description="Exposure attributes to break the results down by, each on its own: the "
        "overall result plus one per segment (value) of each dimension.",
    )
    breakdown_top: int = Field(
        default=20,
        ge=1,
        description="Per breakdown dimension, the segments beyond this many (by exposed units) are "
        "merged into one segment '(other)'.",
    )
    breakdown_correction: Literal["segment", "segments"] = Field(
        default="segment",
        description="segment: the correction across the treatment variants of each segment; "
        "segments: across the segments and treatment variants of each dimension.",
    )
    inference: Inference = Field(
        default="frequentist",
        description="frequentist: p-values and confidence intervals; bayesian: chance to win, risk "
        "and a credible interval from the posterior of the relative effect (no multiple-comparison "
        "correction).",
    )
    prior: Prior = Field(
        default_factory=Prior,
        description="Bayesian inference: the Gaussian prior on the relative effect (default flat).",
    )
    decision_threshold: float = Field(
        default=0.95,
        gt=0.5,
        lt=1,
        description="Bayesian inference: a treatment won when its chance to win exceeds this, lost "
        "when it falls below 1 − this.",
    )
    sequential: Sequential | None = Field(
        default=None,
        description="Frequentist inference, repeated looks: obrien-fleming (exact Lan–DeMets "
        "boundaries over the date window, the default), ep-stats (its nominal rule), always-valid "
        "(a confidence sequence valid at any look) or none.",
    )
    sequential_tuning: float = Field(
        default=5000,
        gt=0,
        allow_inf_nan=False,
        description="sequential: always-valid: the total sample size at which the confidence "
        "sequence is tightest.",
    )

    @model_validator(mode="before")
    @classmethod
    def _goal_name_metrics(cls, data: Any) -> Any:
        return expand_goal_names(data)

    @model_validator(mode="before")
    @classmethod
    def _no_catalog_names(cls, data: Any) -> Any:
        # Catalog names are resolved before the model is built (validate_experiment's catalog).
        return refuse_references(data)

    @field_validator("id", "control_variant", "unit_type", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("breakdown", mode="before")
    @classmethod
    def _one_breakdown(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("breakdown")
    @classmethod
    def _distinct_breakdown(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or "\x00" in name:
                raise ValueError(f"breakdown dimension {name!r} is not a column name")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(
                f"breakdown names {', '.join(map(repr, repeated))} more than once; list each dimension once"
            )
        return value

    @field_validator("filters", mode="before")
    @classmethod
    def _no_filters(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("prior", mode="before")
    @classmethod
    def _flat_prior(cls, value: Any) -> Any:
        return Prior() if value is None else value

    _unit_type_is_a_name = field_validator("unit_type")(unit_type_name)

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        for kind, items in (("metric", self.metrics), ("check", self.checks)):
            ids = [item.id for item in items]
            duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids: {', '.join(duplicates)}")
        if self.variants is not None and self.control_variant not in self.variants:
            raise ValueError(
                f"control_variant {self.control_variant!r} is not among variants {self.variants}"
            )
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to must not be before date_from")
        if self.date_for and not (self.date_from and self.date_to):
            raise ValueError("date_for needs date_from and date_to")
        if self.date_for and self.date_from and self.date_for < self.date_from:
            raise ValueError("date_for must not be before date_from")
        if self.inference == "bayesian" and self.sequential not in (None, "none"):
            raise ValueError(
                f"sequential {self.sequential!r} is a frequentist mode; a Bayesian readout has none "
                "(remove sequential, or choose inference: frequentist)"
            )
        for item in [None, *self.metrics, *self.checks]:
            self.attribution_window(item)  # a window that is not whole seconds fails here
        if self.variant_weights is not None:
            if any(w <= 0 for w in self.variant_weights.values()):
                raise ValueError("variant_weights must be positive")
            if self.variants is not None and set(self.variant_weights) != set(self.variants):
                raise ValueError("variant_weights must name exactly the experiment's variants")
        return self

    def attribution_window(self, item: Metric | Check | None = None) -> AttributionWindow:
        """The window of ``item`` (its own fields, else the experiment's), or the experiment's."""
        delay = getattr(item, DELAY_FIELD, None)
        length = getattr(item, LENGTH_FIELD, None)
        delay = self.conversion_delay_hours if delay is None else delay
        length = self.conversion_window_hours if length is None else length
        return AttributionWindow(
            whole_seconds(delay, DELAY_FIELD), None if length is None else whole_seconds(length, LENGTH_FIELD)
        )

    def windows_differ(self) -> list[Metric | Check]:
        """The metrics and checks whose attribution window is not the experiment's."""
        default = self.attribution_window()
        items: list[Metric | Check] = [*self.metrics, *self.checks]
        return [item for item in items if self.attribution_window(item) != default]

    @property
    def exposure_goal(self) -> Goal:
        """``count(<unit_type>.global.exposure)``: the goal that counts exposures."""
        return Goal("count", self.unit_type, "global", "exposure")

    def expressions(self) -> Iterator[Expr]:
        """Every parsed expression of the experiment: metrics, then checks."""
        for metric in self.metrics:
            yield metric.nominator_expr
            yield metric.denominator_expr
        for check in self.checks:
            if check.nominator_expr is not None:
                yield check.nominator_expr
            yield check.denominator_expr

    def winsorized_metrics(self) -> list[Metric]:
        """The metrics whose per-unit nominator is capped at percentiles (only metric rows can)."""
        return [metric for metric in self.metrics if metric.winsorized]

    def cuped_metrics(self) -> list[Metric]:
        """The metrics adjusted with their pre-exposure values (none without ``cuped_lookback_days``)."""
        return [m for m in self.metrics if m.cuped and not m.is_quantile] if self.cuped_lookback_days else []

    def quantile_metrics(self) -> list[Metric]:
        """The quantile metrics (``quantile`` set): only metric rows carry what they need."""
        return [m for m in self.metrics if m.is_quantile]

    def needs_metric_rows(self) -> bool:
        """Whether only metric rows can serve this experiment (:meth:`require_metric_rows`; a
        timeline is built over metric rows, :mod:`expsql.timeline_days`)."""
        return bool(
            self.winsorized_metrics()
            or self.windows_differ()
            or self.cuped_metrics()
            or self.timeline
            or self.quantile_metrics()
        )

    def require_metric_rows(self, doing: str, *, per_unit: bool = False) -> None:
        """Refuse goal (or unit) rows that would silently answer another question.

        Goal rows are summed per variant and goal, so the per-unit nominator whose percentiles
        the caps are no longer exists (ep-stats ignores the caps there, and over REST). Goal and
        unit rows have one row per goal term, so a metric with its own attribution window, which
        reads the same goal over other events, has no row of its own.

        :param doing: what was refused, for the message (``compile goal rows``).
        :param per_unit: unit rows are asked for: they serve winsorized metrics.
        :raises MetricRowsRequired: a metric is winsorized, or sets its own attribution window.
        """
        winsorized = [] if per_unit else self.winsorized_metrics()
        if winsorized:
            named = ", ".join(f"{m.id} ({m.name})" for m in winsorized)
            which = f"metric {named} caps" if len(winsorized) == 1 else f"metrics {named} cap"
            raise MetricRowsRequired(
                f"cannot {doing} for experiment {self.id}: {which} outliers "
                "(outlier_upper_percentile / outlier_lower_percentile), which needs each unit's "
                "nominator; goal rows and wide rows only have sums per variant. Use metric rows "
                '(--rows metrics, or "rows": "metrics") or unit rows.'
            )
        quantiles = self.quantile_metrics()
        if quantiles:
            named = ", ".join(f"{m.id} ({m.name})" for m in quantiles)
            raise MetricRowsRequired(
                f"cannot {doing} for experiment {self.id}: metric {named} is a quantile metric, "
                "whose order statistics only the metric-rows query computes; goal, unit and wide "
                'rows do not carry them. Use metric rows (--rows metrics, or "rows": "metrics").'
            )
        adjusted = [] if per_unit else self.cuped_metrics()
        if adjusted:
            named = ", ".join(f"{m.id} ({m.name})" for m in adjusted)
            raise MetricRowsRequired(
                f"cannot {doing} for experiment {self.id}: cuped_lookback_days adjusts metrics {named} "
                "with their pre-exposure values (CUPED), which needs each unit's values; goal rows only "
                'have sums per variant. Use metric rows (--rows metrics, or "rows": "metrics") or unit '
                "rows, or set cuped: false on the metrics."
            )
        windowed = self.windows_differ()
        if windowed:
            named = ", ".join(f"{type(m).__name__.lower()} {m.id} ({m.name})" for m in windowed)
            raise MetricRowsRequired(
                f"cannot {doing} for experiment {self.id}: {named} sets its own attribution window "
                "(conversion_delay_hours / conversion_window_hours), so its goals count other events "
                "than the same goals of other metrics, and goal and unit rows have one row per goal. "
                'Use metric rows (--rows metrics, or "rows": "metrics").'
            )

    def goal_keys(self) -> list[GoalKey]:
        """The distinct goals (with dimension filters) the experiment needs, exposure first."""
        keys: dict[GoalKey, None] = {self.exposure_goal.key: None}
        for expression in self.expressions():
            for goal in goals(expression):
                keys.setdefault(goal.key, None)
        return list(keys)

    def dimension_names(self) -> list[str]:
        """Every dimension any goal of the experiment filters on, in first-seen order."""
        names: dict[str, None] = {}
        for key in self.goal_keys():
            for dimension in key.dimensions:
                names.setdefault(dimension.name, None)
        return list(names)

    @property
    def date_until(self) -> dt.date | None:
        """The last day whose data counts: ``min(date_to, date_for)``."""
        if self.date_to and self.date_for:
            return min(self.date_to, self.date_for)
        return self.date_to


def load_experiment(path: str | Path, *, catalog: Resolver | None = None) -> Experiment:
    """Read an :class:`Experiment` from a YAML, TOML or JSON file.

    :param catalog: resolves the metrics and checks the file names (:mod:`expsql.catalog`).
    :raises ExpressionError: a metric or check expression does not parse.
    :raises ExperimentError: anything else about the definition is wrong, or it names a metric
        the catalog does not hold (or names one and no catalog is given).
    """
    return validate_experiment(read_mapping(path), origin=str(path), catalog=catalog)


def validate_experiment(
    data: dict[str, Any], *, origin: str = "experiment", catalog: Resolver | None = None
) -> Experiment:
    """Build an :class:`Experiment`, turning pydantic's errors into expsql's typed ones; with a
    ``catalog``, the metrics and checks it names are resolved first."""
    data = refuse_references(data, origin=origin) if catalog is None else catalog.resolve(data, origin=origin)
    try:
        return Experiment.model_validate(data)
    except ValidationError as error:
        expression_error = expression_error_in(error)
        if expression_error is not None:
            raise expression_error from None
        raise ExperimentError(f"{origin}: {_describe(error)}") from None


def expression_error_in(error: ValidationError) -> ExpressionError | None:
    """The first :class:`ExpressionError` behind a pydantic ``ValidationError``, if any."""
    for detail in error.errors():
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, ExpressionError):
            return cause
    return None


def _describe(error: ValidationError) -> str:
    messages = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        message = detail["msg"].removeprefix("Value error, ")
        messages.append(f"{where}: {message}")
    return "; ".join(messages)
