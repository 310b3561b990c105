"""The experiment definition, shared by the library, the CLI and the REST API.

Field names follow ep-stats' ``/evaluate`` request body, so a body an ep-stats client sends is a
valid :class:`Experiment`. A key no model declares is refused, with the closest known key
(:class:`KnownKeysOnly`): a misspelt option must not run as its default. Expressions are parsed
when a model is built: a bad one fails there, with the metric or check id and the field in the
message.

Filters (ep-stats' ``Filter``, which ep-stats itself leaves to the DAO) restrict the data an
experiment is evaluated on. An *exposure event* is an event of the experiment's unit type whose
goal is ``exposure`` (any aggregation type); a *unit* is a (variant, unit id) pair. Each filter
keeps an event or a unit when its ``dimension`` column holds one of its ``value`` list (a NULL
cell never does):

- ``goal``: an event of any goal other than the exposure counts only if ``dimension ∈ value``;
  with ``goal`` set, only that goal's events are subject to the filter. Exposure events are never
  touched. Goal filters define which goal events exist, so the unit filters below see only the
  goal events they keep.
- ``exposure``: only units with at least one exposure event (in the date window) whose
  ``dimension ∈ value`` are evaluated; every event of a kept unit counts.
- ``trigger``: only units with at least one event of goal ``goal`` (the experiment's unit type,
  any aggregation type) in the window are evaluated, with ``dimension ∈ value`` when given.

Several filters combine with AND. Values are compared as the column's declared type
(:class:`~expsql.source.Source`): ``10`` on an integer column is the number 10, a value that does
not fit the type is an error when the query is planned.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from expsql.contracts import MULTIPLE_EXPOSURES_CHECK
from expsql.errors import ExperimentError, ExpressionError, MetricRowsRequired
from expsql.files import read_mapping
from expsql.grammar.ast import Dimension, Expr, Goal, GoalKey, goals
from expsql.grammar.names import expand_goal_names, grammar_name
from expsql.grammar.parse import parse_expression
from expsql.references import Resolver, refuse_references
from expsql.source import unit_type_name
from expsql.windows import (
    DELAY_FIELD,
    LENGTH_FIELD,
    AttributionWindow,
    DelayOverride,
    WindowOverride,
    whole_seconds,
)

Identifier = int | str
#: A filter value as JSON gives it; pydantic's smart union keeps ``true`` a bool and ``1`` an int.
FilterValue = str | int | float | bool
#: How results are read (:mod:`expsql.stats.readouts`): p-values and confidence intervals, or a posterior.
Inference = Literal["frequentist", "bayesian"]
#: How repeated looks are accounted for (:mod:`expsql.stats.sequential`, :mod:`expsql.stats.always_valid`).
Sequential = Literal["obrien-fleming", "ep-stats", "always-valid", "none"]


def _parse(text: str, context: str) -> Expr:
    try:
        expression = parse_expression(text)
    except ExpressionError as error:
        raise error.with_context(context) from None
    return expression


class KnownKeysOnly(BaseModel):
    """A model that refuses a key it does not know, naming the closest one it knows.

    pydantic's own ``extra="forbid"`` says only "Extra inputs are not permitted"; a misspelt key
    (``multple_exposures``) deserves the spelling it missed, in a file and in a Python call alike.
    """

    #: What the keys belong to, for the message ("unknown metric key ...").
    keys_of: ClassVar[str] = "model"

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = list(cls.model_fields)
        unknown = [key for key in data if key not in known]
        if unknown:
            raise ValueError(unknown_keys_message(cls.keys_of, [str(key) for key in unknown], known))
        return data


def unknown_keys_message(keys_of: str, unknown: list[str], known: list[str]) -> str:
    """``unknown metric key 'minimum_efect' (did you mean 'minimum_effect'?)``; when a key is like
    none of them, the known keys are listed."""
    described, unlike = [], False
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        described.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
        unlike = unlike or not close
    message = f"unknown {keys_of} key{'s' if len(unknown) > 1 else ''} {', '.join(described)}"
    return f"{message}; the {keys_of} keys are {', '.join(known)}" if unlike else message


#: Documented in the JSON schema; checked in :meth:`Metric.model_post_init`, whose message names the metric.
_PERCENTILE_RANGE: dict[str, Any] = {"minimum": 0, "exclusiveMaximum": 50}


class Metric(KnownKeysOnly):
    """A metric: ``nominator / denominator``, each a metric expression."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "metric"

    id: Identifier
    name: str
    nominator: str = Field(min_length=1)
    denominator: str = Field(min_length=1)
    minimum_effect: float | None = Field(default=None, gt=0)
    outlier_upper_percentile: float | None = Field(
        default=None,
        description="Winsorize: cap each unit's nominator at this upper percentile of all exposed "
        "units' nominators (1 caps at the 99th percentile); 0 ≤ x < 50. Needs metric rows.",
        json_schema_extra=_PERCENTILE_RANGE,
    )
    outlier_lower_percentile: float | None = Field(
        default=None,
        description="Winsorize: raise each unit's nominator to this lower percentile of all exposed "
        "units' nominators (1 raises to the 1st percentile); 0 ≤ x < 50. Needs metric rows.",
        json_schema_extra=_PERCENTILE_RANGE,
    )
    cuped: bool = Field(
        default=True,
        description="Adjust with the metric's pre-exposure value (CUPED) when the experiment sets "
        "cuped_lookback_days; false opts this metric out.",
    )
    conversion_delay_hours: DelayOverride = None
    conversion_window_hours: WindowOverride = None
    higher_is_better: bool = Field(
        default=True,
        description="false for a metric that improves when it falls (latency, refunds): verdict "
        "colours, chance_to_win, the risks and a one-sided test turn the other way.",
    )
    one_sided: bool = Field(
        default=False,
        description="Test one-sided, in the direction of improvement (frequentist inference).",
    )

    _nominator: Expr = PrivateAttr()
    _denominator: Expr = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._nominator = _parse(self.nominator, f"metric {self.id} nominator")
        self._denominator = _parse(self.denominator, f"metric {self.id} denominator")
        if not goals(self._nominator) and not goals(self._denominator):
            raise ValueError(f"metric {self.id}: neither nominator nor denominator references a goal")
        for side in ("upper", "lower"):
            percentile = getattr(self, f"outlier_{side}_percentile")
            # ``not 0 <= p < 50`` also refuses NaN, which compares false with everything.
            if percentile is not None and not 0 <= percentile < 50:
                raise ValueError(
                    f"metric {self.id}: outlier_{side}_percentile must be at least 0 and below 50, "
                    f"not {percentile}"
                )

    @property
    def winsorized(self) -> bool:
        """Whether the per-unit nominator is capped at a percentile on either side (0 caps nothing)."""
        return bool(self.outlier_upper_percentile or self.outlier_lower_percentile)

    @property
    def winsorizing_quantiles(self) -> tuple[Decimal | None, Decimal | None]:
        """The pooled quantiles the nominator is clipped to, ``(lower, upper)``, ``None`` for no cap.

        As ep-stats: lower ``l / 100``, upper ``1 - u / 100``; decimals, so ``u = 1`` is exactly
        ``0.99`` in the SQL (a float would print ``1 - 0.07`` as ``0.9299999999999999``).
        """
        lower, upper = self.outlier_lower_percentile, self.outlier_upper_percentile
        return (
            Decimal(repr(lower)) / 100 if lower else None,
            1 - Decimal(repr(upper)) / 100 if upper else None,
        )

    @property
    def nominator_expr(self) -> Expr:
        return self._nominator

    @property
    def denominator_expr(self) -> Expr:
        return self._denominator


class Check(KnownKeysOnly):
    """A data-quality check: ``SRM`` on one expression, ``SumRatio`` on two."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "check"

    id: Identifier
    name: str
    type: Literal["SRM", "SumRatio", "MultipleExposures"] = Field(
        default="SRM",
        description="SRM or SumRatio; MultipleExposures is reported by expsql itself for the "
        "exposures layout (its threshold is the experiment's max_multiple_exposures).",
    )
    nominator: str | None = None
    denominator: str = Field(min_length=1)
    confidence_level: float = Field(default=0.999, gt=0, lt=1)
    max_sum_ratio: float = Field(default=0.01, ge=0, le=1)
    conversion_delay_hours: DelayOverride = None
    conversion_window_hours: WindowOverride = None
    higher_is_better: bool = Field(
        default=True,
        description="false for a metric that improves when it falls (latency, refunds): verdict "
        "colours, chance_to_win, the risks and a one-sided test turn the other way.",
    )
    one_sided: bool = Field(
        default=False,
        description="Test one-sided, in the direction of improvement (frequentist inference).",
    )

    _nominator: Expr | None = PrivateAttr(default=None)
    _denominator: Expr = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        if self.type == "MultipleExposures" and self.id != MULTIPLE_EXPOSURES_CHECK:
            raise ValueError(
                f"check {self.id}: MultipleExposures is reported by expsql itself for the exposures "
                "layout; set max_multiple_exposures on the experiment instead of declaring it"
            )
        if self.type == "SumRatio" and not self.nominator:
            raise ValueError(f"check {self.id}: a SumRatio check needs a nominator")
        if self.type == "SumRatio" and self.nominator:
            self._nominator = _parse(self.nominator, f"check {self.id} nominator")
        self._denominator = _parse(self.denominator, f"check {self.id} denominator")
        if not goals(self._denominator):
            raise ValueError(f"check {self.id}: the denominator references no goal")

    @property
    def nominator_expr(self) -> Expr | None:
        return self._nominator

    @property
    def denominator_expr(self) -> Expr:
        return self._denominator


class Filter(KnownKeysOnly):
    """ep-stats' ``Filter``: keep the goal events or the units whose ``dimension`` is in ``value``.

    Scopes and their semantics are in the module docstring. ``trigger`` needs ``goal`` (and takes
    ``dimension`` with ``value`` optionally); ``exposure`` and ``goal`` need ``dimension`` and a
    non-empty ``value``; only ``goal`` and ``trigger`` take a ``goal``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "filter"

    scope: Literal["exposure", "goal", "trigger"] = Field(
        description="goal: drop goal events; exposure: keep units by their exposures; "
        "trigger: keep units that have an event of `goal`."
    )
    dimension: str | None = Field(default=None, description="A dimension column of the events table.")
    value: list[FilterValue] | None = Field(
        default=None, description="Values the dimension must hold (one of them), typed as its column."
    )
    goal: str | None = Field(
        default=None, description="trigger: the goal whose events trigger; goal: only this goal's events."
    )

    @field_validator("dimension")
    @classmethod
    def _dimension_name(cls, value: str | None) -> str | None:
        return None if value is None else grammar_name(value, "DIMENSION", "dimension")

    @field_validator("goal")
    @classmethod
    def _goal_name(cls, value: str | None) -> str | None:
        return None if value is None else grammar_name(value, "GOAL", "goal")

    @model_validator(mode="after")
    def _scope_fields(self) -> Filter:
        if self.scope == "trigger":
            if self.goal is None:
                raise ValueError("a trigger filter needs 'goal', the goal whose events trigger it")
            if (self.dimension is None) != (not self.value):
                raise ValueError("a trigger filter takes 'dimension' and 'value' together, or neither")
            return self
        if self.dimension is None:
            raise ValueError(f"a filter of scope {self.scope!r} needs 'dimension'")
        if not self.value:
            raise ValueError(f"a filter of scope {self.scope!r} needs 'value', a non-empty list")
        if self.scope == "exposure" and self.goal is not None:
            raise ValueError("an exposure filter takes no 'goal' (it applies to exposures)")
        return self


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
        return [m for m in self.metrics if m.cuped] if self.cuped_lookback_days else []

    def needs_metric_rows(self) -> bool:
        """Whether only metric rows can serve this experiment (:meth:`require_metric_rows`; a
        timeline is built over metric rows, :mod:`expsql.timeline_days`)."""
        return bool(
            self.winsorized_metrics() or self.windows_differ() or self.cuped_metrics() or self.timeline
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


__all__ = [
    "Check",
    "Dimension",
    "Experiment",
    "Filter",
    "Inference",
    "KnownKeysOnly",
    "Metric",
    "Prior",
    "Sequential",
    "expression_error_in",
    "load_experiment",
    "read_mapping",
    "unknown_keys_message",
    "validate_experiment",
]
